"""MI-GAN demo: thorax CT volumes (NIfTI, or DICOM series with ``format=dicom``) of several lung domains, with a
slice-level datalist whose items carry their domain index.

Domains, in the order of the generator's one-hot condition: ``0`` normal, ``1`` viral pneumonia, ``2`` mild
COVID-19 and, with ``num_domains=4``, ``3`` severe COVID-19 (the paper's single-attribute tests). Every volume is a
different patient (:func:`~monai_xrgan.demo.ct_phantoms.synthetic_ct`), so domains are unpaired as in real data, and
mild COVID-19 is scarce in the training split (``num_train_mild`` volumes against ``num_train`` for the others): the
imbalance that MI-GAN's key migration branch and the augmentation experiment address. The defaults give the
experiment of ``python -m monai_xrgan.bundle reproduce migan_ct`` three test patients per domain and two scarce
mild COVID-19 training patients against four of each other domain.

Datalist lists (paths relative to the dataset folder):

* ``training``, ``validation``, ``test_slices``: ``{"image": volume, "slice": k, "domain": d}``, every
  ``slice_step``-th axial slice through the lungs (:func:`~monai_xrgan.transforms.ct.lung_slice_indices`); a slice of
  a patient with a finding is listed only where the finding covers at least ``min_finding_fraction`` of the slice's
  lung (slice-level labels: a basal COVID-19 opacity is not in the apical slices, which look normal);
* ``test``: ``{"image": volume, "domain": d}``, the test volumes themselves (inference translates every slice).

Slice indices refer to the volume as :class:`~monai_xrgan.transforms.LoadCTSliced` loads it (LPS axis order), which
is the phantom's own array order.
"""

from __future__ import annotations

import datetime
from typing import Any

import numpy as np

from monai_xrgan.demo.ct_phantoms import MAX_SIZE, MIN_SIZE, phantom_affine, synthetic_ct
from monai_xrgan.demo.tasks.base import DemoTask, DemoWriter, check_count, register_task
from monai_xrgan.io.ct import write_ct_dicom_series, write_ct_nifti
from monai_xrgan.transforms.ct import lung_slice_indices
from monai_xrgan.utils.errors import ConfigError

__all__ = ["MIGAN_DOMAINS", "auto_slice_step"]

#: domain names by index (the first ``num_domains`` are used)
MIGAN_DOMAINS = ("normal", "viral_pneumonia", "covid_mild", "covid_severe")
#: index of mild COVID-19, the scarce domain of the training split
_MILD = 2
#: ``slice_step=0`` keeps one slice every ``size // 32`` voxels: 12.5 mm of the phantoms' 400 mm field of view
_AUTO_STEP_DIVISOR = 32


def auto_slice_step(size: int) -> int:
    """The ``slice_step`` of ``slice_step=0``: every slice at 32 voxels, every 4th at 128 (about 12.5 mm apart)."""
    return max(1, int(size) // _AUTO_STEP_DIVISOR)


def _finding_fractions(info: dict[str, Any]) -> np.ndarray:
    """Per axial slice, the fraction of the lung voxels inside the finding's lesion mask (0 without lung)."""
    lung = info["lung_mask"].sum(axis=(0, 1))
    return info["lesion_mask"].sum(axis=(0, 1)) / np.maximum(lung, 1)


def _write_volume(
    writer: DemoWriter, relative: str, patient_seed: int, finding: str
) -> tuple[str, list[int], np.ndarray]:
    """Render one patient with ``finding``, write it; its relative path, lung slice indices and finding fractions."""
    volume, info = synthetic_ct(patient_seed, writer.size, finding, return_info=True)
    affine = phantom_affine(writer.size)
    if writer.fmt == "dicom":
        write_ct_dicom_series(
            writer.root / relative,
            volume,
            affine,
            patient_id=f"XRGAN-CT-{patient_seed:010d}",
            series_description=finding,
            uid_seed=f"{writer.seed}/{relative}",
            acquisition_time=datetime.datetime(2020, 3, 1, 9, 0, 0),
        )
    else:
        relative = f"{relative}.nii.gz"
        write_ct_nifti(writer.root / relative, volume, affine)
    return relative, lung_slice_indices(volume), _finding_fractions(info)


def _build_migan(
    writer: DemoWriter,
    num_domains: int,
    num_train: int,
    num_train_mild: int,
    num_val: int,
    num_test: int,
    slice_step: int,
    min_finding_fraction: float,
) -> dict[str, Any]:
    """Write the volumes of every split and domain and the slice-level lists (see the module docstring)."""
    if num_domains not in (3, 4):
        raise ConfigError(f"demo option num_domains must be 3 or 4 ({', '.join(MIGAN_DOMAINS)}), got {num_domains}.")
    counts = {"num_train": num_train, "num_train_mild": num_train_mild, "num_val": num_val, "num_test": num_test}
    for name, value in counts.items():
        check_count(name, value, 1)
    slice_step = check_count("slice_step", slice_step, 0) or auto_slice_step(writer.size)
    if isinstance(min_finding_fraction, bool) or not 0.0 <= min_finding_fraction < 1.0:
        raise ConfigError(f"demo option min_finding_fraction must be in [0, 1), got {min_finding_fraction!r}.")
    domains = MIGAN_DOMAINS[:num_domains]
    content: dict[str, Any] = {"domains": list(domains), "labels": {str(i): d for i, d in enumerate(domains)}}
    splits = {"training": (num_train, "train"), "validation": (num_val, "val"), "test": (num_test, "test")}
    for split, (count, folder) in splits.items():
        volumes, slices = [], []
        for domain, finding in enumerate(domains):
            n = num_train_mild if split == "training" and domain == _MILD else count
            for i, patient_seed in enumerate(writer.patients(n)):
                path, lungs, fractions = _write_volume(
                    writer, f"volumes/{folder}/{finding}_{i:03d}", patient_seed, finding
                )
                volumes.append({"image": path, "domain": domain})
                shown = [
                    k
                    for k in lungs[slice_step // 2 :: slice_step]
                    if domain == 0 or fractions[k] >= min_finding_fraction
                ]
                slices += [{"image": path, "slice": k, "domain": domain} for k in shown]
        if split == "test":
            content["test"], content["test_slices"] = volumes, slices
        else:
            content[split] = slices
    return content


register_task(
    DemoTask(
        name="migan",
        description="thorax CT volumes of normal / viral pneumonia / mild COVID-19 (/ severe COVID-19) lungs, "
        "unpaired, with scarce mild COVID-19 in training, and a slice-level datalist with domain labels",
        build=_build_migan,
        options={
            "num_domains": (3, "3 (normal, viral pneumonia, mild COVID-19) or 4 (+ severe COVID-19)"),
            "num_train": (4, "training volumes of each domain but mild COVID-19"),
            "num_train_mild": (2, "training volumes of mild COVID-19 (the scarce key domain)"),
            "num_val": (1, "validation volumes per domain"),
            "num_test": (3, "test volumes per domain"),
            "slice_step": (
                0,
                "keep every slice_step-th axial slice through the lungs in the slice lists; 0: one slice every "
                "~12.5 mm (size // 32: every slice at 32, every 4th at 128)",
            ),
            "min_finding_fraction": (
                0.05,
                "list a slice of a patient with a finding only where the finding covers at least this fraction of "
                "the slice's lung (0: every lung slice)",
            ),
        },
        size_range=(MIN_SIZE, MAX_SIZE),
    )
)
