"""Metrics shared by the bundles: image similarity and classification reports (GAN-train / GAN-test, which train
classifiers, are in :mod:`monai_xrgan.workflows.gan_scores`)."""

from monai_xrgan.metrics.classification import (
    ClassificationReportHandler,
    ClassificationReportMetric,
    classification_report,
    resolve_class_index,
    resolve_class_names,
)
from monai_xrgan.metrics.cnr import LesionCNRMetric, lesion_cnr, lesion_cnr_handler
from monai_xrgan.metrics.image import MS_SSIM_WEIGHTS, UnitRangePairs, image_similarity_metrics, ms_ssim_weights
from monai_xrgan.metrics.image_statistics import histogram_distance, power_spectrum_distance, radial_power_spectrum
from monai_xrgan.metrics.lesion import LesionChangeMetric, lesion_change_handler, lesion_change_scores
from monai_xrgan.metrics.nodules import matched_filter_signal, nodules_found
from monai_xrgan.metrics.restoration import (
    DEGRADATION_GROUPS,
    FlatClassificationReport,
    ImageSimilarityByGroup,
    degradation_kinds,
)
from monai_xrgan.metrics.sampling import SamplingTime

__all__ = [
    "DEGRADATION_GROUPS",
    "FlatClassificationReport",
    "ImageSimilarityByGroup",
    "degradation_kinds",
    "SamplingTime",
    "LesionCNRMetric",
    "lesion_cnr",
    "lesion_cnr_handler",
    "LesionChangeMetric",
    "lesion_change_handler",
    "lesion_change_scores",
    "matched_filter_signal",
    "nodules_found",
    "MS_SSIM_WEIGHTS",
    "UnitRangePairs",
    "image_similarity_metrics",
    "ms_ssim_weights",
    "histogram_distance",
    "power_spectrum_distance",
    "radial_power_spectrum",
    "classification_report",
    "ClassificationReportMetric",
    "ClassificationReportHandler",
    "resolve_class_names",
    "resolve_class_index",
]
