"""DiffusionXRay demo: LQ/HQ radiograph pairs with nodules at known positions, and DRRs of phantom CTs.

Everything is written at the model's size ``size`` (radiographs are rendered at ``max(size, 64)`` pixels, the
phantom's minimum, and area-averaged down). Datalist lists (paths relative to the dataset folder):

* ``training``, ``validation``, ``test``: ``{"lq", "hq", "finding"}`` pairs of one phantom patient: ``hq`` a sharp
  radiograph (:func:`~monai_xrgan.demo.phantoms.render_chest_xray`), ``lq`` the same patient and finding rendered
  DRR-like: a Gaussian blur of ``lq_blur_mm`` (in mm of the 400 mm field, so it matters at any size; it also wipes
  out the fine lung texture), no quantum noise, flatter contrast (display gamma x ``LQ_CONTRAST``). They stand in
  for the LQ partners that stage 1 (DDPM-LQ or MUNIT-LQ) makes from real HQ radiographs. Findings alternate between
  normal and a nodule (``nodule_min_mm``-``nodule_max_mm``); nodule items also have ``nodule``: centre ``x, y`` and
  radius as fractions of the image width/height (the label :class:`~monai_xrgan.metrics.LesionCNRMetric` reads).
* ``test_drr``: the in-distribution nodule set, held-out patients of the same phantom and degradation as the pairs:
  ``image`` (the DRR-like LQ rendering with a nodule), ``clean`` (the same without the nodule), ``hq`` (the sharp
  rendering with the nodule), ``nodule``, ``nodule_diameter_mm``.
* ``training_drr``: ``{"image"}``, DRRs of nodule-free phantom CTs (the LQ domain stage 1 learns).
* ``test_drr_ood``: the out-of-distribution nodule set, DRRs of other phantom CTs (another phantom than the pairs)
  with one random nodule inserted before projection (:func:`~monai_xrgan.transforms.drr.insert_random_nodule`):
  ``image``, ``clean``, ``ct`` (the nodule-free CT, NIfTI, HU), ``nodule``, ``nodule_center_voxel``,
  ``nodule_diameter_mm`` and ``nodule_density_hu``.

DRRs come from :class:`~monai_xrgan.transforms.drr.ProjectDRR` (60 keV, log display, longest side = ``size``).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import torch
from monai.transforms import Resize

from monai_xrgan.demo.ct_phantoms import MIN_SIZE as CT_MIN_SIZE
from monai_xrgan.demo.ct_phantoms import synthetic_ct
from monai_xrgan.demo.phantoms import MAX_SIZE, MIN_SIZE, render_chest_xray
from monai_xrgan.demo.tasks.base import DemoTask, DemoWriter, check_count, register_task
from monai_xrgan.io.ct import write_ct_nifti
from monai_xrgan.transforms.drr import ProjectDRR, insert_random_nodule
from monai_xrgan.utils.errors import ConfigError

__all__ = ["LQ_BLUR_MM", "LQ_CONTRAST", "FIELD_MM"]

#: default blur (Gaussian sigma, mm) and contrast factor of the DRR-like LQ rendering of a pair
LQ_BLUR_MM, LQ_CONTRAST = 7.5, 0.7
#: width of the phantoms' field of view in mm (``Acquisition.blur`` is in pixels of a 256-pixel image of it)
FIELD_MM = 400.0
#: the HQ rendering: sharp, little quantum noise
_HQ_BLUR, _HQ_MAX_NOISE = 0.3, 0.01
#: smallest size the demo writes (the radiograph phantom renders at 64 pixels or more and is area-averaged down)
_MIN_SIZE = 32


def _render(writer: DemoWriter, anatomy: Any, finding: str, acquisition: Any, finding_seed: int,
            nodule_mm: float | None) -> tuple[np.ndarray, dict[str, Any]]:  # fmt: skip
    """One radiograph at ``writer.size`` (rendered at 64 pixels or more) and its finding's info."""
    size = max(writer.size, MIN_SIZE)
    image, info = render_chest_xray(anatomy, size, finding, acquisition, np.random.default_rng(finding_seed),
                                    nodule_diameter_mm=nodule_mm, return_info=True)  # fmt: skip
    if size != writer.size:
        image = Resize((writer.size, writer.size), mode="area")(image[None])[0].numpy()
    return image, info


def _pair(writer: DemoWriter, stem: str, patient_seed: int, finding: str, nodule_mm: tuple[float, float],
          lq_blur_mm: float, clean: bool = False) -> dict[str, Any]:  # fmt: skip
    """One LQ/HQ pair of a patient: the same anatomy, finding and exposure, rendered sharp and DRR-like (with
    ``clean``, also the LQ rendering without the finding)."""
    anatomy, acquisition, finding_rngs = writer.patient(patient_seed)
    hq_acq = dataclasses.replace(acquisition, blur=_HQ_BLUR, noise=min(acquisition.noise, _HQ_MAX_NOISE))
    lq_acq = dataclasses.replace(acquisition, blur=lq_blur_mm * 256.0 / FIELD_MM, noise=0.0,
                                 contrast=acquisition.contrast * LQ_CONTRAST)  # fmt: skip
    rng = next(finding_rngs)
    finding_seed = int(rng.integers(0, 2**31 - 1))
    diameter = float(rng.uniform(*nodule_mm)) if finding == "nodule" else None
    hq, info = _render(writer, anatomy, finding, hq_acq, finding_seed, diameter)
    lq, _ = _render(writer, anatomy, finding, lq_acq, finding_seed, diameter)
    item: dict[str, Any] = {
        "lq": writer.write(f"{stem}_lq", lq, patient_seed, f"{finding}, DRR-like low quality", 1),
        "hq": writer.write(f"{stem}_hq", hq, patient_seed, f"{finding}, high quality", 2),
        "finding": finding,
    }
    if finding == "nodule":
        size = max(writer.size, MIN_SIZE)
        row, col = info["nodule_center"]
        item["nodule"] = [(col + 0.5) / size, (row + 0.5) / size, info["nodule_diameter_px"] / 2.0 / size]
        item["nodule_diameter_mm"] = info["nodule_diameter_mm"]
    if clean:
        item["clean"] = writer.write(f"{stem}_clean", _render(writer, anatomy, "normal", lq_acq, finding_seed, None)[0],
                                     patient_seed, "normal, DRR-like low quality", 3)  # fmt: skip
    return item


def _drr(projector: ProjectDRR, volume: np.ndarray, spacing: tuple[float, ...]) -> np.ndarray:
    """``(H, W)`` rows-first DRR of a HU volume (what the writer stores)."""
    return projector(torch.from_numpy(volume), spacing)[0].T.numpy()


def _build_diffusionxray(
    writer: DemoWriter,
    num_train: int,
    num_val: int,
    num_test: int,
    num_test_drr: int,
    num_train_drr: int,
    num_test_drr_ood: int,
    ct_size: int,
    nodule_min_mm: float,
    nodule_max_mm: float,
    lq_blur_mm: float,
) -> dict[str, Any]:
    """Write the six lists of the DiffusionXRay demo (see the module docstring)."""
    check_count("num_train", num_train, 1)
    check_count("num_train_drr", num_train_drr, 1)
    if not CT_MIN_SIZE <= ct_size <= 256:
        raise ConfigError(f"demo option ct_size must be an integer in [{CT_MIN_SIZE}, 256], got {ct_size!r}.")
    if not 4.0 <= nodule_min_mm <= nodule_max_mm <= 30.0:
        raise ConfigError(
            f"demo options need 4 <= nodule_min_mm <= nodule_max_mm <= 30 (the DiffusionXRay range), got "
            f"{nodule_min_mm} and {nodule_max_mm}."
        )
    if not 0.0 <= lq_blur_mm <= 50.0:
        raise ConfigError(f"demo option lq_blur_mm must be in [0, 50] mm, got {lq_blur_mm!r}.")
    nodule_mm = (nodule_min_mm, nodule_max_mm)
    content: dict[str, Any] = {}
    for split, count, folder in (
        ("training", num_train, "train"),
        ("validation", num_val, "val"),
        ("test", num_test, "test"),
    ):
        content[split] = [
            _pair(writer, f"pairs/{folder}/{i:04d}", seed, "nodule" if i % 2 else "normal", nodule_mm, lq_blur_mm)
            for i, seed in enumerate(writer.patients(count))
        ]
    content["test_drr"] = [
        {"image": item.pop("lq"), **item}
        for item in (_pair(writer, f"nodules/test/{i:04d}", seed, "nodule", nodule_mm, lq_blur_mm, clean=True)
                     for i, seed in enumerate(writer.patients(num_test_drr)))
    ]  # fmt: skip
    projector = ProjectDRR(spatial_size=writer.size)
    items = []
    for i, seed in enumerate(writer.patients(num_train_drr)):
        volume, info = synthetic_ct(seed, ct_size, return_info=True)
        items.append({"image": writer.write(f"drr/train/{i:04d}", _drr(projector, volume, info["spacing"]), seed,
                                            "DRR of a phantom CT")})  # fmt: skip
    content["training_drr"] = items
    items = []
    for i, seed in enumerate(writer.patients(num_test_drr_ood)):
        volume, info = synthetic_ct(seed, ct_size, return_info=True)
        with_nodule, label = insert_random_nodule(
            volume, info["spacing"], np.random.default_rng([seed, 7]), lung_mask=info["lung_mask"],
            diameter_mm=nodule_mm,
        )  # fmt: skip
        layout = projector.layout(volume.shape, info["spacing"])
        x, y = layout.to_pixel(label["center_voxel"])
        radius = layout.to_pixels(label["diameter_mm"] / 2.0)
        stem = f"drr/test/{i:04d}"
        ct = f"ct/test/{i:04d}.nii.gz"
        write_ct_nifti(writer.root / ct, volume, info["affine"])
        items.append({
            "image": writer.write(
                f"{stem}_nodule", _drr(projector, with_nodule, info["spacing"]), seed, "DRR, nodule", 1),
            "clean": writer.write(f"{stem}_clean", _drr(projector, volume, info["spacing"]), seed, "DRR", 2),
            "ct": ct,
            "nodule": [(x + 0.5) / layout.out[0], (y + 0.5) / layout.out[1], radius / layout.out[0]],
            "nodule_center_voxel": list(label["center_voxel"]),
            "nodule_diameter_mm": label["diameter_mm"],
            "nodule_density_hu": label["density_hu"],
        })  # fmt: skip
    content["test_drr_ood"] = items
    return content


register_task(
    DemoTask(
        name="diffusionxray",
        description="LQ/HQ chest radiograph pairs (DRR-like and sharp renderings of one patient, nodules at known "
        "positions), held-out nodule images of the same kind, DRRs of phantom CTs, and DRRs with inserted nodules",
        build=_build_diffusionxray,
        options={
            "num_train": (32, "training LQ/HQ pairs"),
            "num_val": (4, "validation pairs"),
            "num_test": (8, "test pairs"),
            "num_test_drr": (8, "held-out LQ renderings with a nodule (in-distribution nodule set)"),
            "num_train_drr": (32, "DRRs of nodule-free CTs (the LQ domain of stage 1)"),
            "num_test_drr_ood": (8, "DRRs of phantom CTs with an inserted nodule (out-of-distribution nodule set)"),
            "ct_size": (96, "voxels per side of the phantom CTs (400 mm field of view)"),
            "nodule_min_mm": (15.0, "smallest nodule diameter in mm (DiffusionXRay: 4)"),
            "nodule_max_mm": (30.0, "largest nodule diameter in mm (DiffusionXRay: 30)"),
            "lq_blur_mm": (LQ_BLUR_MM, "Gaussian blur sigma of the LQ rendering in mm of the 400 mm field"),
        },
        size_range=(_MIN_SIZE, MAX_SIZE),
    )
)
