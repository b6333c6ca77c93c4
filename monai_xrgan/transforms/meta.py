"""Which metadata a saver writes an output with."""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from typing import Any

from monai.data import MetaTensor

__all__ = ["source_meta"]


def source_meta(data: Mapping[Hashable, Any], key: Hashable, orig_key: Hashable | None, marker: str) -> Mapping | None:
    """The metadata to save ``data[key]`` with: its own when it carries ``marker`` (a key the loader adds, e.g.
    ``XRayMeta.FORMAT``), else that of the loaded input ``data[orig_key]`` when that carries it (a network output
    that lost its metadata), else ``None``.

    Args:
        data: the dictionary being saved.
        key: key of the output.
        orig_key: key of the loaded input, or ``None`` to use only the output's own metadata.
        marker: metadata key that the loader of the input format always adds.
    """
    for candidate in (data.get(key), None if orig_key is None else data.get(orig_key)):
        if isinstance(candidate, MetaTensor) and marker in candidate.meta:
            return candidate.meta
    return None
