"""Evaluation of a multi-domain translation generator ``G(x, c)`` (StarGAN, MI-GAN): GAN-train / GAN-test
accuracies and the gain of a downstream classifier trained on real + translated images.

Real images are read once through the bundle's own preprocessing and kept in memory; generated images are
translations of them, so no file is written besides the results.

The generated sets hold every real image translated into *every* domain, its own included. A generator that
returns its input (:class:`IdentityTranslator`, the floor) then scores chance: each image appears once with every
label, so a real-trained classifier is right on exactly one of its copies (GAN-test ``1 / num_domains``), and a
classifier trained on the copies learns no class (GAN-train about chance). Leaving the source domain out would
score the identity ``(1 - real accuracy) / (num_domains - 1)``, below chance, and reward a generator for changing
an image whatever its target.
"""

from __future__ import annotations

import inspect
import logging
import math
import numbers
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from monai.data import DataLoader, Dataset
from monai.transforms import Resized
from torch import nn

from monai_xrgan.handlers.metrics_io import write_json_atomic
from monai_xrgan.io.xray import write_png
from monai_xrgan.metrics.classification import resolve_class_index, resolve_class_names
from monai_xrgan.utils.distributed import unwrap
from monai_xrgan.utils.errors import ConfigError
from monai_xrgan.visualize import image_grid
from monai_xrgan.workflows.classifier import train_classifier
from monai_xrgan.workflows.gan_scores import classifier_reports, gan_train_test

__all__ = [
    "IdentityTranslator",
    "evaluate_translation",
    "load_images",
    "sample_translations",
    "summary_table",
    "translate",
    "translations_to_every_domain",
]

logger = logging.getLogger(__name__)

METRICS_JSON = "metrics.json"
GRID_PNG = "samples_input_then_each_domain.png"
#: the defaults of the classifier settings
_TRAIN_DEFAULTS = inspect.signature(train_classifier).parameters
#: the sample grid's images as arrays: ``source`` ``(N, H, W)``, ``domain`` ``(N,)`` and ``to_<domain name>``
SAMPLES_NPZ = "samples.npz"


class IdentityTranslator(nn.Module):
    """``G(x, c) = x`` for every target domain ``c``: the floor of GAN-train / GAN-test, a generator that changes
    nothing (it has no weights).

    Args:
        num_domains: number of domains of the condition (as the generator it stands in for).
    """

    has_key_branch = False

    def __init__(self, num_domains: int) -> None:
        super().__init__()
        if isinstance(num_domains, bool) or not isinstance(num_domains, numbers.Integral) or num_domains < 2:
            raise ConfigError(f"num_domains must be an integer >= 2, got {num_domains!r}.")
        self.num_domains = int(num_domains)

    def forward(self, x: torch.Tensor, c: torch.Tensor | None = None) -> torch.Tensor:
        return x


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


def translations_to_every_domain(
    generator: nn.Module, images: torch.Tensor, device: str | torch.device, batch_size: int = 8
) -> tuple[torch.Tensor, torch.Tensor]:
    """Every image translated into every domain, its own included: ``(translations, target domains)``, image ``i``
    into domain ``d`` at ``i * num_domains + d``."""
    num_domains = int(unwrap(generator).num_domains)
    targets = torch.arange(num_domains).repeat(len(images))
    return translate(generator, images.repeat_interleave(num_domains, dim=0), targets, device, batch_size), targets


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


def sample_translations(
    generator: nn.Module, images: torch.Tensor, domains: torch.Tensor, device: str | torch.device, count: int
) -> tuple[torch.Tensor, list[torch.Tensor]]:
    """``count`` images spread evenly over the domains (sorted by domain) and their translation into each domain:
    ``(indices of the images, [translations into domain 0, 1, ...])``."""
    num_domains = int(unwrap(generator).num_domains)
    order = torch.argsort(domains, stable=True)
    picked = order[torch.linspace(0, len(order) - 1, min(count, len(order))).round().long()]
    columns = [translate(generator, images[picked], torch.full_like(picked, d), device) for d in range(num_domains)]
    return picked, columns


def _write_samples(
    output: Path, sources: torch.Tensor, domains: torch.Tensor, columns: Sequence[torch.Tensor], names: Sequence[str]
) -> None:
    """The sample grid PNG (rows: ``sources``; columns: the input, then each domain) and its arrays
    (:data:`SAMPLES_NPZ`)."""
    write_png(output / GRID_PNG, image_grid([[x, *(c[r] for c in columns)] for r, x in enumerate(sources)]))
    arrays = {"source": sources[:, 0].numpy(), "domain": domains.numpy()}
    arrays.update({f"to_{name}": c[:, 0].numpy() for name, c in zip(names, columns)})
    np.savez_compressed(output / SAMPLES_NPZ, **arrays)


def _model_name(net: nn.Module) -> str:
    if isinstance(net, IdentityTranslator):
        return "identity (returns its input)"
    return "MI-GAN (key branch)" if net.has_key_branch else "StarGAN (no key branch)"


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
    batch_size: int = 32,
    value_range: Sequence[float] = (-1.0, 1.0),
    num_samples: int = 6,
) -> dict[str, Any]:
    """Score a trained multi-domain generator on real images with domain labels.

    1. GAN-train / GAN-test (:func:`~monai_xrgan.workflows.gan_scores.gan_train_test`): the generated training set is
       every real training image translated into every domain, its own included (:func:`translations_to_every_domain`;
       the identity then scores chance, see the module docstring), the generated test set the same for the real
       test images.
    2. Augmentation: the classifier trained on the real training images (the one of GAN-test) vs one trained on them
       plus translations into ``key_domain`` (the scarce domain) of images of the other domains, as many as bring
       it level with the largest domain; accuracy, and the key domain's sensitivity, specificity and AUC on the
       real test images.

    Every classifier takes the same number of optimiser steps: unless ``classifier`` sets ``steps_per_epoch``, an
    epoch of every classifier is as many steps as one pass over the augmented training set takes.

    Writes ``output_dir/metrics.json`` (scores, counts, the confusion matrices of every classifier), a summary table
    and a sample grid (PNG and :data:`SAMPLES_NPZ`: input, then the translation into each domain) and returns the
    metrics.

    Args:
        generator: ``G(x, c)`` with ``num_domains``, weights loaded (or :class:`IdentityTranslator`).
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
    sources = _key_domain_sources(train_d, key)
    batch = int(settings.get("batch_size", _TRAIN_DEFAULTS["batch_size"].default))
    settings.setdefault("steps_per_epoch", math.ceil((len(train_x) + len(sources)) / batch))
    logger.info(f"Translating {len(train_x)} training and {len(test_x)} test images into every domain.")
    gen_train, gen_train_d = translations_to_every_domain(generator, train_x, device, batch_size)
    gen_test, gen_test_d = translations_to_every_domain(generator, test_x, device, batch_size)
    real_train = _labelled(train_x, train_d, value_range)
    real_test = _labelled(test_x, test_d, value_range)
    scores = gan_train_test(
        real_train,
        _labelled(gen_train, gen_train_d, value_range),
        real_test,
        _labelled(gen_test, gen_test_d, value_range),
        names,
        key,
        **settings,
    )
    synthetic = translate(generator, train_x[sources], torch.full_like(sources, key), device, batch_size)
    augmented_train = real_train + _labelled(synthetic, torch.full_like(sources, key), value_range)
    augmented = classifier_reports(augmented_train, {"real+synthetic": real_test}, names, key, **settings)
    reports = {"real": scores["reports"]["real_accuracy"], **augmented}
    runs = {
        run: {
            "num_train": len(items),
            "accuracy": reports[run]["accuracy"],
            "sensitivity": reports[run]["positive"]["sensitivity"],
            "specificity": reports[run]["positive"]["specificity"],
            "auc": reports[run]["positive"].get("auc"),
            "macro_auc": reports[run].get("macro_auc"),
            "confusion_matrix": reports[run]["confusion_matrix"],
        }
        for run, items in (("real", real_train), ("real+synthetic", augmented_train))
    }
    metrics = {
        "model": _model_name(net),
        "key_branch": bool(net.has_key_branch),
        "domains": names,
        "key_domain": names[key],
        "gan_train": scores["gan_train"],
        "gan_test": scores["gan_test"],
        "real_accuracy": scores["real_accuracy"],
        "chance": 1.0 / len(names),
        "generated_sets": "every real training (GAN-train) / test (GAN-test) image translated into every domain, "
        "its own included, labelled with the target domain",
        "augmentation": runs,
        "counts": {
            "real_train": torch.bincount(train_d, minlength=len(names)).tolist(),
            "real_test": torch.bincount(test_d, minlength=len(names)).tolist(),
            "generated_train": len(gen_train),
            "generated_test": len(gen_test),
            "synthetic_key": len(sources),
        },
        "classifier": {k: _plain(v) for k, v in settings.items()},
        "reports": {**scores["reports"], "real+synthetic": augmented["real+synthetic"]},
    }
    write_json_atomic(output / METRICS_JSON, metrics)
    picked, columns = sample_translations(generator, test_x, test_d, device, num_samples)
    _write_samples(output, test_x[picked], test_d[picked], columns, names)
    table = summary_table(metrics)
    (output / "summary.md").write_text(table + "\n", encoding="utf-8")
    print(table)
    return metrics
