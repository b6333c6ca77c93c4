"""Evaluation of a multi-domain translation generator ``G(x, c)`` (StarGAN, MI-GAN): GAN-train / GAN-test
accuracies and the gain of a downstream classifier trained on real + translated images.

Real images are read once through the bundle's own preprocessing and kept in memory; generated images are
translations of them, so no file is written besides the results.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import torch
from monai.data import DataLoader, Dataset
from monai.transforms import Resized
from torch import nn

from monai_xrgan.data.io import write_png
from monai_xrgan.engines.base import unwrap
from monai_xrgan.handlers.metrics_io import write_json_atomic
from monai_xrgan.metrics.classification import resolve_class_index, resolve_class_names
from monai_xrgan.metrics.gan_scores import gan_train_test
from monai_xrgan.utils.errors import ConfigError
from monai_xrgan.visualize import image_grid
from monai_xrgan.workflows.augmentation import compare_real_vs_augmented

__all__ = ["load_images", "translate", "translations_to_other_domains", "evaluate_translation", "summary_table"]

logger = logging.getLogger(__name__)

METRICS_JSON = "metrics.json"
GRID_PNG = "samples_input_then_each_domain.png"


def load_images(
    items: Sequence[Mapping[str, Any]], preprocessing: Any, image_key: str = "image", domain_key: str = "domain"
) -> tuple[torch.Tensor, torch.Tensor]:
    """Run ``preprocessing`` over ``items`` and return the images ``(N, C, H, W)`` (plain tensors, CPU) and their
    domain indices ``(N,)``."""
    if not items:
        raise ConfigError("no items to load; check the datalist split.")
    missing = [i for i, item in enumerate(items) if domain_key not in item]
    if missing:
        raise ConfigError(f"item {missing[0]} has no '{domain_key}'; every item needs its domain index.")
    loader = DataLoader(Dataset(list(items), preprocessing), batch_size=16, shuffle=False, num_workers=0)
    images, domains = [], []
    for batch in loader:
        images.append(torch.as_tensor(batch[image_key]).float())
        domains.append(torch.as_tensor(batch[domain_key]).reshape(-1).long())
    return torch.cat(images), torch.cat(domains)


def translate(
    generator: nn.Module,
    images: torch.Tensor,
    targets: torch.Tensor,
    device: str | torch.device,
    batch_size: int = 8,
) -> torch.Tensor:
    """``generator(images, targets)`` in eval mode and without gradients, ``batch_size`` images at a time (on
    ``device``, results on the CPU)."""
    generator = generator.to(device).eval()
    outputs = []
    with torch.no_grad():
        for x, c in zip(images.split(batch_size), targets.split(batch_size)):
            outputs.append(generator(x.to(device), c.to(device)).float().cpu())
    return torch.cat(outputs)


def translations_to_other_domains(
    generator: nn.Module, images: torch.Tensor, domains: torch.Tensor, device: str | torch.device, batch_size: int = 8
) -> tuple[torch.Tensor, torch.Tensor]:
    """Every image translated into every domain other than its own: ``(translations, target domains)``."""
    num_domains = int(unwrap(generator).num_domains)
    targets = torch.arange(num_domains)[None].expand(len(domains), -1)
    keep = targets != domains[:, None]
    sources = torch.arange(len(domains))[:, None].expand(-1, num_domains)[keep]
    return translate(generator, images[sources], targets[keep], device, batch_size), targets[keep]


def _to_unit(images: torch.Tensor, value_range: Sequence[float]) -> torch.Tensor:
    low, high = float(value_range[0]), float(value_range[1])
    return ((images - low) / (high - low)).clamp(0.0, 1.0)


def _plain(value: Any) -> Any:
    if isinstance(value, (bool, int, float, str)) or value is None:
        return value
    return type(value).__name__ if callable(value) else str(value)


def _labelled(images: torch.Tensor, labels: torch.Tensor, value_range: Sequence[float]) -> list[dict[str, Any]]:
    unit = _to_unit(images, value_range)
    return [{"image": image, "label": int(label)} for image, label in zip(unit, labels)]


def _key_domain_sources(domains: torch.Tensor, key: int) -> torch.Tensor:
    """Indices of the images to translate into the scarce ``key`` domain so that it has as many images as the
    largest domain (at least one): evenly spread over the images of the other domains (repeated when they are too
    few)."""
    counts = torch.bincount(domains)
    needed = max(1, int(counts.max()) - (int(counts[key]) if key < len(counts) else 0))
    others = torch.nonzero(domains != key).flatten()
    if len(others) == 0:
        raise ConfigError("every training image is of the key domain; there is nothing to translate into it.")
    steps = torch.arange(needed)
    return others[steps * len(others) // needed if needed <= len(others) else steps % len(others)]


def _sample_grid(
    generator: nn.Module, images: torch.Tensor, domains: torch.Tensor, device: str | torch.device, count: int
) -> Any:
    """Rows: ``count`` test images spread over the domains; columns: the input, then its translation into each
    domain in order."""
    num_domains = int(unwrap(generator).num_domains)
    order = torch.argsort(domains, stable=True)
    picked = order[torch.linspace(0, len(order) - 1, min(count, len(order))).round().long()]
    columns = [translate(generator, images[picked], torch.full_like(picked, d), device) for d in range(num_domains)]
    return image_grid([[images[i], *(c[row] for c in columns)] for row, i in enumerate(picked.tolist())])


def summary_table(metrics: Mapping[str, Any]) -> str:
    """A one-row markdown table of :func:`evaluate_translation`'s results (the rows of the model card's table)."""
    aug = metrics["augmentation"]
    header = ["model", "GAN-train", "GAN-test", "real->real"]
    cells = [metrics["model"], metrics["gan_train"], metrics["gan_test"], metrics["real_accuracy"]]
    for run in ("real", "real+synthetic"):
        header += [f"{run} {k}" for k in ("acc", "sens", "spec", "AUC")]
        cells += [aug[run][k] for k in ("accuracy", "sensitivity", "specificity", "auc")]
    text = ["n/a" if c is None else (f"{c:.3f}" if isinstance(c, float) else str(c)) for c in cells]
    return "\n".join(["| " + " | ".join(header) + " |", "|" + "---|" * len(header), "| " + " | ".join(text) + " |"])


def evaluate_translation(
    generator: nn.Module,
    train_items: Sequence[Mapping[str, Any]],
    test_items: Sequence[Mapping[str, Any]],
    preprocessing: Any,
    domain_names: Sequence[str],
    key_domain: int | str,
    output_dir: str | os.PathLike,
    classifier: Mapping[str, Any],
    device: str | torch.device = "cpu",
    batch_size: int = 8,
    value_range: Sequence[float] = (-1.0, 1.0),
    num_samples: int = 6,
) -> dict[str, Any]:
    """Score a trained multi-domain generator on real images with domain labels.

    1. GAN-train / GAN-test (:func:`~monai_xrgan.metrics.gan_scores.gan_train_test`): the generated training set is
       every real training image translated into every other domain, the generated test set the same for the real
       test images.
    2. Augmentation (:func:`~monai_xrgan.workflows.compare_real_vs_augmented`): a classifier trained on the real
       training images vs one trained on them plus translations into ``key_domain`` (the scarce domain) of images
       of the other domains, as many as bring it level with the largest domain; accuracy, and the key domain's
       sensitivity, specificity and AUC on the real test images.

    Writes ``output_dir/metrics.json``, the augmentation files and a sample grid PNG (input, then the translation
    into each domain) and returns the metrics.

    Args:
        generator: ``G(x, c)`` with ``num_domains``, weights loaded.
        train_items, test_items: ``[{"image": ..., "domain": index, ...}, ...]`` read by ``preprocessing``.
        preprocessing: the bundle's transform giving ``image`` ``(C, H, W)`` in ``value_range``.
        domain_names: one name per domain (the generator's condition order).
        key_domain: the scarce domain (index or name).
        output_dir: results folder (created).
        classifier: :func:`~monai_xrgan.workflows.train_classifier` settings (``arch``, ``image_size``, ``epochs``,
            ``seed``, ...) shared by every classifier of the evaluation.
        device: device of the generator and the classifiers.
        batch_size: images per generator call.
        value_range: intensity range of the generator.
        num_samples: rows of the sample grid.
    """
    names = resolve_class_names(len(domain_names), domain_names)
    net = unwrap(generator)
    if int(net.num_domains) != len(names):
        raise ConfigError(f"the generator has {net.num_domains} domains but domain_names lists {len(names)}: {names}.")
    key = resolve_class_index(key_domain, names)
    output = Path(output_dir)
    output.mkdir(parents=True, exist_ok=True)
    settings = {"device": device, **dict(classifier)}
    size = int(settings.get("image_size", 128))
    settings["preprocessing"] = Resized("image", spatial_size=(size, size))

    train_x, train_d = load_images(train_items, preprocessing)
    test_x, test_d = load_images(test_items, preprocessing)
    logger.info(f"Translating {len(train_x)} training and {len(test_x)} test images into the other domains.")
    gen_train, gen_train_d = translations_to_other_domains(generator, train_x, train_d, device, batch_size)
    gen_test, gen_test_d = translations_to_other_domains(generator, test_x, test_d, device, batch_size)
    real_train = _labelled(train_x, train_d, value_range)
    real_test = _labelled(test_x, test_d, value_range)
    scores = gan_train_test(
        real_train,
        _labelled(gen_train, gen_train_d, value_range),
        real_test,
        _labelled(gen_test, gen_test_d, value_range),
        names,
        **settings,
    )

    sources = _key_domain_sources(train_d, key)
    synthetic = translate(generator, train_x[sources], torch.full_like(sources, key), device, batch_size)
    augmentation = compare_real_vs_augmented(
        real_train,
        _labelled(synthetic, torch.full_like(sources, key), value_range),
        real_test,
        names,
        output / "augmentation",
        positive_class=key,
        **settings,
    )
    runs = {}
    for run, result in augmentation["runs"].items():
        report = result["report"]
        runs[run] = {
            "num_train": result["num_train"],
            "accuracy": report["accuracy"],
            "sensitivity": report["positive"]["sensitivity"],
            "specificity": report["positive"]["specificity"],
            "auc": report["positive"].get("auc"),
            "macro_auc": report.get("macro_auc"),
        }
    metrics = {
        "model": "MI-GAN (key branch)" if net.has_key_branch else "StarGAN (no key branch)",
        "key_branch": bool(net.has_key_branch),
        "domains": names,
        "key_domain": names[key],
        "gan_train": scores["gan_train"],
        "gan_test": scores["gan_test"],
        "real_accuracy": scores["real_accuracy"],
        "augmentation": runs,
        "counts": {
            "real_train": torch.bincount(train_d, minlength=len(names)).tolist(),
            "real_test": torch.bincount(test_d, minlength=len(names)).tolist(),
            "generated_train": len(gen_train),
            "generated_test": len(gen_test),
            "synthetic_key": len(sources),
        },
        "classifier": {k: _plain(v) for k, v in settings.items()},
        "reports": scores["reports"],
    }
    write_json_atomic(output / METRICS_JSON, metrics)
    write_png(output / GRID_PNG, _sample_grid(generator, test_x, test_d, device, num_samples))
    table = summary_table(metrics)
    (output / "summary.md").write_text(table + "\n", encoding="utf-8")
    print(table)
    return metrics
