"""Reductions of per-sample loss values."""

from __future__ import annotations

import torch

__all__ = ["weighted_mean"]


def weighted_mean(values: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    """Mean of per-sample ``values`` ``(B, ...)`` over the samples with weight 1 (0 when there are none)."""
    return (values * weights.reshape(-1, *([1] * (values.dim() - 1)))).sum(0) / weights.sum().clamp(min=1.0)
