"""DiffusionXRay demo: DRRs of phantom CTs (with and without inserted nodules) and low-/high-quality radiograph pairs.

Datalist lists (paths relative to the dataset folder):

* ``training``, ``validation``, ``test``: ``{"lq", "hq", "finding"}`` pairs of one phantom patient: ``hq`` a sharp
  radiograph (:func:`~monai_xrgan.data.phantoms.render_chest_xray`), ``lq`` the same patient and finding rendered
  DRR-like (strong blur, no quantum noise, flatter contrast). They stand in for the LQ partners that stage 1
  (DDPM-LQ or MUNIT-LQ) makes from real HQ radiographs, so the restoration model trains out of the box; findings
  alternate between normal and a nodule.
* ``training_drr``: ``{"image"}``, DRRs of nodule-free phantom CTs (the LQ domain stage 1 learns).
* ``test_drr``: DRRs of other phantom CTs with one random nodule inserted before projection
  (:func:`~monai_xrgan.transforms.drr.insert_random_nodule`): ``image`` (with the nodule), ``clean`` (the same CT
  without it), ``ct`` (the nodule-free CT, NIfTI, HU), ``nodule`` (centre ``x, y`` and radius as fractions of the
  DRR width/height, the label :class:`~monai_xrgan.metrics.LesionCNRMetric` reads), ``nodule_center_voxel``,
  ``nodule_diameter_mm`` and ``nodule_density_hu``.

DRRs come from :class:`~monai_xrgan.transforms.drr.ProjectDRR` (60 keV, log display, longest side = ``size``).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import torch

from monai_xrgan.data.ct_io import write_ct_nifti
from monai_xrgan.data.ct_phantoms import MIN_SIZE as CT_MIN_SIZE
from monai_xrgan.data.ct_phantoms import synthetic_ct
from monai_xrgan.data.demo_tasks.base import DemoTask, DemoWriter, check_count, register_task
from monai_xrgan.data.phantoms import render_chest_xray
from monai_xrgan.transforms.drr import ProjectDRR, insert_random_nodule
from monai_xrgan.utils.errors import ConfigError

__all__ = ["LQ_BLUR", "LQ_CONTRAST"]

#: blur (sigma in pixels of a 256-pixel image) and contrast factor of the DRR-like LQ rendering of a pair
LQ_BLUR, LQ_CONTRAST = 4.0, 0.7
#: the HQ rendering: sharp, little quantum noise
_HQ_BLUR, _HQ_MAX_NOISE = 0.3, 0.01


def _pair(writer: DemoWriter, stem: str, patient_seed: int, finding: str) -> dict[str, Any]:
    """One LQ/HQ pair of a patient: the same anatomy, finding and exposure, rendered sharp and DRR-like."""
    anatomy, acquisition, finding_rngs = writer.patient(patient_seed)
    hq_acq = dataclasses.replace(acquisition, blur=_HQ_BLUR, noise=min(acquisition.noise, _HQ_MAX_NOISE))
    lq_acq = dataclasses.replace(acquisition, blur=LQ_BLUR, noise=0.0, contrast=acquisition.contrast * LQ_CONTRAST)
    finding_seed = int(next(finding_rngs).integers(0, 2**31 - 1))
    hq = render_chest_xray(anatomy, writer.size, finding, hq_acq, np.random.default_rng(finding_seed))
    lq = render_chest_xray(anatomy, writer.size, finding, lq_acq, np.random.default_rng(finding_seed))
    return {
        "lq": writer.write(f"{stem}_lq", lq, patient_seed, f"{finding}, DRR-like low quality", 1),
        "hq": writer.write(f"{stem}_hq", hq, patient_seed, f"{finding}, high quality", 2),
        "finding": finding,
    }


def _drr(projector: ProjectDRR, volume: np.ndarray, spacing: tuple[float, ...]) -> np.ndarray:
    """``(H, W)`` rows-first DRR of a HU volume (what the writer stores)."""
    return projector(torch.from_numpy(volume), spacing)[0].T.numpy()


def _build_diffusionxray(
    writer: DemoWriter,
    num_train: int,
    num_val: int,
    num_test: int,
    num_train_drr: int,
    num_test_drr: int,
    ct_size: int,
    nodule_min_mm: float,
    nodule_max_mm: float,
) -> dict[str, Any]:
    """Write the five lists of the DiffusionXRay demo (see the module docstring)."""
    check_count("num_train", num_train, 1)
    check_count("num_train_drr", num_train_drr, 1)
    if not CT_MIN_SIZE <= ct_size <= 256:
        raise ConfigError(f"demo option ct_size must be an integer in [{CT_MIN_SIZE}, 256], got {ct_size!r}.")
    if not 4.0 <= nodule_min_mm <= nodule_max_mm <= 30.0:
        raise ConfigError(
            f"demo options need 4 <= nodule_min_mm <= nodule_max_mm <= 30 (the DiffusionXRay range), got "
            f"{nodule_min_mm} and {nodule_max_mm}."
        )
    content: dict[str, Any] = {}
    for split, count, folder in (
        ("training", num_train, "train"),
        ("validation", num_val, "val"),
        ("test", num_test, "test"),
    ):
        content[split] = [
            _pair(writer, f"pairs/{folder}/{i:04d}", seed, "nodule" if i % 2 else "normal")
            for i, seed in enumerate(writer.patients(count))
        ]
    projector = ProjectDRR(spatial_size=writer.size)
    items = []
    for i, seed in enumerate(writer.patients(num_train_drr)):
        volume, info = synthetic_ct(seed, ct_size, return_info=True)
        items.append({"image": writer.write(f"drr/train/{i:04d}", _drr(projector, volume, info["spacing"]), seed,
                                            "DRR of a phantom CT")})  # fmt: skip
    content["training_drr"] = items
    items = []
    for i, seed in enumerate(writer.patients(num_test_drr)):
        volume, info = synthetic_ct(seed, ct_size, return_info=True)
        with_nodule, label = insert_random_nodule(
            volume, info["spacing"], np.random.default_rng([seed, 7]), lung_mask=info["lung_mask"],
            diameter_mm=(nodule_min_mm, nodule_max_mm),
        )  # fmt: skip
        layout = projector.layout(volume.shape, info["spacing"])
        x, y = layout.to_pixel(label["center_voxel"])
        radius = layout.to_pixels(label["diameter_mm"] / 2.0)
        stem = f"drr/test/{i:04d}"
        ct = f"ct/test/{i:04d}.nii.gz"
        write_ct_nifti(writer.root / ct, volume, info["affine"])
        items.append({
            "image": writer.write(f"{stem}_nodule", _drr(projector, with_nodule, info["spacing"]), seed, "DRR, nodule", 1),
            "clean": writer.write(f"{stem}_clean", _drr(projector, volume, info["spacing"]), seed, "DRR", 2),
            "ct": ct,
            "nodule": [(x + 0.5) / layout.out[0], (y + 0.5) / layout.out[1], radius / layout.out[0]],
            "nodule_center_voxel": list(label["center_voxel"]),
            "nodule_diameter_mm": label["diameter_mm"],
            "nodule_density_hu": label["density_hu"],
        })  # fmt: skip
    content["test_drr"] = items
    return content


register_task(
    DemoTask(
        name="diffusionxray",
        description="LQ/HQ chest radiograph pairs (DRR-like and sharp renderings of one patient), DRRs of phantom CTs, "
        "and DRRs with inserted nodules and their positions",
        build=_build_diffusionxray,
        options={
            "num_train": (32, "training LQ/HQ pairs"),
            "num_val": (4, "validation pairs"),
            "num_test": (8, "test pairs"),
            "num_train_drr": (32, "DRRs of nodule-free CTs (the LQ domain of stage 1)"),
            "num_test_drr": (8, "DRRs with an inserted nodule (and without it) for the nodule CNR"),
            "ct_size": (96, "voxels per side of the phantom CTs (400 mm field of view)"),
            "nodule_min_mm": (15.0, "smallest inserted nodule diameter in mm (DiffusionXRay: 4)"),
            "nodule_max_mm": (30.0, "largest inserted nodule diameter in mm (DiffusionXRay: 30)"),
        },
    )
)
