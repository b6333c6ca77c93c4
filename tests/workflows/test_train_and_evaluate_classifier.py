"""A classifier trained and tested on images held in memory (e.g. restored images), with the same settings."""

from __future__ import annotations

import torch
from monai.transforms import Identityd

from monai_xrgan.workflows.classifier import train_and_evaluate_classifier


def _items(n: int, seed: int) -> list[dict]:
    """32x32 images on [0, 1], held in memory; class 1 has a bright left half."""
    g = torch.Generator().manual_seed(seed)
    items = []
    for i in range(n):
        image = torch.rand(1, 32, 32, generator=g) * 0.3
        if i % 2:
            image[:, :16] += 0.6
        items.append({"image": image, "label": i % 2})
    return items


def test_classifier_of_images_in_memory_is_trained_then_tested_on_the_test_items():
    report = train_and_evaluate_classifier(
        _items(8, 0), _items(6, 1), 2, class_names=["normal", "covid"], positive_class="covid", image_size=32,
        preprocessing=Identityd("image"), arch="resnet18", epochs=1, batch_size=4, num_workers=0, device="cpu",
    )  # fmt: skip
    assert report["num_samples"] == 6 and report["class_names"] == ["normal", "covid"]
    assert report["positive"]["name"] == "covid" and report["positive"]["support"] == 3
    assert sum(map(sum, report["confusion_matrix"])) == 6
