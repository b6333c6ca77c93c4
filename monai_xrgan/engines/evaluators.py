"""Evaluator of image-to-image generators against paired targets."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import torch
from monai.engines import SupervisedEvaluator
from torch import nn

from monai_xrgan.engines.utils import PrepareBatchPair
from monai_xrgan.metrics.image import image_similarity_metrics
from monai_xrgan.utils.errors import ConfigError

__all__ = ["ImageTranslationEvaluator"]


class ImageTranslationEvaluator(SupervisedEvaluator):
    """A :class:`monai.engines.SupervisedEvaluator` that runs ``network(batch[input_key])`` and scores the result
    against ``batch[target_key]`` with SSIM (key metric by default), PSNR and MAE on ``[0, 1]`` intensities.

    Outputs keep MONAI's names: ``image`` (input), ``pred`` (generated), ``label`` (target).

    Args:
        device: device to run on.
        val_data_loader: loader of dictionary batches with ``input_key`` and ``target_key``.
        network: the generator.
        input_key, target_key: batch keys of the input and of the paired target.
        value_range: intensity range of network outputs and targets (``[-1, 1]`` for tanh generators).
        key_metric: ``"ssim"``, ``"psnr"`` or ``"mae"``: the metric that selects the best model (for MAE, lower is
            better: give the checkpointer ``greater_is_better=False``).
        metric_prefix: prefix of the metric names, e.g. ``"val_"`` during training, ``"test_"`` in evaluation.
        identity_baseline: also score the *input* against the target (``{prefix}identity_ssim``, ...): what
            copying the input would achieve, the reference a translation's scores should be read against.
        amp: bfloat16 autocast on CUDA devices (ignored on CPU).
        kwargs: other :class:`monai.engines.SupervisedEvaluator` arguments (``val_handlers``, ``postprocessing``,
            ``inferer``, ``mode``, ``additional_metrics`` added to the ones above, ...).
    """

    def __init__(
        self,
        device: str | torch.device,
        val_data_loader: Iterable,
        network: nn.Module,
        input_key: str = "image",
        target_key: str = "target",
        value_range: Sequence[float] = (-1.0, 1.0),
        key_metric: str = "ssim",
        metric_prefix: str = "val_",
        identity_baseline: bool = False,
        amp: bool = False,
        **kwargs: Any,
    ) -> None:
        metrics = image_similarity_metrics(value_range, prefix=metric_prefix)
        key = f"{metric_prefix}{key_metric}"
        if key not in metrics:
            raise ConfigError(f"key_metric must be one of ssim, psnr, mae; got {key_metric!r}.")
        if identity_baseline:
            metrics.update(image_similarity_metrics(value_range, prefix=f"{metric_prefix}identity_", pred_key="image"))
        metrics.update(kwargs.pop("additional_metrics", None) or {})
        use_amp = amp and torch.device(device).type == "cuda"
        super().__init__(
            device=device,
            val_data_loader=val_data_loader,
            network=network,
            prepare_batch=PrepareBatchPair(input_key, target_key),
            key_val_metric={key: metrics.pop(key)},
            additional_metrics=metrics,
            amp=use_amp,
            amp_kwargs={"dtype": torch.bfloat16} if use_amp else None,
            **kwargs,
        )
