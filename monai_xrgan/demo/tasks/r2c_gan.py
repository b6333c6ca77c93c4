"""R2C-GAN demo: unpaired poor-quality (blindly degraded) and good-quality radiographs, labelled normal / COVID-19.

Datalist lists (paths relative to the dataset folder, ``label`` 0 = normal, 1 = COVID-19):

* ``training_lq``: ``{"lq", "label", "degradation"}``, degraded radiographs (domain A);
* ``training_hq``: ``{"hq", "label"}``, clean radiographs of *other* patients (domain B: the two sets are unpaired);
* ``validation`` and ``test``: ``{"image", "hq", "label", "degradation"}``, a degraded radiograph (``image``, the
  model's input, the key every bundle's test split has) and its clean original ``hq``, the latter for evaluation only
  (PSNR/SSIM of the restoration).

Degradations are :class:`~monai_xrgan.transforms.degradation.RandDegradation` mixtures, seeded per patient;
``degradation`` names the draw (e.g. ``"motion_blur:3+poisson_noise:2"``). Classes alternate, so every list is
balanced; COVID-19 findings alternate between mild and severe.
"""

from __future__ import annotations

from typing import Any

import torch

from monai_xrgan.demo.phantoms import render_chest_xray
from monai_xrgan.demo.tasks.base import DemoTask, DemoWriter, check_count, register_task
from monai_xrgan.transforms.degradation import SEVERITY_LEVELS, RandDegradation
from monai_xrgan.utils.errors import ConfigError

__all__ = ["R2C_GAN_LABELS"]

R2C_GAN_LABELS = {"0": "normal", "1": "covid"}


def _build_r2c_gan(
    writer: DemoWriter,
    num_train_lq: int,
    num_train_hq: int,
    num_val: int,
    num_test: int,
    max_degradations: int,
    min_severity: int,
    max_severity: int,
) -> dict[str, Any]:
    """Write the four lists of the R2C-GAN demo (see the module docstring)."""
    check_count("num_train_lq", num_train_lq, 1)
    check_count("num_train_hq", num_train_hq, 1)
    check_count("max_degradations", max_degradations, 1)
    if not 1 <= min_severity <= max_severity <= SEVERITY_LEVELS:
        raise ConfigError(
            f"demo options need 1 <= min_severity <= max_severity <= {SEVERITY_LEVELS}, "
            f"got {min_severity} and {max_severity}."
        )
    degradation = RandDegradation(num_degradations=(1, max_degradations), severity=(min_severity, max_severity))
    content: dict[str, Any] = {"labels": dict(R2C_GAN_LABELS)}
    splits = {
        "training_lq": (num_train_lq, "train_lq"),
        "training_hq": (num_train_hq, "train_hq"),
        "validation": (num_val, "val"),
        "test": (num_test, "test"),
    }
    for split, (count, folder) in splits.items():
        items = []
        for i, patient_seed in enumerate(writer.patients(count)):
            anatomy, acquisition, finding_rngs = writer.patient(patient_seed)
            label = i % 2
            finding = "covid_severe" if i % 4 == 3 else "covid_mild" if label else "normal"
            image = render_chest_xray(anatomy, writer.size, finding, acquisition, next(finding_rngs))
            stem = f"{folder}/{i:04d}_{R2C_GAN_LABELS[str(label)]}"
            item: dict[str, Any] = {"label": label}
            if split != "training_lq":
                item["hq"] = writer.write(f"{stem}_hq", image, patient_seed, f"{finding}, good quality", 1)
            if split != "training_hq":
                degraded = degradation.set_random_state(seed=patient_seed)(torch.from_numpy(image)[None])[0].numpy()
                key = "lq" if split == "training_lq" else "image"
                item[key] = writer.write(f"{stem}_lq", degraded, patient_seed, f"{finding}, degraded", 2)
                item["degradation"] = degradation.describe()
            items.append(item)
        content[split] = items
    return content


register_task(
    DemoTask(
        name="r2c_gan",
        description="unpaired degraded (noise, blur, over/under-exposure) and clean chest radiographs labelled "
        "normal / COVID-19; validation and test keep each degraded image's clean original",
        build=_build_r2c_gan,
        options={
            "num_train_lq": (512, "degraded training images (domain A)"),
            "num_train_hq": (512, "clean training images of other patients (domain B)"),
            "num_val": (8, "validation pairs (degraded image + clean original)"),
            "num_test": (128, "test pairs (degraded image + clean original)"),
            "max_degradations": (3, "at most this many degradation kinds per image (at least 1)"),
            "min_severity": (1, f"lowest degradation severity (1-{SEVERITY_LEVELS})"),
            "max_severity": (4, f"highest degradation severity (1-{SEVERITY_LEVELS})"),
        },
    )
)
