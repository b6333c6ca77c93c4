"""Any folder of real chest radiographs (PNG/JPEG/DICOM, sub-folders included) → the diffusionxray_drr HQ side.

Each image is taken as one patient (give one image per patient, or expect images of one patient in several splits).
Lists ``training``/``validation``/``test`` of ``{"hq"}``: the HQ side that the bundle's stage 1
(:func:`~monai_xrgan.workflows.write_lq_pairs`) gives an LQ partner to.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from monai_xrgan.data.prepare.common import image_files, relative, require_dir, split_items
from monai_xrgan.utils.errors import MissingInputError

__all__ = ["prepare", "LAYOUT"]

LAYOUT = "ROOT/**/*.png|jpg|dcm (any folder of chest radiographs)"


def prepare(root: str | Path, val: float = 0.1, test: float = 0.1, seed: int = 0) -> dict[str, Any]:
    """The datalist content for the radiographs under ``root``."""
    root = require_dir(root, "a folder of chest radiographs", LAYOUT)
    files = [f for f in image_files(root) if "monai_xrgan_derived" not in f.parts]
    if not files:
        raise MissingInputError(f"{root}: no images found. Expected layout: {LAYOUT}")
    items = [{"hq": relative(f, root)} for f in files]
    splits = split_items(items, lambda it: it["hq"], val, test, seed)
    return {"name": f"radiographs of {root.name}", "split": f"per image, val {val}, test {test}, seed {seed}",
            **splits}  # fmt: skip
