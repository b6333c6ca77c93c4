"""DRAI demo: labelled radiographs whose content (the finding) and style (acquisition and pose) factors are known.

Every item carries its class (``label``: the condition, i.e. the content) and the ground-truth style factors
(``style``, ordered as the datalist's ``style_factors``): the acquisition (:attr:`Acquisition.FACTOR_NAMES`:
exposure, contrast, noise, blur) and the patient's size and position (:attr:`Anatomy.FACTOR_NAMES`). Style is drawn
independently of the class, in ranges wider than :func:`~monai_xrgan.demo.phantoms.sample_acquisition`'s so that
every factor is visible at 64², which lets a disentanglement score be measured against the truth.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from monai_xrgan.demo.phantoms import Acquisition, Anatomy, render_chest_xray
from monai_xrgan.demo.tasks.base import DemoTask, DemoWriter, check_count, register_task

__all__ = ["DRAI_LABELS", "DRAI_FINDINGS", "STYLE_FACTORS", "STYLE_RANGES"]

DRAI_LABELS = {"0": "normal", "1": "viral_pneumonia", "2": "covid"}
#: phantom finding drawn for each class (COVID-19 is drawn severe: the mild form is hard to see at 64²)
DRAI_FINDINGS = ("normal", "viral_pneumonia", "covid_severe")
#: names of the values of each item's ``style`` list
STYLE_FACTORS = Acquisition.FACTOR_NAMES + Anatomy.FACTOR_NAMES
#: uniform ranges of the style factors drawn here (body size keeps the range of ``sample_anatomy``)
STYLE_RANGES = {
    "exposure": (0.75, 1.3),
    "contrast": (0.7, 1.5),
    "noise": (0.0, 0.05),
    "blur": (0.0, 4.0),
    "rotation": (-8.0, 8.0),
    "shift_x": (-0.08, 0.08),
    "shift_y": (-0.08, 0.08),
}


def _styled_patient(writer: DemoWriter, patient_seed: int) -> tuple[Anatomy, Acquisition, np.random.Generator]:
    """The patient of ``patient_seed`` with acquisition and pose redrawn in :data:`STYLE_RANGES`."""
    anatomy, acquisition, finding_rngs = writer.patient(patient_seed)
    rng = np.random.default_rng([patient_seed, 0xD4A1])
    style = {name: float(rng.uniform(*bounds)) for name, bounds in STYLE_RANGES.items()}
    pose = {k: style.pop(k) for k in ("rotation", "shift_x", "shift_y")}
    return (dataclasses.replace(anatomy, **pose), dataclasses.replace(acquisition, **style), next(finding_rngs))


def _build_drai(
    writer: DemoWriter, num_train_per_class: int, num_val_per_class: int, num_test_per_class: int
) -> dict[str, Any]:
    """A class-balanced labelled set per split; items ``{"image", "label", "style"}``."""
    check_count("num_train_per_class", num_train_per_class, 1)
    content: dict[str, Any] = {"labels": dict(DRAI_LABELS), "style_factors": list(STYLE_FACTORS)}
    splits = {
        "training": ("train", num_train_per_class),
        "validation": ("val", num_val_per_class),
        "test": ("test", num_test_per_class),
    }
    for split, (folder, count) in splits.items():
        items = []
        for label, finding in enumerate(DRAI_FINDINGS):
            name = DRAI_LABELS[str(label)]
            for i, patient_seed in enumerate(writer.patients(count)):
                anatomy, acquisition, finding_rng = _styled_patient(writer, patient_seed)
                image = render_chest_xray(anatomy, writer.size, finding, acquisition, finding_rng)
                factors = np.concatenate([acquisition.factors(), anatomy.factors()])
                items.append(
                    {
                        "image": writer.write(f"{folder}/{name}_{i:04d}", image, patient_seed, finding),
                        "label": label,
                        "style": [round(float(v), 6) for v in factors],
                    }
                )
        content[split] = items
    return content


register_task(
    DemoTask(
        name="drai",
        description="class-balanced labelled chest radiographs (normal / viral pneumonia / COVID-19) with their "
        "ground-truth style factors (exposure, contrast, noise, blur, body size, rotation, shift) per image",
        build=_build_drai,
        options={
            "num_train_per_class": (96, "training images per class"),
            "num_val_per_class": (8, "validation images per class"),
            "num_test_per_class": (32, "test images per class"),
        },
    )
)
