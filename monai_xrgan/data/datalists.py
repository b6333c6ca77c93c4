"""Read and validate MONAI (Decathlon-style) datalists, or list the images of a folder."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from monai_xrgan.transforms.xray import xray_format_of
from monai_xrgan.utils.errors import ConfigError, MissingInputError

__all__ = ["PATH_KEYS", "IMAGE_SUFFIXES", "load_datalist", "datalist_from_folder", "counterpart_items"]

#: item keys whose values are file paths (relative to the dataset folder)
PATH_KEYS = ("image", "target", "lq", "hq", "mask")
#: file suffixes taken as images when a folder is given instead of a datalist
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".dcm", ".dicom", ".nii", ".nii.gz")


def load_datalist(
    datalist: str | os.PathLike,
    split: str = "training",
    base_dir: str | os.PathLike | None = None,
    keys: Sequence[str] = ("image",),
) -> list[dict[str, Any]]:
    """Read one split of a datalist JSON, resolve its paths and check every item.

    Same format as ``monai.data.load_decathlon_datalist`` (``{"training": [{"image": ...}, ...], ...}``); this
    reader adds the checks that turn a bad datalist into a one-line error naming the first bad item and key.

    Args:
        datalist: path of the JSON file.
        split: list to read, e.g. ``"training"``, ``"validation"``, ``"test"``.
        base_dir: folder the item paths are relative to; default the datalist's folder.
        keys: keys every item must have; those in :data:`PATH_KEYS` must name existing files.

    Returns:
        the items with absolute paths.
    """
    path = Path(datalist)
    if not path.is_file():
        raise MissingInputError(f"{path}: datalist not found; set `datalist` to your datalist JSON (see README).")
    try:
        content = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as e:
        raise ConfigError(f"{path}: not valid JSON ({e.msg} at line {e.lineno}, column {e.colno}).") from e
    if not isinstance(content, dict) or not isinstance(content.get(split), list):
        available = sorted(k for k, v in content.items() if isinstance(v, list)) if isinstance(content, dict) else []
        raise ConfigError(f"{path}: has no '{split}' list of items; lists found: {available}.")
    base = Path(base_dir) if base_dir is not None else path.parent
    items = []
    for i, item in enumerate(content[split]):
        where = f"{path}: {split}[{i}]"
        if not isinstance(item, dict):
            raise ConfigError(f'{where} must be an object like {{"image": "path"}}, got {type(item).__name__}.')
        missing = [k for k in keys if k not in item]
        if missing:
            raise ConfigError(f"{where} has no {missing}; every '{split}' item needs keys {list(keys)}.")
        resolved = dict(item)
        for key in PATH_KEYS:
            if key in item:
                if not isinstance(item[key], str):
                    raise ConfigError(f"{where}['{key}'] must be one path (a string), got {type(item[key]).__name__}.")
                file = base / item[key]
                if not file.exists():
                    raise MissingInputError(f"{where}['{key}'] = {file} does not exist; paths are relative to {base}.")
                resolved[key] = str(file)
        items.append(resolved)
    if not items:
        raise ConfigError(f"{path}: the '{split}' list is empty.")
    return items


def datalist_from_folder(folder: str | os.PathLike, key: str = "image") -> list[dict[str, str]]:
    """Items ``{key: path}`` for every image file directly in ``folder`` (sorted), for inference on a folder."""
    folder = Path(folder)
    if not folder.is_dir():
        raise MissingInputError(f"{folder}: input folder not found; set `input_dir` to a folder of images.")
    # suffix-less files are kept when they are DICOM (the preamble), as DICOM exports often name them IM000001
    files = sorted(
        f
        for f in folder.iterdir()
        if f.is_file() and (f.name.lower().endswith(IMAGE_SUFFIXES) or (not f.suffix and xray_format_of(f) == "dicom"))
    )
    if not files:
        raise MissingInputError(f"{folder}: no images ({', '.join(IMAGE_SUFFIXES)}) in this folder.")
    return [{key: str(f)} for f in files]


def counterpart_items(
    items: Sequence[Mapping[str, Any]],
    image_key: str,
    base_dir: str | os.PathLike,
    keep: Sequence[str] = ("nodule",),
) -> list[dict[str, Any]]:
    """Items whose ``image`` is each item's ``image_key`` file (relative to ``base_dir``), with the ``keep`` keys.

    For scoring a pipeline on another file of the same items, e.g. the lesion-free ``clean`` counterparts of images
    with an inserted nodule, keeping the ``nodule`` position so that the same region is scored on both.
    """
    counterparts = []
    for i, item in enumerate(items):
        missing = [k for k in (image_key, *keep) if k not in item]
        if missing:
            raise ConfigError(f"item {i} has no {missing}; counterpart items need keys {[image_key, *keep]}.")
        counterparts.append({"image": str(Path(base_dir) / item[image_key]), **{k: item[k] for k in keep}})
    return counterparts
