"""Adversarial losses on discriminator logits (vanilla/BCE, least squares, hinge, Wasserstein)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["GANLoss"]

_MODES = ("vanilla", "lsgan", "hinge", "wgan")


class GANLoss(nn.Module):
    """Adversarial loss of the pix2pix/CycleGAN references, applied to raw discriminator outputs.

    ``monai.losses.PatchAdversarialLoss`` applies a sigmoid + ``BCELoss`` (not allowed under CUDA autocast) and a
    LeakyReLU before least squares; this class keeps the references' exact forms on logits instead.

    Args:
        mode: ``"vanilla"`` (BCE with logits, pix2pix), ``"lsgan"`` (MSE to 1/0, CycleGAN and R2C-GAN),
            ``"hinge"`` or ``"wgan"`` (critic score, StarGAN's WGAN-GP).
    """

    def __init__(self, mode: str = "vanilla") -> None:
        super().__init__()
        if mode not in _MODES:
            raise ValueError(f"GAN loss mode must be one of {_MODES}, got {mode!r}.")
        self.mode = mode

    def forward(self, logits: torch.Tensor, target_is_real: bool, for_discriminator: bool = True) -> torch.Tensor:
        """Loss of ``logits`` (any shape, e.g. a patch map) against the real or fake label.

        Args:
            logits: discriminator outputs.
            target_is_real: whether the label is "real" (a generator always asks for real).
            for_discriminator: only changes the hinge loss, whose generator form is ``-mean(logits)``.
        """
        logits = logits.float()  # losses in fp32, also under autocast
        if self.mode == "vanilla":
            target = torch.ones_like(logits) if target_is_real else torch.zeros_like(logits)
            return F.binary_cross_entropy_with_logits(logits, target)
        if self.mode == "lsgan":
            target = torch.ones_like(logits) if target_is_real else torch.zeros_like(logits)
            return F.mse_loss(logits, target)
        if self.mode == "hinge" and for_discriminator:
            return F.relu(1.0 - logits).mean() if target_is_real else F.relu(1.0 + logits).mean()
        return -logits.mean() if target_is_real else logits.mean()
