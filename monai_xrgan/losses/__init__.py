"""Losses shared by the methods."""

from monai_xrgan.losses.adversarial import GANLoss

__all__ = ["GANLoss"]
