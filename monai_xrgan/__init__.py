"""monai_xrgan: MONAI Bundles for chest X-ray / chest CT generative methods."""

__version__ = "0.1.0"
