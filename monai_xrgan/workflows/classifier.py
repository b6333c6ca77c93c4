"""Train and evaluate a 2-D image classifier (ResNet by default) with MONAI's supervised engines.

Used by the augmentation experiments (real vs real + synthetic training data) of every bundle: items are dicts
``{"image": path, "label": class index}`` of any 2-D image :class:`~monai_xrgan.transforms.LoadXRay` reads.
"""

from __future__ import annotations

import math
import numbers
import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from ignite.engine import Engine, Events
from ignite.metrics import Average
from monai.apps.utils import get_logger
from monai.data import CacheDataset, DataLoader, Dataset, ThreadDataLoader
from monai.engines import SupervisedEvaluator, SupervisedTrainer
from monai.handlers import StatsHandler
from monai.networks import nets
from monai.transforms import Activationsd, Compose, EnsureTyped, RandAdjustContrastd, RandAffined
from monai.utils import CommonKeys, set_determinism
from torch import nn

from monai_xrgan.handlers.guards import StopOnNonFiniteLoss
from monai_xrgan.handlers.metrics_io import write_json_atomic
from monai_xrgan.metrics.classification import ClassificationReportHandler, resolve_class_names
from monai_xrgan.transforms.xray import XRayPreprocessd
from monai_xrgan.utils.checks import check_int, require_count
from monai_xrgan.utils.errors import ConfigError, MissingInputError

__all__ = [
    "ARCHITECTURES",
    "STANDARD_STEM",
    "EpochMetricHistory",
    "build_classifier",
    "check_labelled_items",
    "class_counts",
    "class_weights",
    "classifier_transforms",
    "evaluate_classifier",
    "labelled_items",
    "train_and_evaluate_classifier",
    "train_classifier",
    "write_classifier_report",
]

#: MONAI network constructors accepted as ``arch``
ARCHITECTURES = {"resnet18": nets.resnet18, "resnet34": nets.resnet34, "resnet50": nets.resnet50}
#: the standard (torchvision / ImageNet) ResNet stem: 7x7 stride-2 conv + max-pool, no bias in the shortcut convs.
#: MONAI's default stride-1 stem keeps 4x more activations (5.2 s instead of 0.9 s per 16-image step at 128x128 on
#: 2 CPU cores) and is not the ResNet-50 of the papers.
STANDARD_STEM = {"conv1_t_stride": 2, "bias_downsample": False}
REPORT_METRIC = "classification_report"
#: labelled items, or a function of no argument that returns them (called only when they are needed)
ItemsSource = Sequence[Mapping[str, Any]] | Callable[[], Sequence[Mapping[str, Any]]]

logger = get_logger("monai_xrgan.workflows")


def build_classifier(num_classes: int, in_channels: int = 1, arch: str = "resnet50", **kwargs: Any) -> nn.Module:
    """A 2-D classifier from :mod:`monai.networks.nets`, randomly initialised (nothing is downloaded).

    With the default stem this is layer for layer the torchvision ResNet (ResNet-50, 1 input channel, 3 classes:
    23,507,907 parameters); the network returns logits ``(B, num_classes)``.

    Args:
        num_classes: number of output classes (>= 2).
        in_channels: input channels (1 for radiographs).
        arch: one of :data:`ARCHITECTURES` (``"resnet50"``, ``"resnet34"``, ``"resnet18"``).
        kwargs: other :class:`monai.networks.nets.ResNet` arguments, overriding :data:`STANDARD_STEM`.
    """
    resolve_class_names(num_classes)
    if arch not in ARCHITECTURES:
        raise ConfigError(f"arch must be one of {sorted(ARCHITECTURES)}, got {arch!r}.")
    if isinstance(in_channels, bool) or not isinstance(in_channels, numbers.Integral) or in_channels < 1:
        raise ConfigError(f"in_channels must be a positive integer, got {in_channels!r}.")
    options = {**STANDARD_STEM, **kwargs, "pretrained": False}
    return ARCHITECTURES[arch](
        spatial_dims=2, n_input_channels=int(in_channels), num_classes=int(num_classes), **options
    )


def check_labelled_items(items: Any, num_classes: int, name: str = "items") -> list[dict[str, Any]]:
    """Check ``[{"image": path, "label": class index}, ...]`` and return copies with only those two keys.

    ``image`` may also be an image already in memory (a channel-first tensor or array, e.g. a generated image),
    for a ``preprocessing`` that takes such images (see :func:`classifier_transforms`).

    Raises a one-line :class:`ConfigError` (empty list, missing key, label not an integer in ``[0, num_classes)``)
    or :class:`MissingInputError` (image file not found) naming ``name[i]``.
    """
    resolve_class_names(num_classes)
    if isinstance(items, (str, bytes, Mapping)) or not isinstance(items, Sequence):
        raise ConfigError(
            f"{name} must be a list of {{'image': path, 'label': class index}} dicts, got {type(items).__name__}."
        )
    if len(items) == 0:
        raise ConfigError(f"{name} is empty; give at least one {{'image': path, 'label': class index}} item.")
    checked = []
    for i, item in enumerate(items):
        where = f"{name}[{i}]"
        if not isinstance(item, Mapping):
            raise ConfigError(f"{where} must be a dict {{'image': path, 'label': index}}, got {type(item).__name__}.")
        missing = [k for k in ("image", "label") if k not in item]
        if missing:
            raise ConfigError(
                f"{where} has no {missing}; every item needs 'image' (a file) and 'label' (a class index in "
                f"[0, {num_classes - 1}])."
            )
        label = item["label"]
        if isinstance(label, torch.Tensor) and label.numel() == 1 and not label.is_floating_point():
            label = label.item()
        if isinstance(label, bool) or not isinstance(label, numbers.Integral) or not 0 <= label < num_classes:
            raise ConfigError(
                f"{where}['label'] = {label!r} is not a class index in [0, {num_classes - 1}] "
                f"(num_classes={num_classes})."
            )
        image = item["image"]
        if isinstance(image, (torch.Tensor, np.ndarray)):
            checked.append({"image": image, "label": int(label)})
            continue
        if not isinstance(image, (str, os.PathLike)) or not os.path.isfile(image):
            raise MissingInputError(f"{where}['image'] = {image!r} is not an existing file; fix the path.")
        checked.append({"image": os.fspath(image), "label": int(label)})
    return checked


def labelled_items(
    items: Sequence[Mapping[str, Any]], image_key: str = "image", label_key: str = "label"
) -> list[dict[str, Any]]:
    """``[{"image": item[image_key], "label": item[label_key]}, ...]``: datalist items (e.g. ``{"lq", "label", ...}``)
    as the classifier's items, every other key dropped."""
    if isinstance(items, (str, bytes, Mapping)) or not isinstance(items, Sequence):
        raise ConfigError(f"items must be a list of dicts, got {type(items).__name__}.")
    for i, item in enumerate(items):
        if not isinstance(item, Mapping) or image_key not in item or label_key not in item:
            raise ConfigError(f"items[{i}] must be a dict with '{image_key}' and '{label_key}', got {item!r}.")
    return [{"image": item[image_key], "label": item[label_key]} for item in items]


def class_counts(items: Sequence[Mapping[str, Any]], num_classes: int) -> list[int]:
    """Number of items of each class (``items`` as returned by :func:`check_labelled_items`)."""
    labels = np.asarray([item["label"] for item in items], dtype=np.int64)
    return np.bincount(labels, minlength=num_classes).astype(int).tolist()


def class_weights(counts: Sequence[int]) -> torch.Tensor:
    """Cross-entropy weights ``N / (C * n_c)`` ("balanced": every class weighs as much in the loss); ``0`` for a class
    without images (it never is a target, so its weight is unused)."""
    counts_t = torch.as_tensor(counts, dtype=torch.float32)
    total, classes = float(counts_t.sum()), len(counts_t)
    return torch.where(counts_t > 0, total / (classes * counts_t.clamp(min=1)), torch.zeros_like(counts_t))


def classifier_transforms(image_size: int, augment: bool = False, preprocessing: Callable | None = None) -> Compose:
    """Load + resize/pad to ``image_size`` + ``[0, 1]`` intensities (+ light random augmentation), plain tensors.

    ``preprocessing`` replaces the loading step (default :class:`~monai_xrgan.transforms.XRayPreprocessd`): a
    dictionary transform giving ``image`` as ``(1, image_size, image_size)`` in ``[0, 1]``, e.g. for CT slices or
    images held in memory.

    The augmentation is mild and anatomy-preserving: with probability 0.5 a small affine (rotation <= 5 degrees,
    translation <= 5 %, scale +-5 %, black padding), with probability 0.3 a gamma in ``[0.8, 1.25]``. There is no
    flip: a left-right flip moves the heart to the wrong side of a chest radiograph. The result is flattened, so a
    :class:`~monai.data.CacheDataset` caches everything up to the first random transform.
    """
    load = XRayPreprocessd("image", spatial_size=image_size, out_range=(0.0, 1.0), keep_dicom_tags=False)
    steps: list = [load if preprocessing is None else preprocessing]
    if augment:
        steps += [
            RandAffined(
                "image",
                prob=0.5,
                rotate_range=math.radians(5.0),
                translate_range=0.05 * image_size,
                scale_range=0.05,
                mode="bilinear",
                padding_mode="zeros",
            ),
            RandAdjustContrastd("image", prob=0.3, gamma=(0.8, 1.25)),
        ]
    steps.append(EnsureTyped("image", dtype=torch.float32, track_meta=False))  # plain tensors: metadata is unused
    return Compose(steps).flatten()


class EpochMetricHistory:
    """Trainer handler that keeps the value of ``engine.state.metrics[name]`` at the end of every epoch in ``values``,
    and the number of iterations (optimiser steps) run so far in ``iterations``.

    Args:
        name: metric to record, default the mean training loss that :func:`train_classifier` computes.
    """

    def __init__(self, name: str = "train_loss") -> None:
        self.name = name
        self.values: list[float] = []
        self.iterations = 0

    def attach(self, engine: Engine) -> None:
        engine.add_event_handler(Events.EPOCH_COMPLETED, self)

    def __call__(self, engine: Engine) -> None:
        self.values.append(float(engine.state.metrics[self.name]))
        self.iterations = int(engine.state.iteration)


def _device(device: str | torch.device | None) -> torch.device:
    return torch.device(device if device is not None else ("cuda" if torch.cuda.is_available() else "cpu"))


def _batch_loss(output: Mapping[str, Any]) -> torch.Tensor:
    """The loss of a training step, detached (the trainer's output is one dict per batch: ``decollate=False``)."""
    return output[CommonKeys.LOSS].detach()


def train_classifier(
    train_items: Sequence[Mapping[str, Any]],
    num_classes: int,
    image_size: int = 128,
    epochs: int = 10,
    batch_size: int = 16,
    lr: float = 1e-4,
    seed: int = 0,
    device: str | torch.device | None = None,
    arch: str = "resnet50",
    widen_factor: float = 1.0,
    num_workers: int = 2,
    log_every: int | None = None,
    class_weighted: bool = True,
    augment: bool = True,
    train_handlers: Sequence[Any] | None = None,
    preprocessing: Callable | None = None,
    steps_per_epoch: int | None = None,
) -> nn.Module:
    """Train :func:`build_classifier` from scratch with a MONAI ``SupervisedTrainer``; return it in eval mode.

    Images go through :func:`classifier_transforms` (cached up to the random augmentation in a
    :class:`~monai.data.CacheDataset`, shuffled by a :class:`~monai.data.ThreadDataLoader`). Adam, cross entropy.
    Class imbalance is handled by weighting the cross entropy with :func:`class_weights` (not by resampling): every
    image is seen exactly once per epoch (by default; ``steps_per_epoch`` fixes the number of steps instead), so two
    training sets differ only in their images, and a real-only baseline is already imbalance-corrected. A
    :class:`~monai.handlers.StatsHandler` logs the mean loss of every epoch (``train_loss``, also in
    ``engine.state.metrics``).

    Runs are reproducible: :func:`monai.utils.set_determinism` is called with ``seed`` before the network is built, so
    two runs with the same seed start from the same weights, and with the same data, device and ``num_workers`` they
    shuffle and augment the same way.

    Args:
        train_items: ``[{"image": path, "label": class index}, ...]``.
        num_classes: number of classes.
        image_size: side of the square network input.
        epochs: training epochs.
        batch_size: images per step (a last batch of a single image is dropped: its batch-norm statistics are
            degenerate, and undefined at the 1x1 last stage of small inputs).
        lr: Adam learning rate.
        seed: seed of weights, shuffling and augmentation.
        device: ``"cpu"``, ``"cuda"``…; default CUDA when available.
        arch: see :func:`build_classifier`.
        widen_factor: channel multiplier of every ResNet stage (:class:`monai.networks.nets.ResNet`; e.g. 0.5 for a
            small, fast classifier of small demo images).
        num_workers: data-loading worker processes (0: load in the main process).
        log_every: also log the loss every ``log_every`` iterations (default: once per epoch only).
        class_weighted: weight the cross entropy by inverse class frequency.
        augment: use the random augmentation of :func:`classifier_transforms`.
        train_handlers: extra handlers (objects with ``attach(engine)``) attached to the trainer after the loss
            metric, e.g. :class:`EpochMetricHistory` or checkpointers.
        preprocessing: loading step of :func:`classifier_transforms` (default: radiographs from files).
        steps_per_epoch: optimiser steps per epoch (the shuffled data start again when they run out); default one
            pass over ``train_items``. Set it to give training sets of different sizes the same number of steps.
    """
    items = check_labelled_items(train_items, num_classes, "train_items")
    epochs, batch_size = check_int("epochs", epochs, 1), check_int("batch_size", batch_size, 1)
    if log_every is not None:
        log_every = check_int("log_every", log_every, 1)
    if steps_per_epoch is not None:
        steps_per_epoch = check_int("steps_per_epoch", steps_per_epoch, 1)
    num_workers = require_count(num_workers, "num_workers")
    if not isinstance(lr, numbers.Real) or not lr > 0:
        raise ConfigError(f"lr must be a positive number, got {lr!r}.")
    if isinstance(widen_factor, bool) or not isinstance(widen_factor, numbers.Real) or not widen_factor > 0:
        raise ConfigError(f"widen_factor must be a positive number, got {widen_factor!r}.")
    device = _device(device)
    counts = class_counts(items, num_classes)
    if 0 in counts:
        logger.warning(f"train_items have no image of class(es) {[c for c, n in enumerate(counts) if n == 0]}.")

    set_determinism(seed=seed)
    network = build_classifier(num_classes, in_channels=1, arch=arch, widen_factor=widen_factor).to(device)
    transform = classifier_transforms(image_size, augment, preprocessing)
    dataset = CacheDataset(items, transform, cache_rate=1.0, num_workers=max(1, int(num_workers)), progress=False)
    loader = ThreadDataLoader(
        dataset,
        batch_size=batch_size,
        shuffle=True,
        num_workers=int(num_workers),
        drop_last=len(items) % batch_size == 1 and len(items) > 1,
    )
    weight = class_weights(counts).to(device) if class_weighted else None
    trainer = SupervisedTrainer(
        device=device,
        max_epochs=epochs,
        epoch_length=steps_per_epoch,
        train_data_loader=loader,
        network=network,
        optimizer=torch.optim.Adam(network.parameters(), lr=float(lr)),
        loss_function=nn.CrossEntropyLoss(weight=weight),
        decollate=False,
    )
    Average(output_transform=_batch_loss).attach(trainer, "train_loss")  # before the handlers that read it
    handlers = [
        StopOnNonFiniteLoss(output_transform=lambda output: {"loss": _batch_loss(output)}),
        StatsHandler(
            name=logger.name,
            tag_name="train_loss",
            iteration_log=(lambda _, iteration: iteration % log_every == 0) if log_every else False,
            output_transform=_batch_loss,
        ),
        *(train_handlers or []),
    ]
    for handler in handlers:
        handler.attach(trainer)
    logger.info(
        f"Training {arch} on {len(items)} images (per class {counts}), {image_size}x{image_size}, {epochs} epochs"
        f"{f' of {steps_per_epoch} steps' if steps_per_epoch else ''}, batch {batch_size}, lr {lr}, seed {seed}, "
        f"{device}."
    )
    trainer.run()
    return network.eval()


def evaluate_classifier(
    model: nn.Module,
    test_items: Sequence[Mapping[str, Any]],
    num_classes: int,
    class_names: Sequence[str] | None = None,
    image_size: int = 128,
    batch_size: int = 32,
    device: str | torch.device | None = None,
    positive_class: int | str | None = None,
    num_workers: int = 0,
    preprocessing: Callable | None = None,
) -> dict[str, Any]:
    """Run ``model`` on ``test_items`` with :class:`monai.engines.SupervisedEvaluator` and return its
    :func:`~monai_xrgan.metrics.classification.classification_report` (softmax probabilities give the AUCs).

    Args:
        model: classifier returning logits ``(B, num_classes)``.
        test_items: ``[{"image": path, "label": class index}, ...]``.
        num_classes: number of classes.
        class_names: names of the classes in the report.
        image_size: side of the square network input (as in training).
        batch_size: images per forward pass.
        device: default CUDA when available.
        positive_class: class (index or name) also reported at the top level.
        num_workers: data-loading worker processes.
        preprocessing: loading step of :func:`classifier_transforms`, as in training.
    """
    items = check_labelled_items(test_items, num_classes, "test_items")
    names = resolve_class_names(num_classes, class_names)
    device = _device(device)
    loader = DataLoader(
        Dataset(items, classifier_transforms(image_size, preprocessing=preprocessing)),
        batch_size=check_int("batch_size", batch_size, 1),
        shuffle=False,
        num_workers=num_workers,
    )
    evaluator = SupervisedEvaluator(
        device=device,
        val_data_loader=loader,
        network=model.to(device),
        postprocessing=Activationsd(keys="pred", softmax=True),
    )
    ClassificationReportHandler(num_classes, names, positive_class).attach(evaluator, REPORT_METRIC)
    evaluator.run()
    report = evaluator.state.metrics[REPORT_METRIC]
    logger.info(
        f"Evaluated on {report['num_samples']} images: accuracy {report['accuracy']:.4f}, "
        f"macro F1 {report['macro_f1']:.4f}."
    )
    return report


def train_and_evaluate_classifier(
    train_items: Sequence[Mapping[str, Any]],
    test_items: Sequence[Mapping[str, Any]],
    num_classes: int,
    class_names: Sequence[str] | None = None,
    positive_class: int | str | None = None,
    image_size: int = 128,
    device: str | torch.device | None = None,
    preprocessing: Callable | None = None,
    **settings: Any,
) -> dict[str, Any]:
    """:func:`train_classifier` on ``train_items`` then :func:`evaluate_classifier` on ``test_items`` with the same
    image size, device and ``preprocessing``; return the test report.

    Args:
        train_items, test_items: ``[{"image": path or image in memory, "label": class index}, ...]``.
        num_classes, class_names, positive_class: as in :func:`evaluate_classifier`.
        image_size, device, preprocessing: as in :func:`train_classifier`, used for both sets.
        settings: the other :func:`train_classifier` arguments (``arch``, ``epochs``, ``seed``, ``num_workers``...).
    """
    model = train_classifier(
        train_items, num_classes, image_size=image_size, device=device, preprocessing=preprocessing, **settings
    )
    return evaluate_classifier(
        model,
        test_items,
        num_classes,
        class_names=class_names,
        image_size=image_size,
        device=device,
        positive_class=positive_class,
        num_workers=0,
        preprocessing=preprocessing,
    )


def write_classifier_report(
    path: str | os.PathLike,
    description: str,
    train_items: ItemsSource,
    test_items: ItemsSource,
    num_classes: int,
    class_names: Sequence[str] | None = None,
    positive_class: int | str | None = None,
    *,
    split: str,
    classifier: Mapping[str, Any],
    image_size: int = 128,
    seed: int = 0,
    device: str | torch.device | None = None,
    preprocessing: Callable | None = None,
) -> Path:
    """:func:`train_and_evaluate_classifier` with the ``classifier`` settings (``arch``, ``epochs``, ``batch_size``,
    ``lr``...), then write ``{"baseline": description, "split": split, "classifier": classifier, "report": report}``
    to ``path`` (JSON, atomically); return ``path``.

    Args:
        train_items, test_items: ``[{"image": ..., "label": ...}, ...]``, or functions of no argument that return them,
            called here (e.g. a ``functools.partial`` of :func:`~monai_xrgan.engines.restored_items`, which runs a
            restoration evaluator), train first.
        split: the datalist split the test items come from, recorded in the file.
        image_size, seed, device, preprocessing: as in :func:`train_and_evaluate_classifier`; data loading runs in
            the main process (``num_workers=0``).
    """
    if not isinstance(classifier, Mapping):
        raise ConfigError(f"classifier must be a dict of train_classifier settings, got {type(classifier).__name__}.")
    train = train_items() if callable(train_items) else train_items
    test = test_items() if callable(test_items) else test_items
    report = train_and_evaluate_classifier(
        train, test, num_classes, class_names, positive_class, image_size=image_size, seed=seed, device=device,
        num_workers=0, preprocessing=preprocessing, **classifier,
    )  # fmt: skip
    record = {"baseline": description, "split": split, "classifier": dict(classifier), "report": report}
    return write_json_atomic(path, record)
