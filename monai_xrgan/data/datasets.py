"""Datasets of the bundles: the deterministic preprocessing is computed once, in memory or in a folder on disk.

:func:`cached_dataset` is the ``dataset`` block of every train config::

    "dataset": {"_target_": "monai_xrgan.data.datasets.cached_dataset", "data": "@train#data",
                "transform": "@train#preprocessing", "cache_dir": "@cache_dir", "num_workers": "@num_workers"}

``cache_dir: null`` keeps the preprocessed items in memory (:class:`monai.data.CacheDataset`); a folder keeps them on
disk across runs (:class:`monai.data.PersistentDataset`), one file per item, named by a hash of the item (its paths
and their files' size and modification time) and of the deterministic transforms' settings, so that changing an
image, the image size or a window writes new files instead of reading stale ones.

MONAI caches the transforms of a ``Compose`` up to the first random one, and any nested ``Compose`` counts as random
(``Compose`` is ``Randomizable``): ``Compose([XRayPreprocessd(...), RandSpatialCropd(...)])`` would cache nothing.
:func:`flatten_transforms` inlines nested compositions (the same transform instances, so ``Invertd`` still works)
before the dataset sees them.
"""

from __future__ import annotations

import enum
import hashlib
import json
import os
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import torch
from monai.data import CacheDataset, MetaTensor, PersistentDataset
from monai.data.utils import pickle_hashing
from monai.transforms import Compose, OneOf, RandomOrder, SomeOf

from monai_xrgan.data.datalists import PATH_KEYS
from monai_xrgan.utils.errors import ConfigError

__all__ = ["cached_dataset", "flatten_transforms", "item_hash", "transform_hash", "DiskCacheDataset"]

_RANDOM_COMPOSES = (OneOf, RandomOrder, SomeOf)  # compositions that pick their transforms at random
_VOLATILE = ("filenames", "has_series", "R")  # attributes that change when a transform is used, not its settings


def flatten_transforms(transform: Callable | Sequence[Callable]) -> Compose:
    """A ``Compose`` of ``transform`` with every nested ``Compose`` (subclasses too) inlined, same instances.

    ``OneOf``/``SomeOf``/``RandomOrder`` and compositions whose ``map_items``/``unpack_items``/``lazy`` differ from
    the outer one's stay nested (they are random or behave differently when inlined).
    """
    outer = transform if isinstance(transform, Compose) else Compose(transform)
    flat: list[Callable] = []
    for t in outer.transforms:
        inline = (
            isinstance(t, Compose)
            and not isinstance(t, _RANDOM_COMPOSES)
            and (t.map_items, t.unpack_items, t.lazy) == (outer.map_items, outer.unpack_items, outer.lazy)
        )
        flat.extend(flatten_transforms(t).transforms if inline else [t])
    return Compose(
        flat,
        map_items=outer.map_items,
        unpack_items=outer.unpack_items,
        log_stats=outer.log_stats,
        lazy=outer.lazy,
        overrides=outer.overrides,
    )


def _describe(obj: Any, depth: int = 0) -> Any:
    """A JSON-able, address-free description of a transform's settings (public attributes, 4 levels deep)."""
    if obj is None or isinstance(obj, (str, bool, int, float)):
        return obj
    if isinstance(obj, enum.Enum):
        return _describe(obj.value)
    if isinstance(obj, (list, tuple)):
        return [_describe(v, depth + 1) for v in obj]
    if isinstance(obj, Mapping):
        return {str(k): _describe(v, depth + 1) for k, v in sorted(obj.items(), key=lambda kv: str(kv[0]))}
    if isinstance(obj, (torch.dtype, np.dtype, type)):
        return str(obj)
    if isinstance(obj, (np.ndarray, torch.Tensor)):
        return np.asarray(obj.detach().cpu() if isinstance(obj, torch.Tensor) else obj).tolist()
    name = f"{type(obj).__module__}.{type(obj).__qualname__}"
    if depth >= 4 or not hasattr(obj, "__dict__"):
        return name
    attrs = {k: _describe(v, depth + 1) for k, v in sorted(vars(obj).items()) if not k.startswith("_")}
    return {"class": name, **{k: v for k, v in attrs.items() if k not in _VOLATILE}}


def transform_hash(transforms: Sequence[Callable]) -> bytes:
    """Hash of the settings of ``transforms`` (the cached, deterministic prefix of a pipeline)."""
    text = json.dumps(_describe(list(transforms)), sort_keys=True)
    return hashlib.sha256(text.encode("utf-8")).hexdigest().encode("utf-8")


def item_hash(item: Any) -> bytes:
    """Hash of a datalist item and of the size and modification time of the files it names."""
    stats = {}
    if isinstance(item, Mapping):
        for key in PATH_KEYS:
            path = item.get(key)
            if isinstance(path, (str, os.PathLike)) and os.path.exists(path):
                st = os.stat(path)
                stats[key] = (st.st_size, st.st_mtime_ns)
    return pickle_hashing({"item": item, "files": stats})


def _loadable(value: Any) -> Any:
    """``value`` with numpy arrays, numpy scalars and enums turned into tensors, Python numbers and strings
    (``torch.load`` with ``weights_only=True`` refuses them, and MONAI would then recompute the item on every read)."""
    if isinstance(value, MetaTensor):
        value.meta = _loadable(dict(value.meta))
        value.applied_operations = _loadable(list(value.applied_operations))
        return value
    if isinstance(value, np.ndarray):
        return torch.from_numpy(np.ascontiguousarray(value)) if value.dtype.kind in "biuf" else value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, enum.Enum):  # MONAI's str enums (TraceKeys, SpaceKeys) compare equal to their values
        return value.value
    if isinstance(value, Mapping):
        return {_loadable(k): _loadable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_loadable(v) for v in value) if isinstance(value, list) else tuple(map(_loadable, value))
    return value


class DiskCacheDataset(PersistentDataset):
    """:class:`monai.data.PersistentDataset` whose cached items load back with ``weights_only=True``
    (numpy values in the metadata are stored as tensors / Python numbers)."""

    def _pre_transform(self, item_transformed: Any) -> Any:
        return _loadable(super()._pre_transform(item_transformed))


def cached_dataset(
    data: Sequence,
    transform: Callable | Sequence[Callable],
    cache_dir: str | os.PathLike | None = None,
    loader_workers: int = 0,
    cache_rate: float = 1.0,
    runtime_cache: bool | str | None = None,
    **kwargs: Any,
) -> CacheDataset | PersistentDataset:
    """A dataset that computes the deterministic start of ``transform`` once per item.

    Args:
        data: the datalist items.
        transform: the preprocessing (a ``Compose``, a transform or a list of them); nested compositions are
            inlined (:func:`flatten_transforms`), so everything before the first random transform is cached.
        cache_dir: ``None``: :class:`monai.data.CacheDataset` (in memory); a folder: :class:`DiskCacheDataset` (on
            disk, filled on first use, by the data loader's workers when it has some, and reused by later runs).
        loader_workers: worker processes of the data loader that reads this dataset (its ``num_workers``). With
            workers the in-memory cache is a shared list that the workers fill (``runtime_cache="processes"``), so
            the first epoch's decoding runs in parallel and is kept; without, the loader's thread fills a plain list.
        cache_rate: fraction of the items cached in memory.
        runtime_cache: ``None`` (default): chosen from ``loader_workers`` as above, always filled on first use through
            the data loader, so that a bad image is reported with its item and split (and ``skip_bad_images``
            applies); ``False`` fills the cache before the first epoch (``num_workers`` threads, in ``kwargs``).
        kwargs: passed to the MONAI dataset (e.g. ``copy_cache``, ``num_workers``, ``pickle_protocol``).
    """
    if runtime_cache is None:
        runtime_cache = "processes" if loader_workers > 0 else True
    flat = flatten_transforms(transform)
    if cache_dir is None or f"{cache_dir}" == "":
        return CacheDataset(data, flat, cache_rate=cache_rate, runtime_cache=runtime_cache, **kwargs)
    if os.path.exists(cache_dir) and not os.path.isdir(cache_dir):
        raise ConfigError(f"{cache_dir}: `cache_dir` names a file; set it to a folder (or null to cache in memory).")
    return DiskCacheDataset(
        data, flat, cache_dir=cache_dir, hash_func=item_hash, hash_transform=transform_hash, track_meta=True, **kwargs
    )
