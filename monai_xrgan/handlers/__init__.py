"""Ignite/MONAI event handlers shared by the bundles."""

from monai_xrgan.handlers.checkpoint import NetworkWeightsLoader, TrainingCheckpointer, latest_checkpoint
from monai_xrgan.handlers.guards import StopOnNonFiniteLoss, TrainingDivergedError
from monai_xrgan.handlers.images import ImageGridHandler
from monai_xrgan.handlers.metrics_io import MetricsJSONWriter, write_json_atomic
from monai_xrgan.handlers.presets import attach_handlers, is_main_process, train_handlers, validation_handlers
from monai_xrgan.handlers.progress import TerminalProgressBar, is_interactive, loss_items
from monai_xrgan.utils.weights import load_network_weights

__all__ = [
    "TrainingCheckpointer",
    "latest_checkpoint",
    "load_network_weights",
    "NetworkWeightsLoader",
    "StopOnNonFiniteLoss",
    "TrainingDivergedError",
    "ImageGridHandler",
    "MetricsJSONWriter",
    "write_json_atomic",
    "TerminalProgressBar",
    "is_interactive",
    "loss_items",
    "attach_handlers",
    "is_main_process",
    "train_handlers",
    "validation_handlers",
]
