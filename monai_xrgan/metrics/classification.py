"""Classification reports (confusion matrix, accuracy, F1, sensitivity/specificity, one-vs-rest AUC).

:func:`classification_report` works on whole arrays; :class:`ClassificationReportMetric` accumulates an evaluator's
outputs (MONAI ``Cumulative`` buffers, gathered across ranks) and :class:`ClassificationReportHandler` puts the report
into ``engine.state.metrics`` at the end of a run.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch
from ignite.engine import Engine
from monai.handlers import IgniteMetricHandler, from_engine
from monai.metrics import CumulativeIterationMetric, compute_roc_auc

from monai_xrgan.utils.errors import ConfigError

__all__ = [
    "classification_report",
    "resolve_class_names",
    "resolve_class_index",
    "ClassificationReportMetric",
    "ClassificationReportHandler",
]


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """``num / den`` element-wise, ``0.0`` where ``den == 0`` (no warning)."""
    num, den = np.asarray(num, dtype=np.float64), np.asarray(den, dtype=np.float64)
    return np.divide(num, den, out=np.zeros_like(num), where=den != 0)


def _as_labels(values: Any, name: str, num_classes: int) -> np.ndarray:
    arr = values.detach().cpu().numpy() if isinstance(values, torch.Tensor) else np.asarray(values)
    arr = arr.reshape(-1) if arr.ndim == 2 and arr.shape[1] == 1 else arr
    if arr.ndim != 1:
        raise ConfigError(f"{name} must be a 1-D sequence of class indices, got shape {arr.shape}.")
    if arr.size and not np.issubdtype(arr.dtype, np.integer):
        if not np.issubdtype(arr.dtype, np.number) or np.issubdtype(arr.dtype, np.complexfloating):
            raise ConfigError(f"{name} must hold integer class indices, got dtype {arr.dtype}.")
        if not np.all(np.isfinite(arr)) or np.any(arr != np.round(arr)):
            raise ConfigError(f"{name} must hold integer class indices, got non-integer values.")
    arr = arr.astype(np.int64)
    bad = (arr < 0) | (arr >= num_classes)
    if bad.any():
        raise ConfigError(f"{name} has class index {int(arr[bad][0])} outside [0, {num_classes - 1}] (num_classes).")
    return arr


def resolve_class_names(num_classes: int, class_names: Sequence[str] | None = None) -> list[str]:
    """``class_names`` checked against ``num_classes`` (``"0"``, ``"1"``, … when ``None``)."""
    if isinstance(num_classes, bool) or not isinstance(num_classes, numbers.Integral) or num_classes < 2:
        raise ConfigError(f"num_classes must be an integer >= 2, got {num_classes!r}.")
    if class_names is None:
        return [str(i) for i in range(int(num_classes))]
    names = [str(n) for n in class_names]
    if len(names) != num_classes or len(set(names)) != len(names):
        raise ConfigError(f"class_names must be {num_classes} distinct names (num_classes), got {list(class_names)}.")
    return names


def resolve_class_index(positive_class: int | str, class_names: Sequence[str]) -> int:
    """Index of ``positive_class`` given as an index or as one of ``class_names``."""
    names = list(class_names)
    if isinstance(positive_class, str):
        if positive_class in names:
            return names.index(positive_class)
    elif isinstance(positive_class, numbers.Integral) and not isinstance(positive_class, bool):
        if 0 <= positive_class < len(names):
            return int(positive_class)
    raise ConfigError(
        f"positive_class must be a class index in [0, {len(names) - 1}] or one of {names}, got {positive_class!r}."
    )


def _per_class_auc(y_prob: Any, y_true: np.ndarray, num_classes: int) -> list[float | None]:
    prob = torch.as_tensor(y_prob.detach().cpu() if isinstance(y_prob, torch.Tensor) else np.asarray(y_prob))
    if prob.ndim != 2 or prob.shape != (len(y_true), num_classes):
        raise ConfigError(
            f"y_prob must have shape (num_samples, num_classes) = ({len(y_true)}, {num_classes}), "
            f"got {tuple(prob.shape)}."
        )
    prob = prob.to(torch.float64)
    if not torch.isfinite(prob).all():
        raise ConfigError("y_prob contains NaN or infinite values.")
    onehot = torch.from_numpy(y_true)[:, None] == torch.arange(num_classes)[None, :]
    positives = onehot.sum(0)
    aucs: list[float | None] = []
    for c in range(num_classes):  # one-vs-rest; undefined (None) unless the class has positives and negatives
        defined = 0 < int(positives[c]) < len(y_true)
        aucs.append(float(compute_roc_auc(prob[:, c], onehot[:, c].to(torch.int64))) if defined else None)
    return aucs


def classification_report(
    y_true: Any,
    y_pred: Any,
    num_classes: int,
    class_names: Sequence[str] | None = None,
    y_prob: Any = None,
    positive_class: int | str | None = None,
) -> dict[str, Any]:
    """Confusion matrix and the usual classification scores, as a JSON-serialisable dict.

    Per class ``c`` (one-vs-rest): sensitivity (recall) ``TP/(TP+FN)``, specificity ``TN/(TN+FP)``, precision
    ``TP/(TP+FP)``, F1 ``2TP/(2TP+FP+FN)``, support (images of class ``c`` in ``y_true``) and, with ``y_prob``, the ROC
    AUC of ``y_prob[:, c]`` (:func:`monai.metrics.compute_roc_auc`). A ratio whose denominator is 0 (e.g. the
    sensitivity of a class absent from ``y_true``) is reported as ``0.0``, without a warning; the AUC of a class that is
    absent from ``y_true`` (or the only class present) is undefined and reported as ``None``.

    Returned keys: ``num_samples``, ``num_classes``, ``class_names``, ``confusion_matrix`` (list of rows; row = true
    class, column = predicted class), ``accuracy``, ``balanced_accuracy`` (mean sensitivity), ``macro_f1`` (mean F1 over
    all ``num_classes`` classes), ``per_class`` (``{name: {...}}`` in class order), with ``y_prob`` also ``macro_auc``
    (mean over the classes whose AUC is defined; ``None`` if none is), and with ``positive_class`` also ``positive``:
    that class's entry plus its ``name`` and ``index``.

    Args:
        y_true: true class indices, shape ``(N,)`` (sequence, numpy array or tensor of integers).
        y_pred: predicted class indices, shape ``(N,)``.
        num_classes: number of classes ``C`` (classes absent from both inputs still get rows).
        class_names: ``C`` distinct names; default ``"0"``, ``"1"``, ….
        y_prob: optional class scores, shape ``(N, C)`` (softmax probabilities), for the AUCs.
        positive_class: optional class index or name (e.g. COVID-19) also reported at the top level.
    """
    names = resolve_class_names(num_classes, class_names)
    truth = _as_labels(y_true, "y_true", num_classes)
    pred = _as_labels(y_pred, "y_pred", num_classes)
    if len(truth) != len(pred):
        raise ConfigError(f"y_true and y_pred must have the same length, got {len(truth)} and {len(pred)}.")
    if len(truth) == 0:
        raise ConfigError("y_true is empty; a classification report needs at least one sample.")
    n = len(truth)
    cm = np.bincount(truth * num_classes + pred, minlength=num_classes * num_classes).reshape(num_classes, num_classes)
    tp = np.diag(cm)
    support = cm.sum(axis=1)
    predicted = cm.sum(axis=0)
    fn, fp = support - tp, predicted - tp
    tn = n - tp - fn - fp
    sensitivity, specificity = _ratio(tp, tp + fn), _ratio(tn, tn + fp)
    precision, f1 = _ratio(tp, tp + fp), _ratio(2 * tp, 2 * tp + fp + fn)
    aucs = _per_class_auc(y_prob, truth, num_classes) if y_prob is not None else None
    per_class: dict[str, dict[str, Any]] = {}
    for c, name in enumerate(names):
        entry: dict[str, Any] = {
            "sensitivity": float(sensitivity[c]),
            "specificity": float(specificity[c]),
            "precision": float(precision[c]),
            "f1": float(f1[c]),
            "support": int(support[c]),
        }
        if aucs is not None:
            entry["auc"] = aucs[c]
        per_class[name] = entry
    report: dict[str, Any] = {
        "num_samples": int(n),
        "num_classes": int(num_classes),
        "class_names": names,
        "confusion_matrix": cm.astype(int).tolist(),
        "accuracy": float(tp.sum() / n),
        "balanced_accuracy": float(sensitivity.mean()),
        "macro_f1": float(f1.mean()),
        "per_class": per_class,
    }
    if aucs is not None:
        defined = [a for a in aucs if a is not None]
        report["macro_auc"] = float(np.mean(defined)) if defined else None
    if positive_class is not None:
        index = resolve_class_index(positive_class, names)
        report["positive"] = {"name": names[index], "index": index, **per_class[names[index]]}
    return report


class ClassificationReportMetric(CumulativeIterationMetric):
    """Accumulate class scores and labels over iterations; :meth:`aggregate` gives :func:`classification_report`.

    ``y_pred`` are class scores ``(B, C)`` (softmax probabilities, so that the AUCs are meaningful; the predicted class
    is their argmax), ``y`` the true classes as indices ``(B,)``/``(B, 1)`` or one-hot ``(B, C)``. Lists of
    channel-first items (MONAI's decollated outputs) work too. Buffers are gathered across ranks like any MONAI
    cumulative metric.

    Args:
        num_classes: number of classes.
        class_names: names of the classes, see :func:`classification_report`.
        positive_class: class also reported at the top level, see :func:`classification_report`.
    """

    def __init__(
        self, num_classes: int, class_names: Sequence[str] | None = None, positive_class: int | str | None = None
    ) -> None:
        super().__init__()
        self.num_classes = int(num_classes)
        self.class_names = resolve_class_names(num_classes, class_names)
        if positive_class is not None:
            resolve_class_index(positive_class, self.class_names)
        self.positive_class = positive_class

    def _compute_tensor(  # type: ignore[override]
        self, y_pred: torch.Tensor, y: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        scores = torch.as_tensor(y_pred).reshape(len(y_pred), -1).float()
        if scores.shape[1] != self.num_classes:
            raise ConfigError(
                f"predictions have {scores.shape[1]} class scores, expected num_classes={self.num_classes}."
            )
        labels = torch.as_tensor(y).reshape(len(y), -1)
        labels = labels.argmax(dim=1) if labels.shape[1] == self.num_classes > 1 else labels[:, 0]
        return scores, labels.long()

    def aggregate(self) -> dict[str, Any]:  # type: ignore[override]
        """The report of everything accumulated since the last :meth:`reset`."""
        buffers = self.get_buffer()
        if buffers is None:
            raise ConfigError("ClassificationReportMetric has no data: call it on predictions before aggregate().")
        scores, labels = buffers
        return classification_report(
            labels, scores.argmax(dim=1), self.num_classes, self.class_names, scores, self.positive_class
        )


class ClassificationReportHandler(IgniteMetricHandler):
    """Ignite metric that stores :func:`classification_report` of an evaluator run under its name in
    ``engine.state.metrics`` (the nested report only: its keys are not also flattened into the metrics).

    Attach it through an evaluator's ``additional_metrics`` (not as the key metric: it is not a number), with a
    postprocessing that turns ``pred`` into softmax probabilities, e.g. ``Activationsd(keys="pred", softmax=True)``.

    Args:
        num_classes: number of classes.
        class_names: names of the classes.
        positive_class: class also reported at the top level.
        output_transform: maps the engine output to ``(scores, labels)``; default the ``pred`` and ``label`` items.
    """

    def __init__(
        self,
        num_classes: int,
        class_names: Sequence[str] | None = None,
        positive_class: int | str | None = None,
        output_transform: Callable = from_engine(["pred", "label"]),  # noqa: B008 (immutable, as in MONAI)
    ) -> None:
        super().__init__(
            metric_fn=ClassificationReportMetric(num_classes, class_names, positive_class),
            output_transform=output_transform,
        )

    def completed(self, engine: Engine, name: str) -> None:
        engine.state.metrics[name] = self.compute()
