"""Training and evaluation engines (MONAI ``Trainer``/``Evaluator`` subclasses)."""

from monai_xrgan.engines.base import MultiNetworkTrainer, unwrap
from monai_xrgan.engines.evaluators import ImageTranslationEvaluator
from monai_xrgan.engines.lr_schedulers import LinearDecayLR
from monai_xrgan.engines.pix2pix import Pix2PixTrainer
from monai_xrgan.engines.utils import PrepareBatchDict, PrepareBatchPair

__all__ = [
    "MultiNetworkTrainer",
    "Pix2PixTrainer",
    "ImageTranslationEvaluator",
    "LinearDecayLR",
    "PrepareBatchDict",
    "PrepareBatchPair",
    "unwrap",
]
