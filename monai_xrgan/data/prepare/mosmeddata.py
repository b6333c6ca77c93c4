"""MosMedData: Chest CT Scans with COVID-19 Related Findings (Morozov et al. 2020, Moscow) → migan_ct domain lists.

Layout: ``ROOT/studies/CT-0/study_0001.nii.gz`` … ``CT-4`` (``ROOT`` may also be the ``studies`` folder itself);
``ROOT/masks`` and the registry spreadsheet are not needed. One study is one patient: splits are per study.

Severity → MI-GAN domain: CT-0 (no COVID-19 findings) → 0 normal; CT-1 (< 25 % of the lungs involved) and CT-2
(25-50 %) → 2 COVID-19 mild; CT-3 (50-75 %) and CT-4 (> 75 %) → 3 COVID-19 severe. MosMedData has no viral
pneumonia (domain 1): take it from CC-CCII's ``CP`` class (``cc_ccii`` preparer). Slice items take every
``--slice_step``-th slice of the central 60 % of each volume (from the NIfTI header, the voxels are not read).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import nibabel as nib

from monai_xrgan.data.prepare.common import migan_datalist, relative, require_dir, split_items, unreadable
from monai_xrgan.utils.errors import MissingInputError

__all__ = ["prepare", "LAYOUT", "DOMAINS", "SEVERITY_TO_DOMAIN"]

DOMAINS = {"0": "normal", "1": "viral_pneumonia", "2": "covid_mild", "3": "covid_severe"}
SEVERITY_TO_DOMAIN = {"CT-0": 0, "CT-1": 2, "CT-2": 2, "CT-3": 3, "CT-4": 3}
LAYOUT = "ROOT/studies/CT-0/study_0001.nii.gz … ROOT/studies/CT-4/study_NNNN.nii.gz (MosMedData COVID19_1110)"


def prepare(
    root: str | Path, val: float = 0.1, test: float = 0.1, seed: int = 0, slice_step: int = 4
) -> dict[str, Any]:
    """The datalist content for MosMedData at ``root`` (see the module docstring)."""
    root = require_dir(root, "the MosMedData folder (COVID19_1110)", LAYOUT)
    studies = root / "studies" if (root / "studies").is_dir() else root
    folders = {p.name.upper(): p for p in studies.iterdir() if p.is_dir() and re.fullmatch(r"CT-\d", p.name.upper())}
    if not folders:
        raise MissingInputError(f"{studies}: no CT-0 … CT-4 severity folders. Expected layout: {LAYOUT}")
    volumes = []
    for severity in sorted(folders):
        if severity not in SEVERITY_TO_DOMAIN:
            raise MissingInputError(f"{folders[severity]}: unknown severity folder; MosMedData has CT-0 … CT-4.")
        files = sorted(p for p in folders[severity].iterdir() if p.name.lower().endswith((".nii", ".nii.gz")))
        if not files:
            raise MissingInputError(
                f"{folders[severity]}: no NIfTI studies (study_NNNN.nii.gz). Expected layout: {LAYOUT}"
            )
        for f in files:
            try:
                shape = nib.load(f).shape
            except Exception as err:
                raise unreadable(f, err, "a NIfTI CT volume (study_NNNN.nii.gz)") from err
            if len(shape) < 3 or shape[2] < 2:
                raise unreadable(f, ValueError(f"shape {shape}"), "a 3-D NIfTI CT volume")
            volumes.append({"image": relative(f, root), "domain": SEVERITY_TO_DOMAIN[severity], "severity": severity,
                            "depth": int(shape[2])})  # fmt: skip
    splits = split_items(volumes, lambda v: v["image"], val, test, seed, stratum=lambda v: v["severity"])
    return migan_datalist(
        "MosMedData COVID19_1110", DOMAINS, SEVERITY_TO_DOMAIN, volumes, splits, slice_step,
        split=f"per study (one patient each), stratified by severity, val {val}, test {test}, seed {seed}",
    )  # fmt: skip
