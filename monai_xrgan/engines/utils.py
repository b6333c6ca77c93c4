"""Batch preparation for the engines: dictionary batches to tensors on the device, and a loader cycled forever."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import torch
from monai.data import MetaTensor
from monai.engines.utils import PrepareBatch
from torch.utils.data import DistributedSampler

from monai_xrgan.utils.errors import ConfigError

__all__ = ["CyclingLoader", "PrepareBatchDict", "PrepareBatchPair", "to_device"]

_END = object()


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


class CyclingLoader(Iterator):
    """The batches of ``loader`` forever: when a pass runs out the loader is restarted (a new shuffle), and a
    ``DistributedSampler`` is given ``set_epoch(n)`` before pass ``n``, so that every pass is shuffled differently.

    Used for the second, independently cycled domain of the unpaired trainers; ``passes`` counts the finished passes.

    Args:
        loader: a loader (or any re-iterable) of batches.
        name: the loader's config name, for the error of a loader without batches.
    """

    def __init__(self, loader: Iterable, name: str = "data_loader") -> None:
        self.loader, self.name = loader, name
        self.passes = 0
        self._batches: Iterator | None = None

    def __next__(self) -> Any:
        if self._batches is not None:
            batch = next(self._batches, _END)
            if batch is not _END:
                return batch
            self.passes += 1
        sampler = getattr(self.loader, "sampler", None)
        if isinstance(sampler, DistributedSampler):
            sampler.set_epoch(self.passes)
        self._batches = iter(self.loader)
        batch = next(self._batches, _END)
        if batch is _END:
            raise ConfigError(f"{self.name} has no batches; check its datalist and batch size.")
        return batch
