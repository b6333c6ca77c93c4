"""Inferers that run 2-D networks on the axial slices of 3-D volumes."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import torch
from monai.inferers import SliceInferer

from monai_xrgan.utils.errors import ConfigError

__all__ = ["AxialSliceInferer"]


class AxialSliceInferer(SliceInferer):
    """:class:`monai.inferers.SliceInferer` over the axial slices (last spatial axis) of ``(B, C, X, Y, Z)`` volumes,
    optionally on some slices only.

    With ``slices`` (axial indices, negative ones counted from the end) only those slices go through the network;
    the others are returned as they came in, so that the output is still the whole volume (a network whose output
    has the input's channels, e.g. an image translator).

    Args:
        roi_size: in-plane size of the slices ``(X, Y)`` given to the network.
        slices: axial indices to run the network on, or ``None`` for every slice.
        kwargs: other :class:`~monai.inferers.SliceInferer` arguments (``sw_batch_size``, ``progress``, ...).
    """

    def __init__(self, roi_size: Sequence[int], slices: Sequence[int] | int | None = None, **kwargs: Any) -> None:
        super().__init__(roi_size=roi_size, spatial_dim=2, **kwargs)
        if isinstance(slices, int) and not isinstance(slices, bool):
            slices = [slices]
        if slices is not None and (
            isinstance(slices, (str, bytes)) or not all(isinstance(k, int) and not isinstance(k, bool) for k in slices)
        ):
            raise ConfigError(f"slices must be null, an axial slice index or a list of them, got {slices!r}.")
        self.slices = None if slices is None else [int(k) for k in slices]

    def __call__(self, inputs: torch.Tensor, network: Callable[..., torch.Tensor], *args: Any, **kwargs: Any) -> Any:
        if self.slices is None:
            return super().__call__(inputs, network, *args, **kwargs)
        depth = int(inputs.shape[-1])
        bad = [k for k in self.slices if not -depth <= k < depth]
        if bad:
            raise ConfigError(f"slices {bad} are outside the volume's {depth} axial slices (0 to {depth - 1}).")
        index = sorted({k % depth for k in self.slices})
        output = inputs.clone()
        output[..., index] = super().__call__(inputs[..., index], network, *args, **kwargs)
        return output
