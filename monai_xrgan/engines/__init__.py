"""Training and evaluation engines (MONAI ``Trainer``/``Evaluator`` subclasses)."""

from monai_xrgan.engines.base import GeneratorDiscriminatorTrainer, MultiNetworkTrainer
from monai_xrgan.engines.diffusion import EMATrainer, RestorationPrepareBatch
from monai_xrgan.engines.drai import DRAITrainer
from monai_xrgan.engines.evaluators import (
    ImageTranslationEvaluator,
    JointRestorationEvaluator,
    MetricEvaluator,
    StarGANEvaluator,
    restored_items,
)
from monai_xrgan.engines.image_pool import ImagePool
from monai_xrgan.engines.lr_schedulers import LinearDecayLR
from monai_xrgan.engines.munit import MUNITTrainer
from monai_xrgan.engines.pix2pix import Pix2PixTrainer
from monai_xrgan.engines.r2c_gan import R2CGANTrainer
from monai_xrgan.engines.stargan import StarGANTrainer
from monai_xrgan.engines.utils import CyclingLoader, PrepareBatchDict, PrepareBatchPair
from monai_xrgan.utils.distributed import unwrap

__all__ = [
    "EMATrainer",
    "RestorationPrepareBatch",
    "DRAITrainer",
    "MUNITTrainer",
    "GeneratorDiscriminatorTrainer",
    "MultiNetworkTrainer",
    "Pix2PixTrainer",
    "StarGANTrainer",
    "StarGANEvaluator",
    "R2CGANTrainer",
    "JointRestorationEvaluator",
    "MetricEvaluator",
    "restored_items",
    "ImagePool",
    "ImageTranslationEvaluator",
    "LinearDecayLR",
    "CyclingLoader",
    "PrepareBatchDict",
    "PrepareBatchPair",
    "unwrap",
]
