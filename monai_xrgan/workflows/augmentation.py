"""Does adding synthetic images to the training set help a classifier? Real vs real + synthetic, same settings, and
the controls that could explain a gain (real images repeated, real images of another class relabelled)."""

from __future__ import annotations

import inspect
import math
import os
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import torch
from ignite.engine import Engine, Events

from monai_xrgan.handlers.metrics_io import write_json_atomic
from monai_xrgan.metrics.classification import resolve_class_index, resolve_class_names
from monai_xrgan.utils.errors import ConfigError
from monai_xrgan.workflows.classifier import (
    EpochMetricHistory,
    check_labelled_items,
    class_counts,
    evaluate_classifier,
    logger,
    train_classifier,
)

__all__ = [
    "RESULTS_JSON",
    "RESULTS_MD",
    "balancing_sources",
    "class_count_record",
    "compare_real_vs_augmented",
    "compare_training_sets",
    "generate_labelled",
    "oversample",
    "relabel",
    "results_table",
    "steps_per_epoch_of_largest",
]

RESULTS_JSON = "augmentation_results.json"
RESULTS_MD = "augmentation_results.md"
#: :func:`train_classifier` arguments that ``compare_training_sets`` sets itself
_FIXED = ("train_items", "num_classes", "train_handlers")


def generate_labelled(evaluator: Engine, label: int, path_key: str = "pred_path") -> list[dict[str, Any]]:
    """Run a bundle's inference ``evaluator`` and return what it wrote as labelled items ``{"image", "label"}``.

    The evaluator's postprocessing must save its outputs and record their paths under ``path_key`` (as
    :class:`monai_xrgan.transforms.SaveXRayd` does), e.g. a pix2pix generator turning normal radiographs into
    COVID-19 ones (``label`` = the COVID-19 class).
    """
    written: list[str] = []

    def _collect(engine: Engine) -> None:
        outputs = engine.state.output if isinstance(engine.state.output, list) else [engine.state.output]
        missing = [i for i, out in enumerate(outputs) if path_key not in out]
        if missing:
            raise ConfigError(
                f"the evaluator's outputs have no '{path_key}'; save them with SaveXRayd in its postprocessing."
            )
        written.extend(str(out[path_key]) for out in outputs)

    evaluator.add_event_handler(Events.ITERATION_COMPLETED, _collect)
    try:
        evaluator.run()
    finally:
        evaluator.remove_event_handler(_collect, Events.ITERATION_COMPLETED)
    return [{"image": path, "label": int(label)} for path in written]


def balancing_sources(items: Sequence[Mapping[str, Any]], source_label: int, target_label: int) -> list[dict[str, Any]]:
    """The first items of class ``source_label``, as many as class ``target_label`` has fewer: the images to
    translate into ``target_label`` ones so that the two classes end up the same size (none if it is not smaller)."""
    sources = [dict(item) for item in items if item.get("label") == source_label]
    missing = len(sources) - sum(item.get("label") == target_label for item in items)
    return sources[: max(0, missing)]


def class_count_record(items: Sequence[Mapping[str, Any]], class_names: Sequence[str]) -> dict[str, int]:
    """``{class name: number of items}`` of labelled ``items``, every class listed (for results records)."""
    return dict(zip(class_names, class_counts(items, len(class_names))))


def steps_per_epoch_of_largest(training_sets: Mapping[str, Sequence[Any]], batch_size: int) -> int:
    """Batches of one pass over the largest training set: ``steps_per_epoch`` for the same number of optimiser steps
    on every set of :func:`compare_training_sets`."""
    return math.ceil(max(len(items) for items in training_sets.values()) / batch_size)


def oversample(items: Sequence[Mapping[str, Any]], label: int, count: int) -> list[dict[str, Any]]:
    """``count`` copies of the ``items`` of class ``label``, cycling through them in order: the oversampling control
    of an augmentation (as many extra images as synthetic ones, but only repeats of the real ones)."""
    count = int(count)
    pool = [dict(item) for item in items if item.get("label") == label]
    if count < 0 or (count and not pool):
        raise ConfigError(f"oversample: need count >= 0 and at least one item of class {label}, got count {count} "
                          f"and {len(pool)} item(s).")  # fmt: skip
    return [dict(pool[i % len(pool)]) for i in range(count)]


def relabel(items: Sequence[Mapping[str, Any]], label: int) -> list[dict[str, Any]]:
    """Copies of ``items`` labelled ``label``: the mislabelling control of an augmentation (e.g. the normal images
    that synthetic COVID-19 images were generated from, labelled COVID-19 without being translated)."""
    return [{**item, "label": int(label)} for item in items]


def _settings(train_kwargs: Mapping[str, Any]) -> dict[str, Any]:
    params = {k: p.default for k, p in inspect.signature(train_classifier).parameters.items() if k not in _FIXED}
    unknown = sorted(set(train_kwargs) - set(params))
    if unknown:
        raise ConfigError(f"unknown training setting(s) {unknown}; allowed: {sorted(params)}.")
    return {**params, **train_kwargs}


def _plain(value: Any) -> Any:
    if isinstance(value, torch.device):
        return str(value)
    return type(value).__name__ if callable(value) else value


def _cell(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def results_table(results: Mapping[str, Any]) -> str:
    """Markdown table of the results of :func:`compare_training_sets` (one row per training set)."""
    positive = results["positive_class"]
    header = ["training set", "train images", "steps", "accuracy", "macro F1"]
    if positive is not None:
        header += [f"{positive} sensitivity", f"{positive} specificity", f"{positive} F1", f"{positive} AUC"]
    lines = ["| " + " | ".join(header) + " |", "| " + " | ".join(["---"] + ["---:"] * (len(header) - 1)) + " |"]
    for name, run in results["runs"].items():
        report = run["report"]
        cells = [name, str(run["num_train"]), str(run["steps"]), _cell(report["accuracy"]), _cell(report["macro_f1"])]
        if positive is not None:
            pos = report["positive"]
            cells += [_cell(pos["sensitivity"]), _cell(pos["specificity"]), _cell(pos["f1"]), _cell(pos.get("auc"))]
        lines.append("| " + " | ".join(cells) + " |")
    settings = results["settings"]
    counts = ", ".join(f"{name} {count}" for name, count in results["test_counts"].items())
    caption = (
        f"Test set: {results['num_test']} images ({counts}). All rows: {settings['arch']} from scratch, "
        f"{settings['image_size']}x{settings['image_size']}, epochs {settings['epochs']}, seed {settings['seed']}."
    )
    return "\n".join(lines) + "\n\n" + caption + "\n"


def compare_training_sets(
    training_sets: Mapping[str, Sequence[Mapping[str, Any]]],
    test_items: Sequence[Mapping[str, Any]],
    class_names: Sequence[str],
    output_dir: str | os.PathLike,
    positive_class: int | str | None = None,
    extra: Mapping[str, Any] | None = None,
    **train_kwargs: Any,
) -> dict[str, Any]:
    """Train one classifier per training set with the same settings and seed (hence the same initial weights),
    evaluate each on ``test_items`` and report the differences to the first set (the baseline).

    With the default ``steps_per_epoch`` every set trains for the same number of epochs, so a larger set takes more
    optimiser steps; give ``steps_per_epoch`` (e.g. the batches of one pass over the largest set) for the same number
    of steps in every run. Writes ``output_dir/augmentation_results.json`` (class names, settings, per-class counts of
    each training set and of the test set, per-epoch training losses, optimiser steps, classification reports,
    differences to the baseline under ``delta``, wall times, ``extra``) and ``output_dir/augmentation_results.md``
    (:func:`results_table`), prints the table and returns the JSON content.

    Args:
        training_sets: ``{name: [{"image": path, "label": class index}, ...]}``, baseline first, e.g. ``real``,
            ``real+synthetic`` and controls such as :func:`oversample` or :func:`relabel` sets added to the real ones.
        test_items: real test images.
        class_names: one name per class (its length is the number of classes).
        output_dir: folder of the result files (created).
        positive_class: class (index or name) whose sensitivity/specificity/F1 are compared, e.g. ``"COVID-19"``.
        extra: further fields of the results (e.g. counts of the synthetic images).
        train_kwargs: settings of :func:`~monai_xrgan.workflows.classifier.train_classifier` (``epochs``,
            ``steps_per_epoch``, ``image_size``, ``seed``, ``arch``, ``batch_size``, ``lr``, ``device``, ...);
            ``image_size``, ``device`` and ``num_workers`` are also used for the evaluation.
    """
    if isinstance(class_names, str) or len(class_names) < 2:
        raise ConfigError(f"class_names must name at least 2 classes (one per label index), got {class_names!r}.")
    if not isinstance(training_sets, Mapping) or len(training_sets) < 2:
        raise ConfigError("training_sets must map at least 2 names (baseline first) to lists of labelled items.")
    names = resolve_class_names(len(class_names), class_names)
    num_classes = len(names)
    settings = _settings(train_kwargs)
    sets = {str(name): check_labelled_items(items, num_classes, str(name)) for name, items in training_sets.items()}
    test = check_labelled_items(test_items, num_classes, "test_items")
    positive = names[resolve_class_index(positive_class, names)] if positive_class is not None else None
    output = Path(output_dir)
    output.mkdir(parents=True, exist_ok=True)

    start = time.perf_counter()
    runs: dict[str, dict[str, Any]] = {}
    for run_name, items in sets.items():
        logger.info(f"[{run_name}] training on {len(items)} images.")
        history = EpochMetricHistory("train_loss")
        tic = time.perf_counter()
        model = train_classifier(items, num_classes, train_handlers=[history], **train_kwargs)
        train_seconds = time.perf_counter() - tic
        report = evaluate_classifier(
            model,
            test,
            num_classes,
            names,
            image_size=settings["image_size"],
            device=settings["device"],
            positive_class=positive,
            num_workers=settings["num_workers"],
            preprocessing=settings["preprocessing"],
        )
        runs[run_name] = {
            "num_train": len(items),
            "train_counts": dict(zip(names, class_counts(items, num_classes))),
            "steps": history.iterations,
            "epoch_losses": history.values,
            "train_seconds": round(train_seconds, 3),
            "eval_seconds": round(time.perf_counter() - tic - train_seconds, 3),
            "report": report,
        }
        del model  # free this network before the next one is built
    baseline, *others = runs
    delta = {name: _delta(runs[baseline]["report"], runs[name]["report"], positive is not None) for name in others}
    results = {
        "class_names": names,
        "positive_class": positive,
        "settings": {k: _plain(v) for k, v in settings.items()},
        "num_test": len(test),
        "test_counts": dict(zip(names, class_counts(test, num_classes))),
        **dict(extra or {}),
        "runs": runs,
        "baseline": baseline,
        "delta": delta,
        "wall_time_seconds": round(time.perf_counter() - start, 3),
    }
    write_json_atomic(output / RESULTS_JSON, results)
    table = results_table(results)
    (output / RESULTS_MD).write_text(table, encoding="utf-8")
    print(table)
    return results


def _delta(base: Mapping[str, Any], other: Mapping[str, Any], positive: bool) -> dict[str, float]:
    """``other - base`` for the overall scores (and the positive class's sensitivity, specificity, F1)."""
    delta = {key: other[key] - base[key] for key in ("accuracy", "balanced_accuracy", "macro_f1")}
    if positive:
        for key in ("sensitivity", "specificity", "f1"):
            delta[f"positive_{key}"] = other["positive"][key] - base["positive"][key]
    return delta


def compare_real_vs_augmented(
    real_items: Sequence[Mapping[str, Any]],
    synthetic_items: Sequence[Mapping[str, Any]],
    test_items: Sequence[Mapping[str, Any]],
    class_names: Sequence[str],
    output_dir: str | os.PathLike,
    positive_class: int | str | None = None,
    **train_kwargs: Any,
) -> dict[str, Any]:
    """:func:`compare_training_sets` of ``real`` (``real_items``) and ``real+synthetic`` (``real_items +
    synthetic_items``); the results also hold ``num_synthetic`` and ``synthetic_counts``.

    Args:
        real_items: real training images ``[{"image": path, "label": class index}, ...]``.
        synthetic_items: synthetic training images, each with the ``label`` of the class it was generated for.
        test_items: real test images.
        class_names: one name per class (its length is the number of classes).
        output_dir: folder of the result files (created).
        positive_class: class (index or name) whose sensitivity/specificity/F1 are compared, e.g. ``"COVID-19"``;
            default: the class of the synthetic images when they all have the same one.
        train_kwargs: settings of :func:`~monai_xrgan.workflows.classifier.train_classifier`, see
            :func:`compare_training_sets`.
    """
    if isinstance(class_names, str) or len(class_names) < 2:
        raise ConfigError(f"class_names must name at least 2 classes (one per label index), got {class_names!r}.")
    num_classes = len(class_names)
    real = check_labelled_items(real_items, num_classes, "real_items")
    synthetic = check_labelled_items(synthetic_items, num_classes, "synthetic_items")
    if positive_class is None and len({item["label"] for item in synthetic}) == 1:
        positive_class = synthetic[0]["label"]
    names = resolve_class_names(num_classes, class_names)
    extra = {"num_synthetic": len(synthetic),
             "synthetic_counts": dict(zip(names, class_counts(synthetic, num_classes)))}  # fmt: skip
    return compare_training_sets(
        {"real": real, "real+synthetic": real + synthetic},
        test_items,
        class_names,
        output_dir,
        positive_class,
        extra=extra,
        **train_kwargs,
    )
