"""Image-similarity metrics (SSIM, PSNR, MAE) as MONAI/Ignite metric handlers."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from monai.handlers import IgniteMetricHandler, MeanAbsoluteError, PeakSignalToNoiseRatio, from_engine
from monai.metrics import SSIMMetric

from monai_xrgan.utils.errors import ConfigError

__all__ = ["MS_SSIM_WEIGHTS", "UnitRangePairs", "image_similarity_metrics", "ms_ssim_weights"]

#: MS-SSIM's scale weights (Wang, Simoncelli & Bovik 2003), finest scale first
MS_SSIM_WEIGHTS = (0.0448, 0.2856, 0.3001, 0.2363, 0.1333)


class UnitRangePairs:
    """``output_transform`` giving ``(preds, targets)`` of an evaluator output rescaled from ``value_range`` to
    ``[0, 1]``, the range in which SSIM/PSNR/MAE are reported (SSIM is not shift-invariant, so the range matters)."""

    def __init__(
        self, value_range: Sequence[float] = (-1.0, 1.0), pred_key: str = "pred", target_key: str = "label"
    ) -> None:
        self.low, self.high = float(value_range[0]), float(value_range[1])
        self.select = from_engine([pred_key, target_key])

    def _scale(self, x: torch.Tensor) -> torch.Tensor:
        return ((x.float() - self.low) / (self.high - self.low)).clamp(0.0, 1.0)

    def __call__(self, output: Any) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
        preds, targets = self.select(output)
        return [self._scale(p) for p in preds], [self._scale(t) for t in targets]


def image_similarity_metrics(
    value_range: Sequence[float] = (-1.0, 1.0),
    prefix: str = "",
    pred_key: str = "pred",
    target_key: str = "label",
    spatial_dims: int = 2,
) -> dict[str, IgniteMetricHandler]:
    """``{prefix}ssim``, ``{prefix}psnr`` and ``{prefix}mae`` handlers, computed on ``[0, 1]`` intensities."""
    pairs = UnitRangePairs(value_range, pred_key, target_key)
    return {
        f"{prefix}ssim": IgniteMetricHandler(
            metric_fn=SSIMMetric(spatial_dims=spatial_dims, data_range=1.0), output_transform=pairs
        ),
        f"{prefix}psnr": PeakSignalToNoiseRatio(max_val=1.0, output_transform=pairs),
        f"{prefix}mae": MeanAbsoluteError(output_transform=pairs),
    }


def ms_ssim_weights(image_size: int, kernel_size: int = 11) -> list[float]:
    """:data:`MS_SSIM_WEIGHTS` of as many scales as an ``image_size`` image supports, renormalised to sum to 1.

    Scale ``n`` is kept while both the image after its ``n - 1`` halvings and MONAI's size check
    (``size // (n - 1) ** 2``) stay larger than ``kernel_size - 1``; e.g. 2 scales at 32 px, 3 at 64, 5 at 176.
    """
    fits = [
        n for n in range(1, len(MS_SSIM_WEIGHTS) + 1) if image_size // max(2 ** (n - 1), (n - 1) ** 2) > kernel_size - 1
    ]
    if not fits:
        raise ConfigError(f"image_size {image_size} is too small for MS-SSIM; it needs at least {kernel_size} pixels.")
    kept = MS_SSIM_WEIGHTS[: max(fits)]
    return [w / sum(kept) for w in kept]
