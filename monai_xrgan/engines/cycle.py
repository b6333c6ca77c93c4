"""R2C-GAN engines: cycle-consistent training of two generators with classification branches on unpaired data, and
the evaluator of such a generator (restored image + class probabilities, scored against clean references and labels,
overall and per degradation type).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any

import torch
import torch.nn.functional as F
from ignite.engine import Engine, Events
from ignite.metrics import Metric
from monai.engines import SupervisedEvaluator
from monai.engines.utils import IterationEvents
from monai.handlers import from_engine
from monai.metrics import PSNRMetric, SSIMMetric
from monai.utils import CommonKeys
from torch import nn
from torch.optim import Optimizer
from torch.optim.lr_scheduler import LRScheduler
from torch.utils.data import DistributedSampler

from monai_xrgan.engines.base import MultiNetworkTrainer
from monai_xrgan.engines.image_pool import ImagePool
from monai_xrgan.engines.utils import to_device
from monai_xrgan.losses import GANLoss
from monai_xrgan.metrics.classification import ClassificationReportHandler
from monai_xrgan.metrics.image import UnitRangePairs, image_similarity_metrics
from monai_xrgan.utils.checks import require_count
from monai_xrgan.utils.errors import ConfigError

__all__ = [
    "DEGRADATION_GROUPS",
    "R2CGANTrainer",
    "JointRestorationEvaluator",
    "FlatClassificationReport",
    "ImageSimilarityByGroup",
    "degradation_kinds",
    "probability_cross_entropy",
    "restored_items",
]

#: degradation types of the per-type breakdown: type -> the :data:`~monai_xrgan.transforms.degradation.DEGRADATIONS`
#: kinds it covers
DEGRADATION_GROUPS = {
    "noise": ("gaussian_noise", "poisson_noise"),
    "blur": ("gaussian_blur", "motion_blur"),
    "overexposure": ("over_exposure",),
    "underexposure": ("under_exposure",),
}

#: Keras' clipping of probabilities in its categorical cross-entropy
_EPS = 1e-7


def probability_cross_entropy(probs: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Mean cross-entropy of class probabilities ``(B, C)`` against class indices ``(B,)``, in float32, with the
    probabilities clipped to ``[1e-7, 1 - 1e-7]`` (Keras' ``CategoricalCrossentropy``, the reference's loss)."""
    return F.nll_loss(torch.log(probs.float().clamp(_EPS, 1.0 - _EPS)), labels.long().view(-1))


class R2CGANTrainer(MultiNetworkTrainer):
    """Train an R2C-GAN: CycleGAN between a poor-quality domain A (``lq``) and a good-quality domain B (``hq``) whose
    generators also classify, on unpaired batches.

    One iteration, as the reference's ``train_G`` then ``train_D`` (``G = generator: A -> B``, ``F =
    inverse_generator: B -> A``; every generator call also returns class probabilities, scored with cross-entropy
    against the label of the image it started from):

    * generator step (discriminators frozen; one optimiser over both generators):
      ``L_G = [LS(D_B(G(a))) + LS(D_A(F(b))) + w_adv·(CE_G(a) + CE_F(b))]
      + lambda_cycle·[L1(a, F(G(a))) + L1(b, G(F(b))) + w_cycle·(CE_F(G(a)) + CE_G(F(b)))]
      + lambda_identity·[L1(a, F(a)) + L1(b, G(b)) + w_identity·(CE_F(a) + CE_G(b))]``;
    * discriminator step (one optimiser over both discriminators) on the generated images passed through a history
      pool of ``pool_size`` images each: ``LS(D_A(a), 1) + LS(D_A(pool(F(b))), 0) + LS(D_B(b), 1) +
      LS(D_B(pool(G(a))), 0)``.

    ``LS`` is the least-squares GAN loss (:class:`~monai_xrgan.losses.GANLoss` ``"lsgan"``), ``CE``
    :func:`probability_cross_entropy`, ``(w_adv, w_cycle, w_identity) = class_weights``.

    Each iteration takes the next batch of ``train_data_loader`` (domain A, with labels) and the next batch of
    ``hq_data_loader`` (domain B), which is restarted (and re-shuffled) whenever it runs out; an epoch is as long as the
    longer of the two, the reference's zip of the two shuffled sets.

    Args:
        device, max_epochs: as in :class:`MultiNetworkTrainer`.
        train_data_loader: batches of domain A, dictionaries with ``lq_key`` and ``label_key``.
        hq_data_loader: batches of domain B, dictionaries with ``hq_key`` and ``label_key``.
        generator: ``G: A -> B`` (the restoration network), ``G(x, return_probs=True) -> (image, probabilities)``.
        inverse_generator: ``F: B -> A``, same interface.
        discriminator_lq, discriminator_hq: ``D_A`` and ``D_B``; each may return a list of features whose last
            element is the patch map (``monai.networks.nets.PatchDiscriminator``).
        g_optimizer: optimiser over the parameters of both generators.
        d_optimizer: optimiser over the parameters of both discriminators.
        g_lr_scheduler, d_lr_scheduler: optional epoch-level schedulers (:class:`~monai_xrgan.engines.LinearDecayLR`).
        lq_key, hq_key, label_key: batch keys of the images of each domain and of their class indices.
        lambda_cycle: weight of the cycle-consistency terms (10).
        lambda_identity: weight of the identity terms (5).
        class_weights: weights of the classification losses in the adversarial, cycle and identity terms
            ``(0.1, 0.01, 0.02)``.
        pool_size: images in each history pool (50; 0 disables the pools).
        adversarial_warmup: iterations at the start with the generators' adversarial terms switched off (weight 0,
            then 1; 0: the reference, full weight from the first iteration). The discriminators train throughout, so
            they learn what each domain looks like before they push the generators. A hold, not a linear ramp: while
            the adversarial terms are the only ones with a gradient at the identity start, Adam's step does not
            depend on their weight, so a ramp changes nothing.
        epoch_length: iterations per epoch, default ``max(len(train_data_loader), len(hq_data_loader))``.
        kwargs: the remaining :class:`MultiNetworkTrainer` arguments (handlers, amp, compile, ...).
    """

    def __init__(
        self,
        device: str | torch.device,
        max_epochs: int,
        train_data_loader: Iterable,
        hq_data_loader: Iterable,
        generator: nn.Module,
        inverse_generator: nn.Module,
        discriminator_lq: nn.Module,
        discriminator_hq: nn.Module,
        g_optimizer: Optimizer,
        d_optimizer: Optimizer,
        g_lr_scheduler: LRScheduler | None = None,
        d_lr_scheduler: LRScheduler | None = None,
        lq_key: str = "lq",
        hq_key: str = "hq",
        label_key: str = "label",
        lambda_cycle: float = 10.0,
        lambda_identity: float = 5.0,
        class_weights: Sequence[float] = (0.1, 0.01, 0.02),
        pool_size: int = 50,
        adversarial_warmup: int = 0,
        epoch_length: int | None = None,
        train_handlers: Sequence | None = None,
        prepare_batch: Callable | None = None,
        **kwargs: Any,
    ) -> None:
        if len(class_weights) != 3:
            raise ConfigError(f"class_weights must be 3 weights (adversarial, cycle, identity), got {class_weights!r}.")
        if epoch_length is None:
            epoch_length = max(len(train_data_loader), len(hq_data_loader))  # type: ignore[arg-type]
        # set before the base class attaches the handlers: the checkpointer reads the pools
        self.hq_data_loader = hq_data_loader
        self.lq_key, self.hq_key, self.label_key = lq_key, hq_key, label_key
        self.lambda_cycle = lambda_cycle
        self.lambda_identity = lambda_identity
        self.class_weights = tuple(float(w) for w in class_weights)
        self.adversarial_warmup = require_count(adversarial_warmup, "adversarial_warmup")
        self.pools = {"lq": ImagePool(pool_size), "hq": ImagePool(pool_size)}
        self.gan_loss = GANLoss("lsgan")
        self._hq_batches: Iterator | None = None
        self._hq_passes = 0
        schedulers = {"generators": g_lr_scheduler, "discriminators": d_lr_scheduler}
        super().__init__(
            device=device,
            max_epochs=max_epochs,
            train_data_loader=train_data_loader,
            networks={
                "generator": generator,
                "inverse_generator": inverse_generator,
                "discriminator_lq": discriminator_lq,
                "discriminator_hq": discriminator_hq,
            },
            optimizers={"generators": g_optimizer, "discriminators": d_optimizer},
            lr_schedulers={k: v for k, v in schedulers.items() if v is not None},
            epoch_length=epoch_length,
            train_handlers=train_handlers,
            prepare_batch=prepare_batch,
            **kwargs,
        )

    def checkpoint_objects(self) -> dict[str, Any]:
        """The base class's objects plus the two history pools, so that a resumed run continues exactly."""
        return {**super().checkpoint_objects(), **{f"image_pool_{name}": pool for name, pool in self.pools.items()}}

    def next_hq_batch(self) -> Any:
        """The next batch of ``hq_data_loader``, restarting it (next epoch of its sampler) when it runs out."""
        if self._hq_batches is not None:
            batch = next(self._hq_batches, None)
            if batch is not None:
                return batch
            self._hq_passes += 1
        sampler = getattr(self.hq_data_loader, "sampler", None)
        if isinstance(sampler, DistributedSampler):
            sampler.set_epoch(self._hq_passes)
        self._hq_batches = iter(self.hq_data_loader)
        return next(self._hq_batches)

    def adversarial_weight(self) -> float:
        """Weight of the generators' adversarial terms at the current iteration (see ``adversarial_warmup``)."""
        if self.adversarial_warmup == 0:
            return 1.0
        return 0.0 if self.state.iteration <= self.adversarial_warmup else 1.0

    def _discriminate(self, name: str, image: torch.Tensor) -> torch.Tensor:
        out = self.networks[name](image)
        return out[-1] if isinstance(out, (list, tuple)) else out

    def _iteration(self, engine: R2CGANTrainer, batchdata: dict[str, Any]) -> dict[str, Any]:
        lq_batch, hq_batch = engine.batch(batchdata), engine.batch(engine.next_hq_batch())
        real_a, label_a = lq_batch[engine.lq_key], lq_batch[engine.label_key]
        real_b, label_b = hq_batch[engine.hq_key], hq_batch[engine.label_key]
        g_ab, g_ba = engine.networks["generator"], engine.networks["inverse_generator"]
        engine.set_train_mode(True)

        with engine.frozen("discriminator_lq", "discriminator_hq"):
            with engine.autocast():
                fake_b, p_fake_b = g_ab(real_a, return_probs=True)
                fake_a, p_fake_a = g_ba(real_b, return_probs=True)
                rec_a, p_rec_a = g_ba(fake_b, return_probs=True)
                rec_b, p_rec_b = g_ab(fake_a, return_probs=True)
                idt_a, p_idt_a = g_ba(real_a, return_probs=True)
                idt_b, p_idt_b = g_ab(real_b, return_probs=True)
                adv_b = engine._discriminate("discriminator_hq", fake_b)
                adv_a = engine._discriminate("discriminator_lq", fake_a)
            ce = probability_cross_entropy
            w_adv, w_cycle, w_identity = engine.class_weights
            loss_adv = engine.gan_loss(adv_b, True, for_discriminator=False) + engine.gan_loss(
                adv_a, True, for_discriminator=False
            )
            w_gan = engine.adversarial_weight()
            loss_cycle = F.l1_loss(rec_a.float(), real_a.float()) + F.l1_loss(rec_b.float(), real_b.float())
            loss_identity = F.l1_loss(idt_a.float(), real_a.float()) + F.l1_loss(idt_b.float(), real_b.float())
            loss_class = (
                w_adv * (ce(p_fake_b, label_a) + ce(p_fake_a, label_b))
                + engine.lambda_cycle * w_cycle * (ce(p_rec_a, label_a) + ce(p_rec_b, label_b))
                + engine.lambda_identity * w_identity * (ce(p_idt_a, label_a) + ce(p_idt_b, label_b))
            )
            loss_g = w_gan * loss_adv + engine.lambda_cycle * loss_cycle + engine.lambda_identity * loss_identity
            loss_g = loss_g + loss_class
            engine.optimize(loss_g, "generators")

        pooled_a, pooled_b = engine.pools["lq"](fake_a), engine.pools["hq"](fake_b)
        with engine.autocast():
            d_real_a, d_fake_a = (
                engine._discriminate("discriminator_lq", real_a),
                engine._discriminate("discriminator_lq", pooled_a),
            )
            d_real_b, d_fake_b = (
                engine._discriminate("discriminator_hq", real_b),
                engine._discriminate("discriminator_hq", pooled_b),
            )
        gan = engine.gan_loss
        loss_d = gan(d_real_a, True) + gan(d_fake_a, False) + gan(d_real_b, True) + gan(d_fake_b, False)
        engine.optimize(loss_d, "discriminators")

        return {
            "lq": real_a,
            "hq": real_b,
            "pred": fake_b.detach(),
            "inverse": fake_a.detach(),
            "probs": p_fake_b.detach(),
            "loss_g": loss_g.detach(),
            "loss_g_adv": loss_adv.detach(),
            "loss_g_cycle": loss_cycle.detach(),
            "loss_g_identity": loss_identity.detach(),
            "loss_g_class": loss_class.detach(),
            "loss_d": loss_d.detach(),
        }


class FlatClassificationReport(ClassificationReportHandler):
    """:class:`~monai_xrgan.metrics.ClassificationReportHandler` of ``probs`` vs ``label`` whose report goes to
    ``engine.state.metrics`` as flat entries named ``<name><key>`` (attach it under a prefix such as ``"val_"``):
    ``accuracy``, ``balanced_accuracy``, ``macro_f1``, ``macro_auc``, per class ``<class>_sensitivity``,
    ``_specificity``, ``_precision``, ``_f1``, ``_auc`` (undefined AUCs are left out) and ``confusion_matrix`` (rows:
    true class). MONAI's stats handlers log and plot the scalars; a nested report would be flattened without its names.

    Args:
        num_classes: number of classes.
        class_names: names of the classes.
    """

    def __init__(self, num_classes: int, class_names: Sequence[str] | None = None) -> None:
        super().__init__(num_classes, class_names, output_transform=from_engine(["probs", CommonKeys.LABEL]))

    def completed(self, engine: Engine, name: str) -> None:
        report = self.compute()
        flat: dict[str, Any] = {k: report[k] for k in ("accuracy", "balanced_accuracy", "macro_f1", "macro_auc")}
        for class_name, entry in report["per_class"].items():
            flat.update({f"{class_name}_{k}": v for k, v in entry.items() if k != "support"})
        flat["confusion_matrix"] = report["confusion_matrix"]
        engine.state.metrics.update({f"{name}{k}": v for k, v in flat.items() if v is not None})


def degradation_kinds(description: str) -> set[str]:
    """The kinds named by a degradation description of the demo datalists
    (:meth:`~monai_xrgan.transforms.degradation.RandDegradation.describe`): ``"motion_blur:3+poisson_noise:2"`` ->
    ``{"motion_blur", "poisson_noise"}``, ``"none"`` or ``""`` -> ``set()``."""
    if not isinstance(description, str):
        raise ConfigError(
            f"a degradation description must be a string like 'motion_blur:3+poisson_noise:2', got {description!r}."
        )
    return {part.split(":")[0].strip() for part in description.split("+") if part.strip() not in ("", "none")}


class ImageSimilarityByGroup(Metric):
    """PSNR and SSIM of ``pred`` vs ``target`` per image on ``[0, 1]`` intensities (as
    :func:`~monai_xrgan.metrics.image.image_similarity_metrics`), averaged over the images of each group: an image
    belongs to group ``g`` when its degradation description (``group`` output) names one of ``groups[g]`` (an image
    with blur and noise counts in both groups). Results go to ``engine.state.metrics`` as ``<prefix>psnr_<g>`` and
    ``<prefix>ssim_<g>``; a group without images is left out. For single-process evaluation (the per-image values are
    not gathered across ranks).

    Args:
        groups: group name -> degradation kinds, default :data:`DEGRADATION_GROUPS`.
        value_range: intensity range of the images.
        pred_key: output key of the image to score (``"image"`` scores the unrestored input).
        target_key: output key of the clean reference.
        group_key: output key of the degradation descriptions.
        prefix: prefix of the metric names, e.g. ``"test_"``.
    """

    def __init__(
        self,
        groups: Mapping[str, Sequence[str]] | None = None,
        value_range: Sequence[float] = (-1.0, 1.0),
        pred_key: str = CommonKeys.PRED,
        target_key: str = "target",
        group_key: str = "group",
        prefix: str = "",
    ) -> None:
        self.prefix = prefix
        self.groups = {str(g): frozenset(kinds) for g, kinds in (groups or DEGRADATION_GROUPS).items()}
        self.pairs = UnitRangePairs(value_range, pred_key, target_key)
        self.select_groups = from_engine(group_key)
        self.psnr, self.ssim = PSNRMetric(max_val=1.0), SSIMMetric(spatial_dims=2, data_range=1.0)
        super().__init__()

    def reset(self) -> None:
        self.records: list[tuple[float, float, set[str]]] = []

    def update(self, output: Any) -> None:
        preds, targets = self.pairs(output)
        descriptions = self.select_groups(output)
        pred, target = torch.stack(preds), torch.stack(targets)
        psnr, ssim = self.psnr(pred, target).view(-1), self.ssim(pred, target).view(-1)
        self.psnr.reset(), self.ssim.reset()
        for p, s, d in zip(psnr.tolist(), ssim.tolist(), descriptions):
            self.records.append((p, s, degradation_kinds(d)))

    def compute(self) -> dict[str, float]:
        results: dict[str, float] = {}
        for group, kinds in self.groups.items():
            members = [(p, s) for p, s, found in self.records if found & kinds]
            if members:
                results[f"psnr_{group}"] = sum(p for p, _ in members) / len(members)
                results[f"ssim_{group}"] = sum(s for _, s in members) / len(members)
        return results

    def completed(self, engine: Engine, name: str) -> None:
        engine.state.metrics.update({f"{self.prefix}{k}": v for k, v in self.compute().items()})


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


class JointRestorationEvaluator(SupervisedEvaluator):
    """Run a generator with a classification branch (``network(x, return_probs=True) -> (restored, probabilities)``)
    over a loader and score it.

    Outputs keep MONAI's names where they exist: ``image`` (input), ``pred`` (restored image), ``probs`` (class
    probabilities), ``label`` (class index, when the batch has ``label_key``), ``target`` (clean reference image, when
    the batch has ``target_key``). Metrics, each only when its inputs are configured:

    * with ``target_key``: ``{prefix}ssim``, ``{prefix}psnr``, ``{prefix}mae`` of ``pred`` vs ``target`` on ``[0, 1]``
      intensities (:func:`~monai_xrgan.metrics.image.image_similarity_metrics`; ``key_metric`` selects the best
      model), and with ``identity_baseline`` the same for the unrestored input (``{prefix}identity_*``);
    * with ``label_key`` and ``num_classes``: the classification report of ``probs`` (argmax) vs ``label`` as flat
      metrics (:class:`FlatClassificationReport`): ``{prefix}accuracy``, ``{prefix}macro_f1``, per class
      ``{prefix}<class>_sensitivity``, ``_specificity``, ``_f1``... (e.g. ``val_covid_f1``),
      ``{prefix}confusion_matrix``;
    * with ``target_key`` and ``group_key``: PSNR and SSIM per degradation type (:class:`ImageSimilarityByGroup`),
      ``{prefix}psnr_<type>``, ``{prefix}ssim_<type>`` (and ``{prefix}identity_psnr_<type>``... with
      ``identity_baseline``), the types read from each item's degradation description under ``group_key``.

    Without a target and labels (inference) it only runs the network; postprocessing and handlers see the outputs.

    Args:
        device: device to run on.
        val_data_loader: loader of dictionary batches.
        network: the generator.
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
        groups: degradation types of the breakdown, type -> kinds (default :data:`DEGRADATION_GROUPS`).
        amp: bfloat16 autocast on CUDA devices (ignored on CPU).
        kwargs: other :class:`monai.engines.SupervisedEvaluator` arguments (``val_handlers``, ``postprocessing``,
            ``inferer``, ``mode``, ...).
    """

    def __init__(
        self,
        device: str | torch.device,
        val_data_loader: Iterable,
        network: nn.Module,
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
        amp: bool = False,
        **kwargs: Any,
    ) -> None:
        metrics: dict[str, Any] = {}
        key_metrics = None
        if target_key is not None:
            metrics.update(image_similarity_metrics(value_range, prefix=metric_prefix, target_key="target"))
            if f"{metric_prefix}{key_metric}" not in metrics:
                raise ConfigError(f"key_metric must be one of ssim, psnr, mae; got {key_metric!r}.")
            key_metrics = {f"{metric_prefix}{key_metric}": metrics.pop(f"{metric_prefix}{key_metric}")}
            if identity_baseline:
                metrics.update(
                    image_similarity_metrics(
                        value_range, prefix=f"{metric_prefix}identity_", pred_key="image", target_key="target"
                    )
                )
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
        use_amp = amp and torch.device(device).type == "cuda"
        super().__init__(
            device=device,
            val_data_loader=val_data_loader,
            network=network,
            key_val_metric=key_metrics,
            additional_metrics=metrics or None,
            amp=use_amp,
            amp_kwargs={"dtype": torch.bfloat16} if use_amp else None,
            **kwargs,
        )
        self.input_key, self.target_key, self.label_key = input_key, target_key, label_key
        self.group_key = group_key if target_key is not None else None

    def _iteration(self, engine: JointRestorationEvaluator, batchdata: dict[str, Any]) -> dict[str, Any]:
        inputs = to_device(batchdata[engine.input_key], engine.state.device, engine.non_blocking)
        autocast = torch.autocast("cuda", **engine.amp_kwargs) if engine.amp else contextlib.nullcontext()
        with engine.mode(engine.network), autocast:
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
        engine.state.output = output
        engine.fire_event(IterationEvents.FORWARD_COMPLETED)
        engine.fire_event(IterationEvents.MODEL_COMPLETED)
        return engine.state.output  # decollated by the MODEL_COMPLETED handler
