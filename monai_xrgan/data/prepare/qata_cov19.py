"""QaTa-COV19 (Degerli et al. 2021, Qatar University / Tampere University; Kaggle) → r2c_gan_cxr unpaired lists.

Layout: ``ROOT/COVID-19/`` and ``ROOT/Control_Group/`` (or ``Control Group``), images found in their sub-folders too
(the control group ships as ``Control_Group_I``, ``Control_Group_II`` …). Labels (R2C-GAN): 0 control (normal), 1
COVID-19. The database has no patient identifiers: splits are per image, stratified by label.

Which images are low quality (the R2C-GAN ``lq`` domain) is not part of the download; the rule is one of:

- ``--lq_list FILE``: a text file naming the low-quality images, one path per line relative to ``ROOT`` (a user's
  or a radiologist's selection). Those training images form ``training_lq``; the other training images
  ``training_hq``;
- default: the training images are split in two disjoint halves (unpaired, as in the paper); the project's blind
  degradations (:class:`~monai_xrgan.transforms.degradation.RandDegradation`: 1 to 3 kinds, severities 1 to 5,
  seeded per image) are applied to the first half and written as PNG under ``--derived``; each item records its draw
  in ``degradation`` (e.g. ``"motion_blur:3+poisson_noise:2"``).

``validation``/``test`` are ``{"image", "hq", "label", "degradation"}`` pairs: held-out images degraded the same way
(a real low-quality image has no clean original to score against). With ``--lq_list``, the listed images of the
validation/test splits are kept apart as ``test_real_lq`` (no ``hq``) instead.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch

from monai_xrgan.data.prepare.common import find_dir, image_files, relative, require_dir, split_items, unreadable
from monai_xrgan.io.xray import write_png
from monai_xrgan.transforms.degradation import RandDegradation
from monai_xrgan.transforms.xray import LoadXRay
from monai_xrgan.utils.errors import MissingInputError, UserInputError

__all__ = ["prepare", "LAYOUT", "LABELS"]

LABELS = {"0": "normal", "1": "covid"}
LAYOUT = "ROOT/COVID-19/**/*.png and ROOT/Control_Group/**/*.png (QaTa-COV19)"


def _read_list(path: Path, root: Path) -> set[str]:
    if not path.is_file():
        raise MissingInputError(f"{path}: --lq_list not found; give a text file with one image path (relative to "
                                f"{root}) per line.")  # fmt: skip
    names = {line.strip().replace("\\", "/") for line in path.read_text(encoding="utf-8").splitlines()}
    names.discard("")
    missing = sorted(n for n in names if not (root / n).is_file())
    if missing:
        raise MissingInputError(f"{path}: names {len(missing)} image(s) not found under {root}, first {missing[0]!r}; "
                                "paths must be relative to --root.")  # fmt: skip
    return names


class _Degrader:
    """Blind degradations seeded per image, written as 8-bit PNG under ``derived``."""

    def __init__(self, root: Path, derived: Path, seed: int) -> None:
        self.root, self.derived, self.seed = root, derived, seed
        self.loader = LoadXRay(keep_dicom_tags=False)
        self.degradation = RandDegradation(num_degradations=(1, 3), severity=(1, 5))

    def __call__(self, image: str, index: int) -> tuple[str, str]:
        source = self.root / image
        try:
            clean = self.loader(source)
        except UserInputError as err:
            raise unreadable(source, err, "a PNG/JPEG chest radiograph") from err
        seed = int(np.random.default_rng([self.seed, index]).integers(2**31))
        lq = self.degradation.set_random_state(seed=seed)(torch.as_tensor(clean.as_tensor()))
        out = self.derived / Path(image).with_suffix(".png")
        write_png(out, np.asarray(lq[0]).T)
        return relative(out, self.root), self.degradation.describe()


def prepare(
    root: str | Path,
    val: float = 0.1,
    test: float = 0.1,
    seed: int = 0,
    lq_list: str | Path | None = None,
    derived: str | Path | None = None,
) -> dict[str, Any]:
    """The datalist content for QaTa-COV19 at ``root`` (see the module docstring); degraded copies go to ``derived``
    (default ``ROOT/monai_xrgan_derived/qata_cov19``)."""
    root = require_dir(root, "the QaTa-COV19 folder", LAYOUT)
    items = []
    for label, names in ((1, ("COVID-19", "COVID")), (0, ("Control_Group", "Control Group", "Control"))):
        folder = find_dir(root, names, "a class folder of QaTa-COV19", LAYOUT)
        files = [f for f in image_files(folder) if "monai_xrgan_derived" not in f.parts]
        if not files:
            raise MissingInputError(f"{folder}: no images in this class folder. Expected layout: {LAYOUT}")
        items += [{"image": relative(f, root), "label": label} for f in files]
    splits = split_items(items, lambda it: it["image"], val, test, seed, stratum=lambda it: it["label"])
    listed = _read_list(Path(lq_list), root) if lq_list else None
    degrade = _Degrader(root, Path(derived) if derived else root / "monai_xrgan_derived" / "qata_cov19", seed)
    index = {it["image"]: i for i, it in enumerate(items)}
    content: dict[str, Any] = {"name": "QaTa-COV19", "labels": LABELS,
                               "split": f"per image (no patient ids), stratified by label, val {val}, test {test}, "
                                        f"seed {seed}"}  # fmt: skip
    train = splits["training"]
    if listed is not None:
        content["lq_rule"] = f"images listed in {Path(lq_list).name}"
        content["training_lq"] = [{"lq": it["image"], "label": it["label"]} for it in train if it["image"] in listed]
        content["training_hq"] = [
            {"hq": it["image"], "label": it["label"]} for it in train if it["image"] not in listed
        ]
    else:
        content["lq_rule"] = "blind degradations (RandDegradation, 1-3 kinds, severity 1-5) of half the training images"
        order = np.random.default_rng(seed).permutation(len(train))
        lq_part = {int(i) for i in order[: len(train) // 2]}
        content["training_lq"], content["training_hq"] = [], []
        for i, it in enumerate(train):
            if i in lq_part:
                lq, drawn = degrade(it["image"], index[it["image"]])
                content["training_lq"].append({"lq": lq, "label": it["label"], "degradation": drawn})
            else:
                content["training_hq"].append({"hq": it["image"], "label": it["label"]})
    for name in ("validation", "test"):
        content[name] = []
        for it in splits[name]:
            if listed is not None and it["image"] in listed:
                content.setdefault("test_real_lq", []).append({"image": it["image"], "label": it["label"]})
                continue
            lq, drawn = degrade(it["image"], index[it["image"]])
            content[name].append({"image": lq, "hq": it["image"], "label": it["label"], "degradation": drawn})
    return content
