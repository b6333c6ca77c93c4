"""JSRT digital image database (Shiraishi et al. 2000, Japanese Society of Radiological Technology) → the
diffusionxray_drr high-quality side, with the published nodule list.

Layout: ``ROOT/JPCLN001.IMG`` … ``JPCLN154.IMG`` (154 images with a nodule) and ``ROOT/JPCNN001.IMG`` …
``JPCNN093.IMG`` (93 without), found in sub-folders too, and the nodule list ``ROOT/CLNDAT_EN.txt`` (one line per
nodule image: file name, subtlety 1-5, diameter in mm, age, sex, x and y of the nodule centre in pixels, malignant /
benign, position, diagnosis). Each ``.IMG`` is a header-less 2048 × 2048 array of 12-bit values in 16-bit big-endian
words (pixel size 0.175 mm).

JSRT stores film density (a larger value is darker): the values are inverted (``4095 - value``, ``invert=False``
keeps them) so that bones are bright, and written as 16-bit PNG under ``--derived``. Each patient has one image, so the
split per image is per patient (stratified by nodule / no nodule). Lists ``training``/``validation``/``test`` of
``{"hq", "finding", ["nodule", "nodule_diameter_mm", "subtlety"]}`` with ``nodule`` the centre and radius as fractions
of the image side (``[x, y, r]``, the demo's convention): the HQ side that the bundle's stage 1
(:func:`~monai_xrgan.workflows.write_lq_pairs`) gives an LQ partner to.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from monai_xrgan.data.prepare.common import relative, require_dir, split_items, unreadable
from monai_xrgan.io.xray import write_png
from monai_xrgan.utils.errors import InputFileError, MissingInputError

__all__ = ["prepare", "LAYOUT", "read_img", "read_nodule_list", "SIZE", "PIXEL_MM"]

SIZE = 2048
PIXEL_MM = 0.175
LAYOUT = "ROOT/JPCLN001.IMG … JPCLN154.IMG, ROOT/JPCNN001.IMG … JPCNN093.IMG, ROOT/CLNDAT_EN.txt (JSRT)"


def read_img(path: Path, invert: bool = True) -> np.ndarray:
    """One JSRT ``.IMG`` as a ``(2048, 2048)`` float array in ``[0, 1]``, rows first (bright is dense by default)."""
    expected = SIZE * SIZE * 2
    if path.stat().st_size != expected:
        raise InputFileError(f"{path}: has {path.stat().st_size} bytes, a JSRT image has {expected} (2048 x 2048 "
                             "16-bit big-endian words, no header); re-download it or remove it.")  # fmt: skip
    values = np.fromfile(path, dtype=">u2").reshape(SIZE, SIZE).astype(np.float64)
    if values.max() > 4095:
        raise InputFileError(f"{path}: has values above 4095; a JSRT image holds 12-bit values (is it byte-swapped?).")
    return (4095.0 - values) / 4095.0 if invert else values / 4095.0


def read_nodule_list(path: Path) -> dict[str, dict[str, Any]]:
    """``CLNDAT_EN.txt``: file name → subtlety, diameter (mm) and centre (x, y in pixels)."""
    out = {}
    for number, line in enumerate(path.read_text(encoding="latin-1").splitlines(), 1):
        tokens = line.split()
        if not tokens or not tokens[0].upper().endswith(".IMG"):
            continue
        try:
            subtlety, size = int(tokens[1]), float(tokens[2])
            x, y = (float(v) for v in tokens[5:7])
        except (ValueError, IndexError) as err:
            raise unreadable(path, ValueError(f"line {number}: {line.strip()!r}"),
                             "JSRT's nodule list: name, subtlety, size, age, sex, x, y, ...") from err  # fmt: skip
        out[tokens[0].upper()] = {"subtlety": subtlety, "diameter_mm": size, "x": x, "y": y}
    return out


def prepare(
    root: str | Path, val: float = 0.1, test: float = 0.1, seed: int = 0, derived: str | Path | None = None,
    invert: bool = True,
) -> dict[str, Any]:  # fmt: skip
    """The datalist content for JSRT at ``root``; PNG copies go to ``derived`` (default
    ``ROOT/monai_xrgan_derived/jsrt``)."""
    root = require_dir(root, "the JSRT folder", LAYOUT)
    derived = Path(derived) if derived else root / "monai_xrgan_derived" / "jsrt"
    files = sorted(p for p in root.rglob("*") if p.suffix.upper() == ".IMG" and p.name.upper().startswith("JPC"))
    if not files:
        raise MissingInputError(f"{root}: no JSRT images (JPCLN*.IMG, JPCNN*.IMG). Expected layout: {LAYOUT}")
    lists = sorted(p for p in root.rglob("*") if p.name.upper() == "CLNDAT_EN.TXT")
    if any(f.name.upper().startswith("JPCLN") for f in files) and not lists:
        raise MissingInputError(f"{root / 'CLNDAT_EN.txt'}: JSRT's nodule list not found. Expected layout: {LAYOUT}")
    nodules = read_nodule_list(lists[0]) if lists else {}
    items = []
    for f in files:
        out = derived / f"{f.stem}.png"
        write_png(out, read_img(f, invert), bits=16)
        item: dict[str, Any] = {"hq": relative(out, root), "finding": "normal"}
        if f.name.upper().startswith("JPCLN"):
            if f.name.upper() not in nodules:
                raise MissingInputError(f"{lists[0]}: has no line for {f.name}; the nodule list must name every JPCLN "
                                        "image.")  # fmt: skip
            n = nodules[f.name.upper()]
            radius = n["diameter_mm"] / 2 / PIXEL_MM
            centre = [round(n["x"] / SIZE, 5), round(n["y"] / SIZE, 5), round(radius / SIZE, 5)]
            item.update(finding="nodule", nodule=centre, nodule_diameter_mm=n["diameter_mm"], subtlety=n["subtlety"])
        items.append(item)
    splits = split_items(items, lambda it: it["hq"], val, test, seed, stratum=lambda it: it["finding"])
    return {
        "name": "JSRT",
        "intensity": "4095 - value (bright is dense)" if invert else "value / 4095 as stored",
        "split": f"per image = per patient, stratified by finding, val {val}, test {test}, seed {seed}",
        **splits,
    }
