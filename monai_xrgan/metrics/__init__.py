"""Metrics shared by the bundles: image similarity and classification reports."""

from monai_xrgan.metrics.classification import (
    ClassificationReportHandler,
    ClassificationReportMetric,
    classification_report,
    resolve_class_index,
    resolve_class_names,
)
from monai_xrgan.metrics.image import UnitRangePairs, image_similarity_metrics

__all__ = [
    "UnitRangePairs",
    "image_similarity_metrics",
    "classification_report",
    "ClassificationReportMetric",
    "ClassificationReportHandler",
    "resolve_class_names",
    "resolve_class_index",
]
