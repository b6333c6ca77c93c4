"""Inferers: 2-D networks over the axial slices of volumes, diffusion training forward and sampling, DRAI
encode-and-regenerate."""

from monai_xrgan.inferers.diffusion import PREDICTION_TYPES, ConcatDiffusionInferer, DiffusionSampler
from monai_xrgan.inferers.drai import DRAIReconstructionInferer, content_style_grid, generate_images
from monai_xrgan.inferers.slices import AxialSliceInferer

__all__ = [
    "PREDICTION_TYPES",
    "AxialSliceInferer",
    "ConcatDiffusionInferer",
    "DiffusionSampler",
    "DRAIReconstructionInferer",
    "content_style_grid",
    "generate_images",
]
