"""Networks of the methods (MONAI's own are used wherever they match the references)."""

from monai_xrgan.networks.munit import (
    MUNITDiscriminator,
    MUNITGenerator,
    MUNITTranslator,
    munit_init,
)
from monai_xrgan.networks.operational import Oper2d, Oper2dTranspose
from monai_xrgan.networks.r2c import r2c_discriminator, r2c_generator
from monai_xrgan.networks.stargan import StarGANDiscriminator, StarGANGenerator
from monai_xrgan.networks.unet import EvalDropout, Pix2PixUNet

__all__ = [
    "MUNITGenerator",
    "MUNITDiscriminator",
    "MUNITTranslator",
    "munit_init",
    "Pix2PixUNet",
    "EvalDropout",
    "Oper2d",
    "Oper2dTranspose",
    "r2c_generator",
    "r2c_discriminator",
    "StarGANGenerator",
    "StarGANDiscriminator",
]
