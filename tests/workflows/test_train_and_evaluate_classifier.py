"""A classifier trained and tested on images held in memory (e.g. restored images), with the same settings."""

from __future__ import annotations

import json

import pytest
import torch
from monai.transforms import Identityd

from monai_xrgan.utils.errors import ConfigError
from monai_xrgan.workflows.classifier import labelled_items, train_and_evaluate_classifier, write_classifier_report


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


def test_labelled_items_keep_only_the_image_and_the_label():
    items = [{"lq": "a_lq.png", "hq": "a.png", "label": 1, "degradation": "blur"}]
    assert labelled_items(items, image_key="lq") == [{"image": "a_lq.png", "label": 1}]
    assert labelled_items([{"image": "b.png", "label": 0, "hq": "c.png"}]) == [{"image": "b.png", "label": 0}]
    with pytest.raises(ConfigError, match=r"items\[0\] must be a dict with 'lq' and 'label'"):
        labelled_items([{"image": "a.png", "label": 0}], image_key="lq")
    with pytest.raises(ConfigError, match="must be a list of dicts"):
        labelled_items({"image": "a.png", "label": 0})


def test_classifier_report_is_written_with_its_settings_and_items_made_on_demand(tmp_path):
    made = []

    def _train_items() -> list[dict]:
        made.append("train")
        return _items(8, 0)

    settings = {"arch": "resnet18", "epochs": 1, "batch_size": 4}
    path = write_classifier_report(
        tmp_path / "eval" / "baseline.json", "a baseline", _train_items, _items(6, 1), 2, ["normal", "covid"], "covid",
        split="test", classifier=settings, image_size=32, device="cpu", preprocessing=Identityd("image"),
    )  # fmt: skip
    record = json.loads(path.read_text())
    assert made == ["train"] and path == tmp_path / "eval" / "baseline.json"
    assert {k: record[k] for k in ("baseline", "split", "classifier")} == {
        "baseline": "a baseline", "split": "test", "classifier": settings,
    }  # fmt: skip
    assert record["report"]["num_samples"] == 6 and record["report"]["positive"]["name"] == "covid"
    with pytest.raises(ConfigError, match="classifier must be a dict"):
        write_classifier_report(tmp_path / "x.json", "x", [], [], 2, split="test", classifier="resnet18")
    assert not (tmp_path / "x.json").exists()
