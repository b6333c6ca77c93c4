"""Batch preparation for the engines: dictionary batches to tensors on the device."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from monai.data import MetaTensor
from monai.engines.utils import PrepareBatch

__all__ = ["PrepareBatchDict", "PrepareBatchPair", "to_device"]


def to_device(value: Any, device: str | torch.device | None, non_blocking: bool = False, plain: bool = False) -> Any:
    """Move a tensor to ``device``, as a plain ``torch.Tensor`` when ``plain`` (metadata is not needed inside a
    training step and plain tensors keep ``torch.compile`` graphs simple); other values pass through."""
    if plain and isinstance(value, MetaTensor):
        value = value.as_tensor()
    if isinstance(value, torch.Tensor):
        return value.to(device=device, non_blocking=non_blocking)
    return value


class PrepareBatchDict(PrepareBatch):
    """Return the batch's tensors (all, or ``keys``) as a ``dict`` on the device; the multi-network trainers use it.

    Args:
        keys: keys to keep; ``None`` keeps every tensor of the batch.
    """

    def __init__(self, keys: Sequence[str] | None = None) -> None:
        self.keys = None if keys is None else tuple(keys)

    def __call__(
        self, batchdata: dict[str, Any], device: str | torch.device | None = None, non_blocking: bool = False, **kwargs
    ) -> dict[str, Any]:
        keys = self.keys if self.keys is not None else [k for k, v in batchdata.items() if isinstance(v, torch.Tensor)]
        missing = [k for k in keys if k not in batchdata]
        if missing:
            raise KeyError(f"batch has no {missing}; available keys: {sorted(batchdata)}.")
        return {k: to_device(batchdata[k], device, non_blocking, plain=True) for k in keys}


class PrepareBatchPair(PrepareBatch):
    """Return ``(batch[input_key], batch[target_key])`` on the device, for MONAI's supervised evaluators.

    A missing target (inference on unpaired images) gives ``None``. Metadata is kept, so that postprocessing can
    invert the preprocessing (``Invertd``) and save outputs next to their inputs' geometry.
    """

    def __init__(self, input_key: str = "image", target_key: str = "target") -> None:
        self.input_key = input_key
        self.target_key = target_key

    def __call__(
        self, batchdata: dict[str, Any], device: str | torch.device | None = None, non_blocking: bool = False, **kwargs
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        return (
            to_device(batchdata[self.input_key], device, non_blocking),
            to_device(batchdata.get(self.target_key), device, non_blocking),
        )
