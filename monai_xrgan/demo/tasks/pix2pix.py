"""pix2pix demo: paired normal -> COVID-19 radiographs of the same patient, plus a 3-class classification set.

Every test pair also has a label map ``mask`` (an 8-bit PNG, :data:`PIX2PIX_MASK_LABELS`): the lung fields and, inside
them, the COVID-19 opacities of the target (where the finding replaces at least :data:`OPACITY_THRESHOLD` of the lung
air). A pair differs only inside the lungs, so the opacities are where a translation should change its input.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from monai_xrgan.demo.phantoms import render_chest_xray
from monai_xrgan.demo.tasks.base import DemoTask, DemoWriter, check_count, register_task

__all__ = ["OPACITY_THRESHOLD", "PIX2PIX_LABELS", "PIX2PIX_MASK_LABELS"]

PIX2PIX_LABELS = {"0": "normal", "1": "viral_pneumonia", "2": "covid"}
#: values of the pairs' ``mask`` label maps
PIX2PIX_MASK_LABELS = {"0": "outside the lungs", "1": "lung", "2": "COVID-19 opacity (inside the lungs)"}
#: a pixel is opacity when the finding replaces at least this fraction of its lung air
OPACITY_THRESHOLD = 0.1


def _pair_labels(info: dict[str, Any]) -> np.ndarray:
    """Label map of a COVID-19 render: 1 in the lung fields, 2 where the opacity reaches :data:`OPACITY_THRESHOLD`."""
    lung = info["lung_mask"]
    labels = lung.astype(np.uint8)
    labels[lung & (info["opacity"] >= OPACITY_THRESHOLD)] = 2
    return labels


def _build_pix2pix(
    writer: DemoWriter,
    num_train: int,
    num_val: int,
    num_test: int,
    num_normal: int,
    num_viral: int,
    num_covid: int,
    num_test_per_class: int,
) -> dict[str, Any]:
    """Paired normal/COVID-19 images of the same patient and acquisition (test pairs with their lung/opacity label
    maps), and an imbalanced classification set."""
    check_count("num_train", num_train, 1)
    content: dict[str, Any] = {"labels": dict(PIX2PIX_LABELS), "mask_labels": dict(PIX2PIX_MASK_LABELS)}
    for split, count in (("training", num_train), ("validation", num_val), ("test", num_test)):
        folder = {"training": "train", "validation": "val", "test": "test"}[split]
        items = []
        for i, patient_seed in enumerate(writer.patients(count)):
            anatomy, acquisition, finding_rngs = writer.patient(patient_seed)
            severity = "covid_severe" if i % 2 else "covid_mild"
            normal = render_chest_xray(anatomy, writer.size, "normal", acquisition, next(finding_rngs))
            covid, info = render_chest_xray(
                anatomy, writer.size, severity, acquisition, next(finding_rngs), return_info=True
            )
            stem = f"pairs/{folder}/{i:04d}"
            item = {
                "image": writer.write(f"{stem}_normal", normal, patient_seed, "normal", 1),
                "target": writer.write(f"{stem}_covid", covid, patient_seed, severity, 2),
            }
            if split == "test":
                item["mask"] = writer.write_labels(f"{stem}_mask", _pair_labels(info))
            items.append(item)
        content[split] = items
    per_class = {
        "classification_training": ("train", (num_normal, num_viral, num_covid)),
        "classification_test": ("test", (num_test_per_class,) * 3),
    }
    for key, (folder, class_counts) in per_class.items():
        items = []
        for label, count in enumerate(class_counts):
            name = PIX2PIX_LABELS[str(label)]
            for i, patient_seed in enumerate(writer.patients(count)):
                anatomy, acquisition, finding_rngs = writer.patient(patient_seed)
                finding = name if label < 2 else ("covid_severe" if i % 2 else "covid_mild")
                image = render_chest_xray(anatomy, writer.size, finding, acquisition, next(finding_rngs))
                items.append(
                    {
                        "image": writer.write(f"classification/{folder}/{name}_{i:04d}", image, patient_seed, finding),
                        "label": label,
                    }
                )
        content[key] = items
    return content


register_task(
    DemoTask(
        name="pix2pix",
        description="paired normal -> COVID-19 chest radiographs (same patient and acquisition) with lung/opacity "
        "label maps, and a 3-class classification set with scarce COVID-19 (normal / viral pneumonia / COVID-19)",
        build=_build_pix2pix,
        options={
            "num_train": (64, "training pairs"),
            "num_val": (8, "validation pairs"),
            "num_test": (32, "test pairs"),
            "num_normal": (64, "normal images in classification_training"),
            "num_viral": (64, "viral pneumonia images in classification_training"),
            "num_covid": (12, "COVID-19 images in classification_training (scarce, as in the paper)"),
            "num_test_per_class": (32, "images per class in classification_test (balanced)"),
        },
    )
)
