"""Runs of a trained DRAI model that the bundle's configs call: generation for given conditions and seeds,
content/style swaps between images, encode-and-regenerate inference (the image-to-image path MONAI Label serves)
and the evaluation (disentanglement, feature distance, condition accuracy with a shared classifier of real images,
latent grids; trained weights or the untrained floor)."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import torch
from ignite.handlers import DiskSaver
from torch import nn
from torch.utils.tensorboard import SummaryWriter

from monai_xrgan.handlers.metrics_io import write_json_atomic
from monai_xrgan.inferers.drai import content_style_grid, generate_images
from monai_xrgan.io.xray import write_png
from monai_xrgan.metrics.classification import classification_report, resolve_class_names
from monai_xrgan.metrics.disentanglement import disentanglement_report, encode_images, stack_batches
from monai_xrgan.metrics.feature_distance import classifier_outputs, condition_accuracy, frechet_distance
from monai_xrgan.networks.drai import DRAIAutoencoder
from monai_xrgan.transforms.xray import XRayPreprocessd
from monai_xrgan.utils.checks import require_file, require_flag
from monai_xrgan.utils.distributed import unwrap
from monai_xrgan.utils.errors import ConfigError
from monai_xrgan.utils.weights import load_network_weights
from monai_xrgan.visualize import image_grid, to_display
from monai_xrgan.workflows.classifier import build_classifier, train_classifier

__all__ = [
    "save_images",
    "write_generated",
    "write_swaps",
    "one_image_per_class",
    "spread_images",
    "reference_classifier",
    "load_drai_weights",
    "evaluate_drai",
]

logger = logging.getLogger(__name__)


def _class_indices(conditions: Sequence[int | str] | None, class_names: Sequence[str]) -> list[int]:
    """Class indices of ``conditions`` (indices or names, duplicates dropped); every class when ``None``."""
    names = list(class_names)
    if conditions is None:
        return list(range(len(names)))
    indices: list[int] = []
    for condition in conditions:
        if isinstance(condition, str) and condition in names:
            index = names.index(condition)
        elif isinstance(condition, int) and not isinstance(condition, bool) and 0 <= condition < len(names):
            index = condition
        else:
            raise ConfigError(
                f"conditions: {condition!r} is not a class index in [0, {len(names) - 1}] or one of {names}."
            )
        if index not in indices:
            indices.append(index)
    if not indices:
        raise ConfigError(f"conditions is empty; give class indices or names from {names}, or null for every class.")
    return indices


def save_images(
    images: torch.Tensor,
    names: Sequence[str],
    output_dir: str | os.PathLike,
    value_range: Sequence[float] = (-1.0, 1.0),
) -> list[Path]:
    """Write images ``(N, C, X, Y)`` (MONAI axis order) as 8-bit PNGs ``output_dir/<name>.png``, right way up."""
    if len(images) != len(names):
        raise ConfigError(f"got {len(images)} images but {len(names)} names.")
    return [
        write_png(Path(output_dir) / f"{name}.png", to_display(image, value_range))
        for image, name in zip(images, names)
    ]


def _write_grid(grid: Any, path: Path, summary_writer: SummaryWriter | None, tag: str) -> Path:
    write_png(path, grid)
    if summary_writer is not None:
        summary_writer.add_image(tag, grid[None], global_step=0, dataformats="CHW")
    return path


def write_generated(
    generator: nn.Module,
    output_dir: str | os.PathLike,
    class_names: Sequence[str],
    conditions: Sequence[int | str] | None = None,
    samples_per_condition: int = 8,
    seed: int = 0,
) -> list[Path]:
    """Generate ``samples_per_condition`` images per condition with latents seeded by ``seed``.

    Sample ``k`` of every condition has the same content and style codes (drawn from ``seed``), so an image depends
    only on its condition, ``k`` and the seed, whichever other conditions are asked for, and the columns of the grid
    show what the condition alone changes. Writes ``output_dir/<class name>_<k>.png`` and
    ``output_dir/generated_grid.png`` (a row per condition, a column per sample); returns the image paths.

    Args:
        generator: a trained :class:`~monai_xrgan.networks.drai.DRAIGenerator`.
        output_dir: output folder.
        class_names: names of the generator's classes, in index order.
        conditions: classes to generate (indices or names); ``None``: every class.
        samples_per_condition: images per condition.
        seed: seed of the content and style codes (the same seed gives the same images).
    """
    gen = unwrap(generator)
    if len(class_names) != gen.layout.num_classes:
        raise ConfigError(
            f"class_names has {len(class_names)} names but the generator has {gen.layout.num_classes} classes."
        )
    if (
        isinstance(samples_per_condition, bool)
        or not isinstance(samples_per_condition, int)
        or samples_per_condition < 1
    ):
        raise ConfigError(f"samples_per_condition must be a positive integer, got {samples_per_condition!r}.")
    indices = _class_indices(conditions, class_names)
    images = torch.cat([generate_images(gen, torch.full((samples_per_condition,), c), seed) for c in indices])
    names = [f"{class_names[c]}_{k:03d}" for c in indices for k in range(samples_per_condition)]
    paths = save_images(images, names, output_dir)
    rows = images.view(len(indices), samples_per_condition, *images.shape[1:])
    write_png(Path(output_dir) / "generated_grid.png", image_grid([list(row) for row in rows]))
    logger.info(
        f"Generated {len(paths)} image(s) of {[class_names[c] for c in indices]} (seed {seed}) in {output_dir}."
    )
    return paths


def _load_images(paths: Sequence[str | os.PathLike], image_size: int, key: str) -> torch.Tensor:
    if isinstance(paths, (str, os.PathLike)) or not paths:
        raise ConfigError(f"{key} must be a non-empty list of image paths, got {paths!r}.")
    load = XRayPreprocessd("image", spatial_size=image_size, keep_dicom_tags=False)
    return torch.stack([load({"image": os.fspath(p)})["image"].as_tensor() for p in paths])


def one_image_per_class(items: Sequence[Mapping[str, Any]], num_classes: int) -> list[str]:
    """The ``image`` of the first item of each class ``0 .. num_classes - 1``: default content images of swaps."""
    images = []
    for label in range(num_classes):
        image = next((item["image"] for item in items if item["label"] == label), None)
        if image is None:
            raise ConfigError(f"no item of class {label} among the {len(items)} items; give content_images yourself.")
        images.append(image)
    return images


def spread_images(items: Sequence[Mapping[str, Any]], count: int = 4) -> list[str]:
    """The ``image`` of ``count`` items spread over ``items`` (every ``len // count``-th from the second, as
    classes are often listed in blocks): default style images of swaps."""
    return [item["image"] for item in items[1 :: max(1, len(items) // count)]][:count]


def write_swaps(
    encoder: nn.Module,
    generator: nn.Module,
    content_images: Sequence[str | os.PathLike],
    style_images: Sequence[str | os.PathLike],
    image_size: int,
    output_dir: str | os.PathLike,
) -> Path:
    """Content/style swaps between images: every content image re-generated with every style image's style.

    Writes ``output_dir/swap_c<i>_s<j>.png`` (condition and content of ``content_images[i]``, style of
    ``style_images[j]``, at the model's ``image_size``) and ``output_dir/swap_grid.png``: the style images along
    the top, the content images down the left, the swaps in between. Returns the grid's path.

    Args:
        encoder, generator: a trained :class:`~monai_xrgan.networks.drai.DRAIEncoder` and generator.
        content_images, style_images: image files (PNG/JPEG, DICOM, NIfTI).
        image_size: side of the model's square input.
        output_dir: output folder.
    """
    model = DRAIAutoencoder(unwrap(encoder), unwrap(generator)).eval()
    device = next(model.parameters()).device
    content = _load_images(content_images, image_size, "content_images")
    style = _load_images(style_images, image_size, "style_images")
    with torch.no_grad():
        swaps = torch.stack([model.swap(content.to(device), s[None].to(device)).float().cpu() for s in style], dim=1)
    for i, row in enumerate(swaps):
        save_images(row, [f"swap_c{i}_s{j}" for j in range(len(style))], output_dir)
    blank = torch.full_like(content[0], -1.0)
    rows = [[blank, *style]] + [[c, *row] for c, row in zip(content, swaps)]
    path = write_png(Path(output_dir) / "swap_grid.png", image_grid(rows))
    logger.info(f"Wrote {swaps.shape[0]} x {swaps.shape[1]} content/style swaps and {path}.")
    return path


def _stratified_like(labels: torch.Tensor, reference: torch.Tensor) -> torch.Tensor:
    """Indices of the first ``labels`` of each class, as many as ``reference`` has of that class."""
    counts = torch.bincount(reference, minlength=int(labels.max()) + 1)
    return torch.cat([torch.nonzero(labels == c).view(-1)[: int(n)] for c, n in enumerate(counts)])


def reference_classifier(
    train_items: Sequence[Mapping[str, Any]],
    num_classes: int,
    image_size: int,
    ckpt_path: str | os.PathLike | None = None,
    save_path: str | os.PathLike | None = None,
    settings: Mapping[str, Any] | None = None,
    seed: int = 0,
    device: str | torch.device | None = None,
) -> nn.Module:
    """The classifier of real images that reads generated ones (condition accuracy, FID-style features), in eval mode.

    Loaded (``weights_only``) from ``ckpt_path`` when given, so that several models are scored by the same classifier;
    otherwise trained from scratch on ``train_items`` by :func:`~monai_xrgan.workflows.train_classifier` and, when
    ``save_path`` is given, written there (atomically).

    Args:
        train_items: the real training items ``{"image", "label"}``.
        num_classes: number of classes.
        image_size: side of the classifier's square input.
        ckpt_path: weights of a classifier trained before (config ``classifier_ckpt``), or ``None``.
        save_path: where to write a newly trained classifier's weights, or ``None``.
        settings: :func:`~monai_xrgan.workflows.train_classifier` arguments (``arch``, default ``"resnet18"``, one of
            :data:`~monai_xrgan.workflows.classifier.ARCHITECTURES`; ``epochs``, ``batch_size``, ``lr``...); only
            ``arch`` is used when loading.
        seed: seed of the training.
        device: device of the classifier (default CUDA when available).
    """
    settings = dict(settings or {})
    arch = settings.pop("arch", "resnet18")
    if ckpt_path is None:
        classifier = train_classifier(
            train_items, num_classes, image_size=image_size, arch=arch, seed=seed, device=device, **settings
        )
        if save_path is not None:
            save_path = Path(save_path)
            save_path.parent.mkdir(parents=True, exist_ok=True)
            DiskSaver(str(save_path.parent), atomic=True, require_empty=False)(classifier.state_dict(), save_path.name)
        return classifier
    require_file(
        ckpt_path, "classifier_ckpt", "give the classifier.pt an earlier evaluation wrote, or null to train one"
    )
    classifier = build_classifier(num_classes, arch=arch)
    load_network_weights(classifier, ckpt_path, name="classifier")
    return classifier.to(device or ("cuda" if torch.cuda.is_available() else "cpu")).eval()


def load_drai_weights(
    generator: nn.Module,
    encoder: nn.Module,
    ckpt_path: str | os.PathLike,
    encoder_ckpt_path: str | os.PathLike,
    untrained: bool = False,
) -> None:
    """Load the trained generator and encoder, or with ``untrained`` keep their (seeded) initialisation: the floor
    that an evaluation of trained weights must beat."""
    if require_flag(untrained, "untrained"):
        logger.info("untrained=True: scoring the generator and encoder at their initialisation (the floor).")
        return
    hint = "train the bundle first (configs/train.json) or download its weights"
    load_network_weights(generator, require_file(ckpt_path, "ckpt_path", hint), name="generator")
    load_network_weights(encoder, require_file(encoder_ckpt_path, "encoder_ckpt_path", hint), name="encoder")


def evaluate_drai(
    generator: nn.Module,
    encoder: nn.Module,
    classifier: nn.Module,
    train_loader: Iterable,
    test_loader: Iterable,
    output_dir: str | os.PathLike,
    factor_names: Sequence[str] | None = None,
    seed: int = 0,
    grid_size: Sequence[int] = (6, 6),
    summary_writer: SummaryWriter | None = None,
    extra: Mapping[str, Any] | None = None,
    content_dim: int | None = None,
    class_names: Sequence[str] | None = None,
    samples_per_condition: int = 4,
) -> dict[str, Any]:
    """Score a trained DRAI model and write ``output_dir/metrics.json``, generated samples and the latent grids.

    * disentanglement (:func:`~monai_xrgan.metrics.disentanglement.disentanglement_report`): probes fitted on the
      encoder's codes ``[z_c, z_s]`` (not its class logits) of the training images, cut at ``content_dim``, scored
      on the test images against their known class and style: ``disentanglement`` and its ``disentanglement_class``
      and ``disentanglement_style`` parts;
    * generation: as many images per class as the test set has, with codes seeded by ``seed``, read by
      ``classifier`` (trained on the real training images): ``condition_accuracy`` (its confusion matrix in the
      record's ``condition_report``), and ``fid``, the Fréchet distance of its penultimate features to the real test
      images' (:mod:`monai_xrgan.metrics.feature_distance`); ``fid_real`` is the same distance from as many real
      training images (the floor at this sample size) and ``real_test_accuracy`` the classifier's accuracy on the
      real test images (the ceiling of the condition accuracy);
    * images: ``generated/<class>_<k>.png`` (:func:`write_generated`, ``samples_per_condition`` per class),
      ``grid_content_rows.png`` (each row one content, each column one style) and ``grid_style_rows.png`` (the
      reverse), the grids also added to ``summary_writer``.

    Args:
        generator, encoder: the trained networks.
        classifier: a classifier of the real images returning logits and having an ``fc`` last layer.
        train_loader, test_loader: batches with ``image`` (model range), ``label`` and ``style`` (the factors).
        output_dir: output folder.
        factor_names: names of the style factors.
        seed: seed of the generated codes.
        grid_size: rows and columns of the grids.
        summary_writer: TensorBoard writer for the grids, or ``None``.
        extra: fields added to the JSON record (checkpoint, datalist, ...).
        content_dim: size of the content part of the scored code (config ``content_dim``, the same for a one-latent
            model, whose one code is cut into parts of the two-latent sizes); default: the encoder's ``z_c`` size.
        class_names: names of the classes (default ``"0"``, ``"1"``, ...).
        samples_per_condition: generated images written per class.
    """
    gen, enc = unwrap(generator), unwrap(encoder)
    num_classes = gen.layout.num_classes
    names = resolve_class_names(num_classes, class_names)
    train, test = stack_batches(train_loader), stack_batches(test_loader)
    codes = {}
    for name, data in (("train", train), ("test", test)):
        _, content, style = encode_images(enc, data["image"])
        codes[name] = {"content": content, "style": style, "label": data["label"], "factors": data["style"].float()}
    split = enc.layout.content_dim if content_dim is None else content_dim
    disentanglement = disentanglement_report(codes["train"], codes["test"], num_classes, factor_names, split)

    test_labels = test["label"].long().view(-1)
    generated = generate_images(gen, test_labels, seed)
    logits_gen, features_gen = classifier_outputs(classifier, generated)
    logits_test, features_test = classifier_outputs(classifier, test["image"])
    reference = train["image"][_stratified_like(train["label"].long().view(-1), test_labels)]
    metrics = {
        "disentanglement": disentanglement["disentanglement"],
        "disentanglement_class": disentanglement["disentanglement_class"],
        "disentanglement_style": disentanglement["disentanglement_style"],
        "condition_accuracy": condition_accuracy(logits_gen, test_labels),
        "real_test_accuracy": condition_accuracy(logits_test, test_labels),
        "fid": frechet_distance(features_gen, features_test),
        "fid_real": frechet_distance(classifier_outputs(classifier, reference)[1], features_test),
    }
    out = Path(output_dir)
    write_generated(gen, out / "generated", names, samples_per_condition=samples_per_condition, seed=seed)
    rows, columns = grid_size
    images = content_style_grid(gen, rows, columns, seed)
    _write_grid(
        image_grid([list(r) for r in images]),
        out / "grid_content_rows.png",
        summary_writer,
        "evaluate/rows_content_columns_style",
    )
    _write_grid(
        image_grid([list(c) for c in images.transpose(0, 1)]),
        out / "grid_style_rows.png",
        summary_writer,
        "evaluate/rows_style_columns_content",
    )
    if summary_writer is not None:
        for name, value in metrics.items():
            summary_writer.add_scalar(f"evaluate/{name}", value, global_step=0)
        summary_writer.flush()
    record = {
        **dict(extra or {}),
        "two_latents": gen.layout.style_dim > 0,
        "num_generated": len(generated),
        "metrics": metrics,
        "disentanglement": disentanglement,
        "condition_report": classification_report(test_labels, logits_gen.argmax(dim=1), num_classes, names),
    }
    write_json_atomic(out / "metrics.json", record)
    logger.info(f"Wrote {out / 'metrics.json'}: {metrics}")
    return record
