"""What every dataset preparer shares: layout checks with one-line errors, patient-level splits, datalist writing."""

from __future__ import annotations

import json
import os
from collections import defaultdict
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from monai_xrgan.utils.errors import ConfigError, InputFileError, MissingInputError

__all__ = [
    "IMAGE_SUFFIXES",
    "require_dir",
    "find_dir",
    "image_files",
    "split_items",
    "relative",
    "write_datalist",
    "unreadable",
    "central_slices",
    "migan_lists",
    "migan_datalist",
]

#: suffixes of the 2-D images the public datasets ship
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".dcm")


def require_dir(path: str | os.PathLike, what: str, layout: str) -> Path:
    """``path`` if it is a folder, else a one-line error naming it, what it should hold and the expected layout."""
    path = Path(path).expanduser()
    if not path.is_dir():
        state = "is a file, not a folder" if path.exists() else "not found"
        raise MissingInputError(f"{path}: {state}; expected {what}. Expected layout: {layout}")
    return path


def find_dir(root: Path, names: Sequence[str], what: str, layout: str) -> Path:
    """The first of ``root/<name>`` that is a folder (names compared case-insensitively), else a one-line error."""
    children = {p.name.lower(): p for p in root.iterdir() if p.is_dir()} if root.is_dir() else {}
    for name in names:
        if name.lower() in children:
            return children[name.lower()]
    raise MissingInputError(
        f"{root / names[0]}: folder not found ({what}; looked for {', '.join(repr(n) for n in names)}). "
        f"Expected layout: {layout}"
    )


def image_files(folder: Path, suffixes: Sequence[str] = IMAGE_SUFFIXES, recursive: bool = True) -> list[Path]:
    """Image files under ``folder`` (hidden files skipped), sorted."""
    pattern = folder.rglob("*") if recursive else folder.iterdir()
    return sorted(p for p in pattern if p.is_file() and not p.name.startswith(".") and p.suffix.lower() in suffixes)


def unreadable(path: Path, err: BaseException, expected: str) -> InputFileError:
    """The one-line error for a dataset file that cannot be read."""
    text = " ".join(f"{type(err).__name__}: {err}".split())[:200]
    return InputFileError(f"{path}: cannot be read ({text}); expected {expected}. Re-download it or remove it.")


def _check_fractions(val: float, test: float) -> None:
    if not (0.0 <= val < 1.0 and 0.0 <= test < 1.0 and val + test < 1.0):
        raise ConfigError(f"--val and --test must be fractions in [0, 1) with val + test < 1, got {val} and {test}.")


def split_items(
    items: Iterable[dict[str, Any]],
    group: Callable[[dict[str, Any]], Hashable],
    val: float,
    test: float,
    seed: int,
    stratum: Callable[[dict[str, Any]], Hashable] = lambda item: 0,
) -> dict[str, list[dict[str, Any]]]:
    """Split ``items`` into ``training``/``validation``/``test`` by group (patient): every group in one split.

    Within each stratum (e.g. class) the groups are shuffled with ``seed`` and the first ``round(test * n)`` go to the
    test split, the next ``round(val * n)`` to validation (at least one each when the fraction is > 0 and the stratum
    has three groups or more), the rest to training. Items keep their order inside a split.
    """
    _check_fractions(val, test)
    items = list(items)
    groups_by_stratum: dict[Hashable, list[Hashable]] = defaultdict(list)
    for item in items:
        g, s = group(item), stratum(item)
        if g not in groups_by_stratum[s]:
            groups_by_stratum[s].append(g)
    split_of: dict[Hashable, str] = {}
    rng = np.random.default_rng(seed)
    for s in sorted(groups_by_stratum, key=str):
        groups = sorted(groups_by_stratum[s], key=str)
        order = [groups[i] for i in rng.permutation(len(groups))]
        n = len(order)
        n_test = max(int(round(test * n)), int(test > 0 and n >= 3))
        n_val = max(int(round(val * n)), int(val > 0 and n >= 3))
        for i, g in enumerate(order):
            if g in split_of:  # a patient in two strata stays where it went first
                continue
            split_of[g] = "test" if i < n_test else "validation" if i < n_test + n_val else "training"
    out: dict[str, list[dict[str, Any]]] = {"training": [], "validation": [], "test": []}
    for item in items:
        out[split_of[group(item)]].append(item)
    return out


def relative(path: str | os.PathLike, root: Path) -> str:
    """``path`` relative to ``root`` with forward slashes (what the datalist stores)."""
    return Path(os.path.relpath(Path(path).resolve(), root.resolve())).as_posix()


def write_datalist(out: str | os.PathLike, content: dict[str, Any]) -> Path:
    """Write the datalist JSON (folders created) and return its path."""
    out = Path(out).expanduser()
    if out.is_dir():
        raise ConfigError(f"{out}: --out is a folder; give the path of the datalist JSON file to write.")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(content, indent=1) + "\n", encoding="utf-8")
    return out


def central_slices(depth: int, step: int, keep: tuple[float, float] = (0.2, 0.8)) -> list[int]:
    """Every ``step``-th axial slice index in the central ``keep`` fraction of a volume of ``depth`` slices (the lungs
    of a chest CT, without reading the voxels; the MI-GAN lists train on slices)."""
    if step < 1:
        raise ConfigError(f"--slice_step must be >= 1, got {step}.")
    first, last = int(keep[0] * depth), max(int(np.ceil(keep[1] * depth)), int(keep[0] * depth) + 1)
    return list(range(first, min(last, depth), step))


def migan_lists(volumes: list[dict[str, Any]], splits: dict[str, list[dict[str, Any]]], step: int) -> dict[str, Any]:
    """MI-GAN lists from volume items ``{"image", "domain", "depth", ...}`` split by patient: slice items
    ``{"image", "slice", "domain"}`` for training/validation, volume items ``test`` and their slices ``test_slices``."""

    def slices(split: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [{"image": v["image"], "slice": k, "domain": v["domain"]} for v in split
                for k in central_slices(v["depth"], step)]  # fmt: skip

    return {
        "training": slices(splits["training"]),
        "validation": slices(splits["validation"]),
        "test": [{"image": v["image"], "domain": v["domain"]} for v in splits["test"]],
        "test_slices": slices(splits["test"]),
    }


def migan_datalist(
    name: str,
    domains: dict[str, str],
    class_to_domain: Mapping[str, int],
    volumes: list[dict[str, Any]],
    splits: dict[str, list[dict[str, Any]]],
    step: int,
    **notes: str,
) -> dict[str, Any]:
    """A MI-GAN datalist: the dataset's ``name``, its ``domains`` (index -> name), the domain name of each of the
    dataset's classes (``class_to_domain``: class -> domain index), ``notes`` (``intensity``, ``split``, ...) and the
    :func:`migan_lists` of the split volumes."""
    return {
        "name": name,
        "domains": list(domains.values()),
        "labels": domains,
        "domain_mapping": {k: domains[str(v)] for k, v in class_to_domain.items()},
        **notes,
        **migan_lists(volumes, splits, step),
    }
