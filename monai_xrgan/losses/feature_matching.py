"""Feature matching between selected fake and real samples (MI-GAN's key-domain term)."""

from __future__ import annotations

from collections.abc import Sequence

import torch

from monai_xrgan.losses.reductions import weighted_mean

__all__ = ["feature_matching_loss"]


def feature_matching_loss(
    fake_features: Sequence[torch.Tensor],
    real_features: Sequence[torch.Tensor],
    fake_weights: torch.Tensor,
    real_weights: torch.Tensor,
) -> torch.Tensor:
    """L1 between the mean features of the selected fake and real samples, averaged over layers.

    Each feature map ``(B, C, h, w)`` is averaged over space and over the samples whose weight is 1, giving one
    ``C``-vector per set; the loss is 0 when either set is empty.
    """
    present = (fake_weights.sum() > 0) & (real_weights.sum() > 0)
    terms = [
        (
            weighted_mean(f.float().mean(dim=(2, 3)), fake_weights)
            - weighted_mean(r.float().mean(dim=(2, 3)), real_weights)
        )
        .abs()
        .mean()
        for f, r in zip(fake_features, real_features)
    ]
    return torch.stack(terms).mean() * present.float()
