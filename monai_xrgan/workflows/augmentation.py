"""Does adding synthetic images to the training set help a classifier? Real vs real + synthetic, same settings."""

from __future__ import annotations

import inspect
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

__all__ = ["RESULTS_JSON", "RESULTS_MD", "compare_real_vs_augmented", "generate_labelled", "results_table"]

RESULTS_JSON = "augmentation_results.json"
RESULTS_MD = "augmentation_results.md"
RUNS = ("real", "real+synthetic")
#: :func:`train_classifier` arguments that ``compare_real_vs_augmented`` sets itself
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
            raise ConfigError(f"the evaluator's outputs have no '{path_key}'; save them with SaveXRayd in its postprocessing.")
        written.extend(str(out[path_key]) for out in outputs)

    evaluator.add_event_handler(Events.ITERATION_COMPLETED, _collect)
    try:
        evaluator.run()
    finally:
        evaluator.remove_event_handler(_collect, Events.ITERATION_COMPLETED)
    return [{"image": path, "label": int(label)} for path in written]


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
    """Markdown table of the results of :func:`compare_real_vs_augmented` (one row per training set)."""
    positive = results["positive_class"]
    header = ["training set", "train images", "accuracy", "macro F1"]
    if positive is not None:
        header += [f"{positive} sensitivity", f"{positive} specificity", f"{positive} F1", f"{positive} AUC"]
    lines = ["| " + " | ".join(header) + " |", "| " + " | ".join(["---"] + ["---:"] * (len(header) - 1)) + " |"]
    for name in RUNS:
        run = results["runs"][name]
        report = run["report"]
        cells = [name, str(run["num_train"]), _cell(report["accuracy"]), _cell(report["macro_f1"])]
        if positive is not None:
            pos = report["positive"]
            cells += [_cell(pos["sensitivity"]), _cell(pos["specificity"]), _cell(pos["f1"]), _cell(pos.get("auc"))]
        lines.append("| " + " | ".join(cells) + " |")
    settings = results["settings"]
    counts = ", ".join(f"{name} {count}" for name, count in results["test_counts"].items())
    caption = (
        f"Test set: {results['num_test']} images ({counts}). Both rows: {settings['arch']} from scratch, "
        f"{settings['image_size']}x{settings['image_size']}, epochs {settings['epochs']}, seed {settings['seed']}."
    )
    return "\n".join(lines) + "\n\n" + caption + "\n"


def compare_real_vs_augmented(
    real_items: Sequence[Mapping[str, Any]],
    synthetic_items: Sequence[Mapping[str, Any]],
    test_items: Sequence[Mapping[str, Any]],
    class_names: Sequence[str],
    output_dir: str | os.PathLike,
    positive_class: int | str | None = None,
    **train_kwargs: Any,
) -> dict[str, Any]:
    """Train one classifier on ``real_items`` and one on ``real_items + synthetic_items`` with the same settings and
    seed (hence the same initial weights), evaluate both on ``test_items`` and report the difference.

    Both runs train for the same number of epochs (as in the Pix2Pix paper), so the augmented run takes more steps.
    Writes ``output_dir/augmentation_results.json`` (class names, settings, per-class counts of each training set and
    of the test set, per-epoch training losses, both classification reports, differences, wall times) and
    ``output_dir/augmentation_results.md`` (:func:`results_table`), prints the table and returns the JSON content.

    Args:
        real_items: real training images ``[{"image": path, "label": class index}, ...]``.
        synthetic_items: synthetic training images, each with the ``label`` of the class it was generated for.
        test_items: real test images.
        class_names: one name per class (its length is the number of classes).
        output_dir: folder of the result files (created).
        positive_class: class (index or name) whose sensitivity/specificity/F1 are compared, e.g. ``"COVID-19"``;
            default: the class of the synthetic images when they all have the same one.
        train_kwargs: settings of :func:`~monai_xrgan.workflows.classifier.train_classifier` (``epochs``,
            ``image_size``, ``seed``, ``arch``, ``batch_size``, ``lr``, ``device``, ...); ``image_size``, ``device``
            and ``num_workers`` are also used for the evaluation.
    """
    if isinstance(class_names, str) or len(class_names) < 2:
        raise ConfigError(f"class_names must name at least 2 classes (one per label index), got {class_names!r}.")
    names = resolve_class_names(len(class_names), class_names)
    num_classes = len(names)
    settings = _settings(train_kwargs)
    real = check_labelled_items(real_items, num_classes, "real_items")
    synthetic = check_labelled_items(synthetic_items, num_classes, "synthetic_items")
    test = check_labelled_items(test_items, num_classes, "test_items")
    if positive_class is None and len({item["label"] for item in synthetic}) == 1:
        positive_class = synthetic[0]["label"]
    positive = names[resolve_class_index(positive_class, names)] if positive_class is not None else None
    output = Path(output_dir)
    output.mkdir(parents=True, exist_ok=True)

    start = time.perf_counter()
    runs: dict[str, dict[str, Any]] = {}
    for run_name, items in zip(RUNS, (real, real + synthetic)):
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
            "epoch_losses": history.values,
            "train_seconds": round(train_seconds, 3),
            "eval_seconds": round(time.perf_counter() - tic - train_seconds, 3),
            "report": report,
        }
        del model  # free the first network before the second one is built
    base, aug = runs["real"]["report"], runs["real+synthetic"]["report"]
    delta = {key: aug[key] - base[key] for key in ("accuracy", "balanced_accuracy", "macro_f1")}
    if positive is not None:
        for key in ("sensitivity", "specificity", "f1"):
            delta[f"positive_{key}"] = aug["positive"][key] - base["positive"][key]
    results = {
        "class_names": names,
        "positive_class": positive,
        "settings": {k: _plain(v) for k, v in settings.items()},
        "num_test": len(test),
        "test_counts": dict(zip(names, class_counts(test, num_classes))),
        "num_synthetic": len(synthetic),
        "synthetic_counts": dict(zip(names, class_counts(synthetic, num_classes))),
        "runs": runs,
        "delta": delta,
        "wall_time_seconds": round(time.perf_counter() - start, 3),
    }
    write_json_atomic(output / RESULTS_JSON, results)
    table = results_table(results)
    (output / RESULTS_MD).write_text(table, encoding="utf-8")
    print(table)
    return results
