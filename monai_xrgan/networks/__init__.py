"""Networks of the methods (MONAI's own are used wherever they match the references)."""

from monai_xrgan.networks.unet import EvalDropout, Pix2PixUNet

__all__ = ["Pix2PixUNet", "EvalDropout"]
