"""Evaluators of the methods' generators: paired image translation, joint restoration and classification, StarGAN
translation and reconstruction; a small base class holds what they share (key metric by name, bfloat16 autocast,
the iteration events of a custom ``_iteration``)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import torch
from ignite.engine import Engine, Events
from ignite.metrics import Accuracy, Metric
from monai.engines import IterationEvents, SupervisedEvaluator
from monai.handlers import from_engine
from monai.utils import CommonKeys
from torch import nn

from monai_xrgan.engines.utils import PrepareBatchDict, PrepareBatchPair, to_device
from monai_xrgan.metrics.image import UnitRangePairs, image_similarity_metrics
from monai_xrgan.metrics.restoration import FlatClassificationReport, ImageSimilarityByGroup
from monai_xrgan.utils.distributed import unwrap
from monai_xrgan.utils.errors import ConfigError

__all__ = [
    "ImageTranslationEvaluator",
    "JointRestorationEvaluator",
    "MetricEvaluator",
    "StarGANEvaluator",
    "cyclic_targets",
    "restored_items",
]


class MetricEvaluator(SupervisedEvaluator):
    """A :class:`monai.engines.SupervisedEvaluator` whose key metric is chosen by name among its metrics, with
    bfloat16 autocast on CUDA devices (``amp`` is ignored on a CPU).

    Args:
        device: device to run on.
        val_data_loader: loader of dictionary batches.
        network: the network to evaluate.
        metrics: the metrics by full name (``metric_prefix`` included); the key metric is taken out of them, the rest
            are additional metrics.
        key_metric: name of the key metric without the prefix, one of ``key_metrics``; ``None``: no key metric (then
            MONAI attaches no metric).
        key_metrics: the names ``key_metric`` may take.
        metric_prefix: prefix of the metric names.
        amp: bfloat16 autocast on CUDA devices.
        kwargs: other :class:`monai.engines.SupervisedEvaluator` arguments.
    """

    def __init__(
        self,
        device: str | torch.device,
        val_data_loader: Iterable,
        network: nn.Module,
        metrics: dict[str, Metric],
        key_metric: str | None,
        key_metrics: Sequence[str],
        metric_prefix: str = "val_",
        amp: bool = False,
        **kwargs: Any,
    ) -> None:
        key_val_metric = None
        if key_metric is not None:
            key = f"{metric_prefix}{key_metric}"
            if key_metric not in key_metrics or key not in metrics:
                raise ConfigError(f"key_metric must be one of {', '.join(key_metrics)}; got {key_metric!r}.")
            key_val_metric = {key: metrics.pop(key)}
        use_amp = amp and torch.device(device).type == "cuda"
        super().__init__(
            device=device,
            val_data_loader=val_data_loader,
            network=network,
            key_val_metric=key_val_metric,
            additional_metrics=metrics or None,
            amp=use_amp,
            amp_kwargs={"dtype": torch.bfloat16} if use_amp else None,
            **kwargs,
        )

    def autocast(self) -> contextlib.AbstractContextManager:
        """bfloat16 autocast when ``amp`` is on, else a no-op."""
        return torch.autocast(self.state.device.type, **self.amp_kwargs) if self.amp else contextlib.nullcontext()

    def complete(self, output: dict[str, Any]) -> dict[str, Any]:
        """Store ``output`` as the iteration's output and fire MONAI's ``FORWARD_COMPLETED`` and ``MODEL_COMPLETED``
        (decollation and postprocessing run on the latter); returns the engine output."""
        self.state.output = output
        self.fire_event(IterationEvents.FORWARD_COMPLETED)
        self.fire_event(IterationEvents.MODEL_COMPLETED)
        return self.state.output


def _similarity_metrics(
    value_range: Sequence[float], prefix: str, identity_baseline: bool, target_key: str
) -> dict[str, Metric]:
    """SSIM, PSNR and MAE of ``pred`` against ``target_key`` and, with ``identity_baseline``, of the input ``image``
    against it (``{prefix}identity_*``: what copying the input would score)."""
    metrics = image_similarity_metrics(value_range, prefix=prefix, target_key=target_key)
    if identity_baseline:
        identity = image_similarity_metrics(value_range, f"{prefix}identity_", pred_key="image", target_key=target_key)
        metrics.update(identity)
    return metrics


class ImageTranslationEvaluator(MetricEvaluator):
    """A :class:`monai.engines.SupervisedEvaluator` that runs ``network(batch[input_key])`` and scores the result
    against ``batch[target_key]`` with SSIM (key metric by default), PSNR and MAE on ``[0, 1]`` intensities.

    Outputs keep MONAI's names: ``image`` (input), ``pred`` (generated), ``label`` (target).

    Args:
        input_key, target_key: batch keys of the input and of the paired target.
        value_range: intensity range of network outputs and targets (``[-1, 1]`` for tanh generators).
        key_metric: ``"ssim"``, ``"psnr"`` or ``"mae"``: the metric that selects the best model (for MAE, lower is
            better: give the checkpointer ``greater_is_better=False``).
        metric_prefix: prefix of the metric names, e.g. ``"val_"`` during training, ``"test_"`` in evaluation.
        identity_baseline: also score the *input* against the target (``{prefix}identity_ssim``, ...): what
            copying the input would achieve, the reference a translation's scores should be read against.
        kwargs: the other :class:`MetricEvaluator` arguments: ``device``, ``val_data_loader`` (batches with
            ``input_key`` and ``target_key``), ``network`` (the generator), ``amp`` (bfloat16 autocast on CUDA devices)
            and :class:`monai.engines.SupervisedEvaluator`'s (``val_handlers``, ``postprocessing``, ``inferer``,
            ``mode``, ``additional_metrics`` added to the ones above, ...).
    """

    def __init__(
        self,
        input_key: str = "image",
        target_key: str = "target",
        value_range: Sequence[float] = (-1.0, 1.0),
        key_metric: str = "ssim",
        metric_prefix: str = "val_",
        identity_baseline: bool = False,
        **kwargs: Any,
    ) -> None:
        metrics = _similarity_metrics(value_range, metric_prefix, identity_baseline, target_key="label")
        metrics.update(kwargs.pop("additional_metrics", None) or {})
        super().__init__(
            metrics=metrics,
            key_metric=key_metric,
            key_metrics=("ssim", "psnr", "mae"),
            metric_prefix=metric_prefix,
            prepare_batch=PrepareBatchPair(input_key, target_key),
            **kwargs,
        )


def restored_items(
    evaluator: Engine, value_range: Sequence[float] = (-1.0, 1.0), label_key: str = "label"
) -> list[dict[str, Any]]:
    """Run ``evaluator`` (a :class:`JointRestorationEvaluator`) and return its restored images as labelled items held
    in memory, ``[{"image": (C, H, W) tensor on [0, 1] (CPU), "label": class index}, ...]``, the labels read from
    each batch's ``label_key``: a training or test set for a classifier of restored images
    (:func:`~monai_xrgan.workflows.train_classifier` with a ``preprocessing`` that takes images in memory)."""
    items: list[dict[str, Any]] = []
    to_unit = UnitRangePairs(value_range, CommonKeys.PRED, CommonKeys.PRED)

    def _collect(engine: Engine) -> None:
        batch = engine.state.batch if isinstance(engine.state.batch, list) else [engine.state.batch]
        if any(label_key not in item for item in batch):
            raise ConfigError(
                f"the items restored by restored_items have no '{label_key}'; give every item its class index."
            )
        outputs = engine.state.output if isinstance(engine.state.output, list) else [engine.state.output]
        images, _ = to_unit(outputs)
        labels = [int(c) for item in batch for c in torch.as_tensor(item[label_key]).view(-1).tolist()]
        items.extend({"image": torch.as_tensor(i).detach().cpu(), "label": c} for i, c in zip(images, labels))

    evaluator.add_event_handler(Events.ITERATION_COMPLETED, _collect)
    try:
        evaluator.run()
    finally:
        evaluator.remove_event_handler(_collect, Events.ITERATION_COMPLETED)
    return items


class JointRestorationEvaluator(MetricEvaluator):
    """Run a generator with a classification branch (``network(x, return_probs=True) -> (restored, probabilities)``)
    over a loader and score it.

    Outputs keep MONAI's names where they exist: ``image`` (input), ``pred`` (restored image), ``probs`` (class
    probabilities), ``label`` (class index, when the batch has ``label_key``), ``target`` (clean reference image, when
    the batch has ``target_key``). Metrics, each only when its inputs are configured:

    * with ``target_key``: ``{prefix}ssim``, ``{prefix}psnr``, ``{prefix}mae`` of ``pred`` vs ``target`` on ``[0, 1]``
      intensities (:func:`~monai_xrgan.metrics.image.image_similarity_metrics`; ``key_metric`` selects the best
      model), and with ``identity_baseline`` the same for the unrestored input (``{prefix}identity_*``);
    * with ``label_key`` and ``num_classes``: the classification report of ``probs`` (argmax) vs ``label`` as flat
      metrics (:class:`~monai_xrgan.metrics.FlatClassificationReport`): ``{prefix}accuracy``, ``{prefix}macro_f1``,
      per class ``{prefix}<class>_sensitivity``, ``_specificity``, ``_f1``... (e.g. ``val_covid_f1``),
      ``{prefix}confusion_matrix``;
    * with ``target_key`` and ``group_key``: PSNR and SSIM per degradation type
      (:class:`~monai_xrgan.metrics.ImageSimilarityByGroup`), ``{prefix}psnr_<type>``, ``{prefix}ssim_<type>`` (and
      ``{prefix}identity_psnr_<type>``... with ``identity_baseline``), the types read from each item's degradation
      description under ``group_key``.

    Without a target and labels (inference) it only runs the network; postprocessing and handlers see the outputs.

    Args:
        input_key: batch key of the input image.
        target_key: batch key of the clean reference, or ``None``.
        label_key: batch key of the class index, or ``None``.
        num_classes: classes of the classification branch (required with ``label_key``).
        class_names: names of the classes in the report.
        value_range: intensity range of the network's images (``[-1, 1]`` for tanh generators).
        key_metric: ``"ssim"``, ``"psnr"`` or ``"mae"``, the key metric when there is a target (to select a model on a
            classification scalar, give its name to the checkpointer: ``train_handlers(key_metric="val_covid_f1")``).
        metric_prefix: prefix of the metric names (``"val_"`` in training, ``"test_"`` in evaluation).
        identity_baseline: also score the input against the target.
        group_key: batch key of each item's degradation description (e.g. ``"degradation"``), or ``None``.
        groups: degradation types of the breakdown, type -> kinds (default
            :data:`~monai_xrgan.metrics.DEGRADATION_GROUPS`).
        kwargs: the other :class:`MetricEvaluator` arguments: ``device``, ``val_data_loader``, ``network`` (the
            generator), ``amp`` (bfloat16 autocast on CUDA devices) and :class:`monai.engines.SupervisedEvaluator`'s
            (``val_handlers``, ``postprocessing``, ``inferer``, ``mode``, ...).
    """

    def __init__(
        self,
        input_key: str = "image",
        target_key: str | None = "target",
        label_key: str | None = "label",
        num_classes: int | None = None,
        class_names: Sequence[str] | None = None,
        value_range: Sequence[float] = (-1.0, 1.0),
        key_metric: str = "ssim",
        metric_prefix: str = "val_",
        identity_baseline: bool = False,
        group_key: str | None = None,
        groups: Mapping[str, Sequence[str]] | None = None,
        **kwargs: Any,
    ) -> None:
        metrics: dict[str, Any] = {}
        if target_key is not None:
            metrics.update(_similarity_metrics(value_range, metric_prefix, identity_baseline, target_key="target"))
            if group_key is not None:
                metrics[f"{metric_prefix}by_degradation"] = ImageSimilarityByGroup(
                    groups, value_range, prefix=metric_prefix
                )
                if identity_baseline:
                    metrics[f"{metric_prefix}identity_by_degradation"] = ImageSimilarityByGroup(
                        groups, value_range, pred_key="image", prefix=f"{metric_prefix}identity_"
                    )
        if label_key is not None:
            if num_classes is None:
                raise ConfigError("num_classes is required to score the classification (label_key is set).")
            metrics[metric_prefix] = FlatClassificationReport(num_classes, class_names)
        super().__init__(
            metrics=metrics,
            key_metric=key_metric if target_key is not None else None,
            key_metrics=("ssim", "psnr", "mae"),
            metric_prefix=metric_prefix,
            **kwargs,
        )
        self.input_key, self.target_key, self.label_key = input_key, target_key, label_key
        self.group_key = group_key if target_key is not None else None

    def _iteration(self, engine: JointRestorationEvaluator, batchdata: dict[str, Any]) -> dict[str, Any]:
        inputs = to_device(batchdata[engine.input_key], engine.state.device, engine.non_blocking)
        with engine.mode(engine.network), engine.autocast():
            restored, probs = engine.inferer(inputs, engine.network, return_probs=True)
        output = {CommonKeys.IMAGE: inputs, CommonKeys.PRED: restored, "probs": probs}
        for name, key in (
            ("target", engine.target_key),
            (CommonKeys.LABEL, engine.label_key),
            ("group", engine.group_key),
        ):
            if key is not None and batchdata.get(key) is not None:
                value = batchdata[key]
                output[name] = value if name == "group" else to_device(value, engine.state.device, engine.non_blocking)
        return engine.complete(output)


def cyclic_targets(source: torch.Tensor, num_domains: int) -> torch.Tensor:
    """A deterministic target domain other than the source for each sample: sample ``i`` of the batch goes to
    ``(source + 1 + i mod (num_domains - 1)) mod num_domains``, so a batch covers every other domain."""
    shift = 1 + torch.arange(source.shape[0], device=source.device) % (num_domains - 1)
    return (source + shift) % num_domains


class _Stacked:
    """``output_transform`` giving the decollated ``keys`` of an evaluator output as stacked batch tensors."""

    def __init__(self, keys: Sequence[str]) -> None:
        self.select = from_engine(list(keys))

    def __call__(self, output: Any) -> tuple[torch.Tensor, ...]:
        return tuple(torch.stack([torch.as_tensor(v) for v in values]) for values in self.select(output))


class StarGANEvaluator(MetricEvaluator):
    """Validate a StarGAN generator on real images with their domains: each image is translated into another
    domain (:func:`cyclic_targets`) and back.

    Metrics: ``{prefix}translation_acc``, the accuracy of the discriminator's domain classifier (trained on real
    images) on the translations, and ``{prefix}cycle_ssim`` / ``cycle_psnr`` / ``cycle_mae`` of the reconstruction
    ``G(G(x, c'), c)`` against ``x``. Outputs: ``image``, ``pred`` (translation), ``rec``, ``domain``,
    ``target_domain`` and ``logits``.

    Args:
        discriminator: ``D(x) -> (critic map, domain logits)``.
        image_key, domain_key: batch keys of the images and of their domain indices.
        key_metric: ``"translation_acc"`` or one of ``"cycle_ssim"``, ``"cycle_psnr"`` (the metric selecting the
            best model).
        metric_prefix: prefix of the metric names.
        value_range: intensity range of the images.
        kwargs: the other :class:`MetricEvaluator` arguments: ``device``, ``val_data_loader`` (batches with
            ``image_key`` and ``domain_key``), ``network`` (the generator ``G(x, c)``), ``amp`` (bfloat16 autocast on
            CUDA devices) and :class:`monai.engines.SupervisedEvaluator`'s (``val_handlers``, ...).
    """

    def __init__(
        self,
        discriminator: nn.Module,
        image_key: str = "image",
        domain_key: str = "domain",
        key_metric: str = "translation_acc",
        metric_prefix: str = "val_",
        value_range: Sequence[float] = (-1.0, 1.0),
        **kwargs: Any,
    ) -> None:
        metrics = image_similarity_metrics(value_range, f"{metric_prefix}cycle_", pred_key="rec", target_key="image")
        metrics[f"{metric_prefix}translation_acc"] = Accuracy(output_transform=_Stacked(["logits", "target_domain"]))
        super().__init__(
            metrics=metrics,
            key_metric=key_metric,
            key_metrics=("translation_acc", "cycle_ssim", "cycle_psnr"),
            metric_prefix=metric_prefix,
            prepare_batch=PrepareBatchDict([image_key, domain_key]),
            **kwargs,
        )
        self.discriminator = discriminator
        self.num_domains = int(unwrap(self.network).num_domains)
        self.image_key, self.domain_key = image_key, domain_key

    def _iteration(self, engine: StarGANEvaluator, batchdata: dict[str, Any]) -> dict[str, Any]:
        batch = engine.prepare_batch(batchdata, engine.state.device, engine.non_blocking)
        x, source = batch[engine.image_key], batch[engine.domain_key].reshape(-1).long()
        target = cyclic_targets(source, engine.num_domains)
        engine.discriminator.eval()
        with engine.mode(engine.network), torch.no_grad(), engine.autocast():
            fake = engine.network(x, target)
            rec = engine.network(fake, source)
            logits = engine.discriminator(fake)[1]
        return engine.complete(
            {
                "image": x,
                "pred": fake.float(),
                "rec": rec.float(),
                "domain": source,
                "target_domain": target,
                "logits": logits.float(),
            }
        )
