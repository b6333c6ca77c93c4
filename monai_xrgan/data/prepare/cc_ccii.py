"""CC-CCII: China Consortium of Chest CT Image Investigation (Zhang et al., Cell 2020) → migan_ct domain lists.

Layout: ``ROOT/<class>/<patient_id>/<scan_id>/<slice>.png`` (or ``.jpg``) with ``<class>`` one of ``NCP`` (novel
coronavirus pneumonia, COVID-19), ``CP`` (common pneumonia) and ``Normal``. Class → MI-GAN domain: Normal → 0
normal, CP → 1 viral pneumonia (CP mixes viral and bacterial pneumonia; the closest class the dataset has), NCP → 2
COVID-19 (mild: CC-CCII does not grade severity). Splits are per patient (all scans of a patient in one split).

The slices are 8-bit images already shown in a lung window, not Hounsfield units, and MI-GAN's pipeline reads CT
volumes in HU: each scan is stacked (slices in the numeric order of their names) into a NIfTI volume under
``--derived`` with ``HU = -1350 + grey * 1500 / 255``, the inverse of the lung window (level -600, width 1500) the
bundle applies, so that the bundle sees the published grey levels (to within 1/255 after int16 rounding). The voxel
spacing is unknown (1 mm written). Slice items take every ``--slice_step``-th slice of the central 60 % of a scan.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from monai_xrgan.data.prepare.common import (
    find_dir,
    image_files,
    migan_datalist,
    relative,
    require_dir,
    split_items,
    unreadable,
)
from monai_xrgan.io.ct import write_ct_nifti
from monai_xrgan.utils.errors import InputFileError, MissingInputError

__all__ = ["prepare", "LAYOUT", "CLASS_TO_DOMAIN", "grey_to_hu"]

CLASS_TO_DOMAIN = {"Normal": 0, "CP": 1, "NCP": 2}
DOMAINS = {"0": "normal", "1": "viral_pneumonia", "2": "covid_mild"}
LAYOUT = "ROOT/{NCP,CP,Normal}/<patient_id>/<scan_id>/<slice>.png (CC-CCII)"
_LPS = np.diag([-1.0, -1.0, 1.0, 1.0])  # RAS affine of an array stored left-to-right, anterior-to-posterior


def grey_to_hu(grey: np.ndarray) -> np.ndarray:
    """8-bit lung-window grey levels back to HU (inverse of the window level -600, width 1500)."""
    return -1350.0 + np.asarray(grey, dtype=np.float64) * (1500.0 / 255.0)


def _number(path: Path) -> tuple[int, str]:
    digits = re.findall(r"\d+", path.stem)
    return (int(digits[-1]) if digits else -1, path.name)


def _stack(scan: Path, out: Path) -> int:
    """Write the scan folder's slices as one NIfTI volume in HU and return its number of slices."""
    files = sorted(image_files(scan, recursive=False), key=_number)
    if len(files) < 2:
        raise MissingInputError(f"{scan}: a CC-CCII scan folder needs its slice images (found {len(files)}). "
                                f"Expected layout: {LAYOUT}")  # fmt: skip
    slices = []
    for f in files:
        try:
            with Image.open(f) as im:
                slices.append(np.asarray(im.convert("L")))
        except Exception as err:
            raise unreadable(f, err, "an 8-bit CT slice image") from err
        if slices[-1].shape != slices[0].shape:
            raise InputFileError(f"{f}: slice of size {slices[-1].shape} in a scan of {slices[0].shape} slices "
                                 f"({files[0].name}); one scan folder must hold one series.")  # fmt: skip
    volume = grey_to_hu(np.stack(slices, axis=-1).transpose(1, 0, 2))  # (rows, cols, k) -> (X, Y, Z)
    write_ct_nifti(out, volume, _LPS)
    return len(files)


def prepare(
    root: str | Path, val: float = 0.1, test: float = 0.1, seed: int = 0, slice_step: int = 4,
    derived: str | Path | None = None,
) -> dict[str, Any]:  # fmt: skip
    """The datalist content for CC-CCII at ``root``; volumes go to ``derived`` (default
    ``ROOT/monai_xrgan_derived/cc_ccii``)."""
    root = require_dir(root, "the CC-CCII folder", LAYOUT)
    derived = Path(derived) if derived else root / "monai_xrgan_derived" / "cc_ccii"
    folders = {name: find_dir(root, (name,), "a CC-CCII class folder", LAYOUT) for name in CLASS_TO_DOMAIN}
    volumes = []
    for name, domain in CLASS_TO_DOMAIN.items():
        folder = folders[name]
        patients = sorted(p for p in folder.iterdir() if p.is_dir())
        if not patients:
            raise MissingInputError(f"{folder}: no patient folders. Expected layout: {LAYOUT}")
        for patient in patients:
            scans = sorted(p for p in patient.iterdir() if p.is_dir())
            if not scans:
                raise MissingInputError(f"{patient}: no scan folders in this patient folder. Expected layout: {LAYOUT}")
            for scan in scans:
                out = derived / name / patient.name / f"{scan.name}.nii.gz"
                depth = _stack(scan, out)
                volumes.append({"image": relative(out, root), "domain": domain, "patient": f"{name}/{patient.name}",
                                "depth": depth})  # fmt: skip
    splits = split_items(volumes, lambda v: v["patient"], val, test, seed, stratum=lambda v: v["domain"])
    return migan_datalist(
        "CC-CCII", DOMAINS, CLASS_TO_DOMAIN, volumes, splits, slice_step,
        intensity="HU = -1350 + grey * 1500 / 255 (inverse lung window), spacing unknown (1 mm)",
        split=f"per patient, stratified by class, val {val}, test {test}, seed {seed}",
    )  # fmt: skip
