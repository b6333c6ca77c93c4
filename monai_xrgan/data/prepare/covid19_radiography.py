"""COVID-19 Radiography Database (Chowdhury et al. 2020, Rahman et al. 2021; Kaggle) → pix2pix_cxr and drai_cxr lists.

Both published layouts are read:

- first release: ``ROOT/COVID-19/*.png``, ``ROOT/NORMAL/*.png``, ``ROOT/Viral Pneumonia/*.png``;
- later releases: ``ROOT/COVID/images/*.png``, ``ROOT/Normal/images/*.png``, ``ROOT/Viral Pneumonia/images/*.png``
  (``ROOT/Lung_Opacity/images`` is listed apart as ``lung_opacity``: it is none of the three classes).

Labels: 0 normal, 1 viral pneumonia, 2 COVID-19. The database has no patient identifiers, so the splits are per image
(stratified by class). Lists written:

- ``training``/``validation``/``test``: for ``--bundle drai_cxr`` (and ``classification``), ``{"image", "label"}``;
  for ``--bundle pix2pix_cxr``, normal → COVID-19 pairs ``{"image", "target"}``. The database has no pairs of one
  patient: each COVID-19 image of a split is paired with a different, randomly drawn normal image of the same split
  (pix2pix trained on unaligned pairs, the only mode these images allow; the L1 term then pulls towards the target
  class rather than a registered target);
- ``unpaired_normal``/``unpaired_covid``: the training images of each class, for unpaired translators;
- ``classification_training``/``classification_test``: ``{"image", "label"}`` of the training and test splits (the
  pix2pix augmentation experiment).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from monai_xrgan.data.prepare.common import image_files, relative, require_dir, split_items
from monai_xrgan.utils.errors import ConfigError, MissingInputError

__all__ = ["prepare", "LAYOUT", "LABELS"]

LABELS = {"0": "normal", "1": "viral_pneumonia", "2": "covid"}
LAYOUT = (
    "ROOT/COVID-19/, ROOT/NORMAL/, ROOT/Viral Pneumonia/ (first release) or ROOT/COVID/images/, "
    "ROOT/Normal/images/, ROOT/Viral Pneumonia/images/ [, ROOT/Lung_Opacity/images/] (later releases)"
)
_FIRST = {0: "NORMAL", 1: "Viral Pneumonia", 2: "COVID-19"}
_LATER = {0: "Normal", 1: "Viral Pneumonia", 2: "COVID"}
BUNDLES = ("pix2pix_cxr", "drai_cxr")


def _class_folders(root: Path) -> tuple[dict[int, Path], Path | None]:
    names = {p.name.lower(): p for p in root.iterdir() if p.is_dir()}
    if all(n.lower() in names and (names[n.lower()] / "images").is_dir() for n in _LATER.values()):
        opacity = names.get("lung_opacity")
        return {k: names[n.lower()] / "images" for k, n in _LATER.items()}, opacity / "images" if opacity else None
    if all(n.lower() in names for n in _FIRST.values()):
        return {k: names[n.lower()] for k, n in _FIRST.items()}, None
    raise MissingInputError(
        f"{root}: not a COVID-19 Radiography Database folder (folders found: {sorted(p.name for p in names.values())}"
        f"). Expected layout: {LAYOUT}"
    )


def _pairs(normals: list[dict], covids: list[dict], rng: np.random.Generator) -> list[dict[str, Any]]:
    if len(normals) < len(covids):
        raise ConfigError(f"pix2pix pairs need at least as many normal as COVID-19 images, got {len(normals)} < "
                          f"{len(covids)}.")  # fmt: skip
    chosen = rng.choice(len(normals), size=len(covids), replace=False)
    return [{"image": normals[i]["image"], "target": c["image"]} for i, c in zip(chosen, covids)]


def prepare(
    root: str | Path, val: float = 0.1, test: float = 0.1, seed: int = 0, bundle: str = "drai_cxr"
) -> dict[str, Any]:
    """The datalist content for the database at ``root`` (see the module docstring)."""
    if bundle not in BUNDLES:
        raise ConfigError(f"--bundle must be one of {BUNDLES} for covid19_radiography, got {bundle!r}.")
    root = require_dir(root, "the COVID-19 Radiography Database folder", LAYOUT)
    folders, opacity = _class_folders(root)
    items = []
    for label, folder in folders.items():
        files = image_files(folder, recursive=False)
        if not files:
            raise MissingInputError(f"{folder}: no images in this class folder. Expected layout: {LAYOUT}")
        items += [{"image": relative(f, root), "label": label} for f in files]
    splits = split_items(items, lambda it: it["image"], val, test, seed, stratum=lambda it: it["label"])
    content: dict[str, Any] = {
        "name": "COVID-19 Radiography Database",
        "labels": LABELS,
        "bundle": bundle,
        "split": f"per image (no patient ids), stratified by class, val {val}, test {test}, seed {seed}",
    }
    if bundle == "pix2pix_cxr":
        rng = np.random.default_rng(seed)
        for name, split in splits.items():
            by = {k: [it for it in split if it["label"] == k] for k in (0, 2)}
            content[name] = _pairs(by[0], by[2], rng)
        content["pairing"] = "unaligned: each COVID-19 image with a random normal image of the same split"
    else:
        content.update(splits)
    content["unpaired_normal"] = [{"image": it["image"]} for it in splits["training"] if it["label"] == 0]
    content["unpaired_covid"] = [{"image": it["image"]} for it in splits["training"] if it["label"] == 2]
    content["classification_training"] = splits["training"]
    content["classification_test"] = splits["test"]
    if opacity is not None:
        content["lung_opacity"] = [{"image": relative(f, root)} for f in image_files(opacity, recursive=False)]
    return content
