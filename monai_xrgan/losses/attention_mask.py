"""Regularisers of attention (change) masks: their mean weight of the input image and their total variation."""

from __future__ import annotations

import torch

__all__ = ["attention_loss", "total_variation"]


def attention_loss(mask: torch.Tensor) -> torch.Tensor:
    """Per-sample mean weight of the input image in ``A * C + (1 - A) * x``, i.e. ``mean(1 - A)``, ``(B,)``.

    GANimation (Pumarola et al. 2018, Sec. 4.2; its code's ``lambda_mask`` term) composes
    ``M * x + (1 - M) * C`` and penalises ``mean(M)``, the weight of the original image, because without it the
    mask saturates to ``M = 1``: an output equal to its input satisfies the cycle loss for free. With the change
    weight ``A = 1 - M`` of MI-GAN's branch that is ``mean(1 - A)``; its gradient raises ``A``.
    """
    return (1.0 - mask).mean(dim=(1, 2, 3))


def total_variation(mask: torch.Tensor) -> torch.Tensor:
    """Per-sample mean squared difference between neighbouring pixels of ``(B, 1, H, W)`` masks, ``(B,)``."""
    dy = (mask[:, :, 1:, :] - mask[:, :, :-1, :]).square().mean(dim=(1, 2, 3))
    dx = (mask[:, :, :, 1:] - mask[:, :, :, :-1]).square().mean(dim=(1, 2, 3))
    return dx + dy
