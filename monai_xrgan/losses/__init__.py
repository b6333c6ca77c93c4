"""Losses shared by the methods."""

from monai_xrgan.losses.adversarial import GANLoss
from monai_xrgan.losses.attention_mask import attention_loss, total_variation
from monai_xrgan.losses.classification import probability_cross_entropy
from monai_xrgan.losses.feature_matching import feature_matching_loss
from monai_xrgan.losses.gradient_penalty import gradient_penalty
from monai_xrgan.losses.reductions import weighted_mean

__all__ = [
    "GANLoss",
    "attention_loss",
    "feature_matching_loss",
    "gradient_penalty",
    "probability_cross_entropy",
    "total_variation",
    "weighted_mean",
]
