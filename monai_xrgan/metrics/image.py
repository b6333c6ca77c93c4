"""Image-similarity metrics (SSIM, PSNR, MAE) as MONAI/Ignite metric handlers."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from monai.handlers import IgniteMetricHandler, MeanAbsoluteError, PeakSignalToNoiseRatio, from_engine
from monai.metrics import SSIMMetric

__all__ = ["UnitRangePairs", "image_similarity_metrics"]


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
