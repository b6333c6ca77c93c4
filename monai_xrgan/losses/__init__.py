"""Losses shared by the methods."""

from monai_xrgan.losses.adversarial import GANLoss
from monai_xrgan.losses.gradient_penalty import gradient_penalty

__all__ = ["GANLoss", "gradient_penalty"]
