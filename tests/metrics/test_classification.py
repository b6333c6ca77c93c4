from __future__ import annotations

import json
import math
import warnings

import numpy as np
import pytest
import torch
from ignite.engine import Engine

from monai_xrgan.metrics.classification import (
    ClassificationReportHandler,
    ClassificationReportMetric,
    classification_report,
)
from monai_xrgan.utils.errors import ConfigError

NAMES = ["normal", "viral", "covid"]
# 3-class case; confusion matrix (rows true, columns predicted): [[2, 1, 0], [0, 1, 1], [1, 0, 3]]
Y_TRUE_3 = [0, 0, 0, 1, 1, 2, 2, 2, 2]
Y_PRED_3 = [0, 1, 0, 1, 2, 2, 2, 0, 2]


def _numbers(value):
    """Every number in a nested report."""
    if isinstance(value, dict):
        return [n for v in value.values() for n in _numbers(v)]
    if isinstance(value, list):
        return [n for v in value for n in _numbers(v)]
    return [value] if isinstance(value, (int, float)) and not isinstance(value, bool) else []


def _pairwise_auc(scores, positive):
    """Mann-Whitney AUC: P(score of a positive > score of a negative), ties count one half."""
    scores, positive = np.asarray(scores, dtype=float), np.asarray(positive, dtype=bool)
    diff = scores[positive][:, None] - scores[~positive][None, :]
    return float(((diff > 0) + 0.5 * (diff == 0)).mean())


def test_binary_case_by_hand():
    y_true = [1, 1, 1, 1, 0, 0, 0, 0, 0, 0]
    y_pred = [1, 1, 1, 0, 1, 1, 0, 0, 0, 0]
    report = classification_report(y_true, y_pred, 2, ["negative", "positive"], positive_class="positive")
    assert report["confusion_matrix"] == [[4, 2], [1, 3]]
    assert report["accuracy"] == pytest.approx(0.7)
    pos = report["positive"]  # TP 3, FN 1, FP 2, TN 4
    assert (pos["name"], pos["index"], pos["support"]) == ("positive", 1, 4)
    assert pos["sensitivity"] == pytest.approx(3 / 4)
    assert pos["specificity"] == pytest.approx(4 / 6)
    assert pos["precision"] == pytest.approx(3 / 5)
    assert pos["f1"] == pytest.approx(6 / 9)
    neg = report["per_class"]["negative"]  # TP 4, FN 2, FP 1, TN 3
    assert (neg["sensitivity"], neg["specificity"], neg["precision"]) == pytest.approx((4 / 6, 3 / 4, 4 / 5))
    assert report["macro_f1"] == pytest.approx((6 / 9 + 8 / 11) / 2)
    assert report["balanced_accuracy"] == pytest.approx((3 / 4 + 4 / 6) / 2)


@pytest.mark.parametrize("kind", [list, np.asarray, torch.tensor])
def test_three_classes_by_hand_for_any_input_type(kind):
    report = classification_report(kind(Y_TRUE_3), kind(Y_PRED_3), 3, NAMES, positive_class=2)
    assert report["confusion_matrix"] == [[2, 1, 0], [0, 1, 1], [1, 0, 3]]
    assert report["accuracy"] == pytest.approx(6 / 9)
    expected = {  # sensitivity, specificity, precision, f1, support
        "normal": (2 / 3, 5 / 6, 2 / 3, 2 / 3, 3),
        "viral": (1 / 2, 6 / 7, 1 / 2, 1 / 2, 2),
        "covid": (3 / 4, 4 / 5, 3 / 4, 3 / 4, 4),
    }
    for name, values in expected.items():
        entry = report["per_class"][name]
        got = (entry["sensitivity"], entry["specificity"], entry["precision"], entry["f1"], entry["support"])
        assert got == pytest.approx(values), name
    assert report["macro_f1"] == pytest.approx((2 / 3 + 1 / 2 + 3 / 4) / 3)
    assert report["positive"]["name"] == "covid"
    assert list(report["per_class"]) == NAMES
    assert "macro_auc" not in report and "auc" not in report["per_class"]["covid"]


def test_perfect_and_all_wrong_predictions():
    y = np.array([0, 1, 2, 2, 1, 0, 2])
    perfect = classification_report(y, y, 3)
    assert perfect["confusion_matrix"] == np.diag(np.bincount(y)).tolist()
    assert perfect["accuracy"] == perfect["macro_f1"] == perfect["balanced_accuracy"] == 1.0
    for entry in perfect["per_class"].values():
        assert entry["sensitivity"] == entry["specificity"] == entry["precision"] == entry["f1"] == 1.0
    wrong = classification_report(y, (y + 1) % 3, 3)
    assert wrong["accuracy"] == wrong["macro_f1"] == wrong["balanced_accuracy"] == 0.0
    assert all(e["sensitivity"] == e["precision"] == e["f1"] == 0.0 for e in wrong["per_class"].values())
    assert [e["specificity"] for e in wrong["per_class"].values()] == pytest.approx([2 / 5, 3 / 5, 2 / 4])


def test_absent_classes_give_zeros_and_no_nan_or_warning():
    y_true, y_pred = [0, 0, 1, 1], [0, 2, 1, 1]  # class 2 never true (predicted once); class 3 never seen
    prob = torch.softmax(torch.randn(4, 4, generator=torch.Generator().manual_seed(0)), dim=1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        report = classification_report(y_true, y_pred, 4, y_prob=prob, positive_class=3)
    absent, unseen = report["per_class"]["2"], report["per_class"]["3"]
    assert absent == {"sensitivity": 0.0, "specificity": 0.75, "precision": 0.0, "f1": 0.0, "support": 0, "auc": None}
    assert unseen == {"sensitivity": 0.0, "specificity": 1.0, "precision": 0.0, "f1": 0.0, "support": 0, "auc": None}
    assert report["positive"]["auc"] is None
    assert all(math.isfinite(n) for n in _numbers(report))
    assert report["macro_auc"] == pytest.approx(np.mean([report["per_class"][c]["auc"] for c in ("0", "1")]))
    assert report["macro_f1"] == pytest.approx((2 / 3 + 1.0 + 0.0 + 0.0) / 4)


def test_auc_matches_pairwise_count():
    # the classic binary example: AUC 0.75
    prob = [[0.9, 0.1], [0.6, 0.4], [0.65, 0.35], [0.2, 0.8]]
    binary = classification_report([0, 0, 1, 1], [0, 1, 0, 1], 2, y_prob=prob)
    assert binary["per_class"]["1"]["auc"] == pytest.approx(0.75)
    assert binary["per_class"]["0"]["auc"] == pytest.approx(0.75)
    assert binary["macro_auc"] == pytest.approx(0.75)
    # three classes with tied scores, one-vs-rest
    rng = np.random.default_rng(3)
    y_true = rng.integers(0, 3, size=40)
    prob = np.round(rng.dirichlet(np.ones(3), size=40), 1)  # rounding creates ties
    report = classification_report(y_true, prob.argmax(1), 3, y_prob=torch.from_numpy(prob))
    expected = [_pairwise_auc(prob[:, c], y_true == c) for c in range(3)]
    assert [report["per_class"][str(c)]["auc"] for c in range(3)] == pytest.approx(expected)
    assert report["macro_auc"] == pytest.approx(np.mean(expected))


def test_report_is_plain_json():
    prob = torch.softmax(torch.randn(9, 3), dim=1)
    report = classification_report(torch.tensor(Y_TRUE_3), np.array(Y_PRED_3), 3, NAMES, prob, positive_class="covid")
    assert json.loads(json.dumps(report, allow_nan=False)) == report
    assert type(report["accuracy"]) is float and type(report["num_samples"]) is int
    assert all(type(v) is int for row in report["confusion_matrix"] for v in row)
    assert all(type(v) in (int, float) for v in _numbers(report))


@pytest.mark.parametrize(
    "kwargs,message",
    [
        ({"y_true": [0, 3], "y_pred": [0, 1]}, r"y_true has class index 3 outside \[0, 2\]"),
        ({"y_true": [0, 1], "y_pred": [0, -1]}, r"y_pred has class index -1"),
        ({"y_true": [0, 1, 2], "y_pred": [0, 1]}, "same length, got 3 and 2"),
        ({"y_true": [], "y_pred": []}, "y_true is empty"),
        ({"y_true": [0.5, 1], "y_pred": [0, 1]}, "non-integer values"),
        ({"y_true": [[0, 1], [1, 0]], "y_pred": [0, 1]}, "1-D sequence"),
        ({"y_true": [0, 1], "y_pred": [0, 1], "y_prob": [[1.0, 0.0], [0.0, 1.0]]}, r"y_prob must have shape"),
        ({"y_true": [0, 1], "y_pred": [0, 1], "class_names": ["a", "b"]}, "class_names must be 3 distinct names"),
        ({"y_true": [0, 1], "y_pred": [0, 1], "positive_class": "covid"}, "positive_class must be"),
        ({"y_true": [0, 1], "y_pred": [0, 1], "positive_class": 3}, "positive_class must be"),
        ({"y_true": [0, 1], "y_pred": [0, 1], "num_classes": 1}, "num_classes must be an integer >= 2"),
    ],
)
def test_bad_arguments_raise_one_line_config_errors(kwargs, message):
    args = {"num_classes": 3, **kwargs}
    with pytest.raises(ConfigError, match=message) as err:
        classification_report(**args)
    assert "\n" not in str(err.value)


def test_positive_class_by_name_or_index():
    by_name = classification_report(Y_TRUE_3, Y_PRED_3, 3, NAMES, positive_class="viral")
    by_index = classification_report(Y_TRUE_3, Y_PRED_3, 3, NAMES, positive_class=1)
    assert by_name == by_index and by_name["positive"]["index"] == 1


def test_cumulative_metric_accepts_batches_and_decollated_items():
    prob = torch.softmax(torch.randn(9, 3), dim=1)
    labels = torch.tensor(Y_TRUE_3)
    metric = ClassificationReportMetric(3, NAMES, positive_class="covid")
    metric(prob[:4], labels[:4, None])  # batch-first, labels (B, 1)
    metric(list(prob[4:7]), list(labels[4:7]))  # decollated items, 0-d labels
    metric(prob[7:], torch.nn.functional.one_hot(labels[7:], 3))  # one-hot labels
    expected = classification_report(labels, prob.argmax(1), 3, NAMES, y_prob=prob, positive_class="covid")
    assert metric.aggregate() == expected


def test_handler_stores_the_report_at_the_end_of_a_run():
    prob = torch.softmax(torch.randn(9, 3), dim=1)
    labels = torch.tensor(Y_TRUE_3)
    batches = [range(0, 4), range(4, 9)]

    def step(engine, idx):  # like a decollating MONAI evaluator: one dict per item
        return [{"pred": prob[i], "label": labels[i]} for i in idx]

    engine = Engine(step)
    ClassificationReportHandler(3, NAMES, positive_class=2).attach(engine, "report")
    engine.run(batches)
    expected = classification_report(labels, prob.argmax(1), 3, NAMES, y_prob=prob, positive_class=2)
    assert set(engine.state.metrics) == {"report"}
    assert engine.state.metrics["report"] == expected
    engine.run(batches[:1])  # buffers are reset between runs
    assert engine.state.metrics["report"]["num_samples"] == 4
