"""Metrics shared by the bundles."""

from monai_xrgan.metrics.image import UnitRangePairs, image_similarity_metrics

__all__ = ["UnitRangePairs", "image_similarity_metrics"]
