from __future__ import annotations

import pytest

from monai_xrgan.utils.errors import ConfigError
from monai_xrgan.workflows import gan_scores


def _set(name: str, count: int = 3) -> list[dict]:
    return [{"image": f"{name}{i}", "label": i % 3} for i in range(count)]


def test_gan_train_trains_on_generated_and_gan_test_tests_on_generated(monkeypatch):
    """Which classifier is trained on what and tested on what, with one set of settings (a "model" here is the name
    of its training set and its "accuracy" tells the model and the test set apart)."""
    trained_with = []

    def train(items, num_classes, **kwargs):
        trained_with.append(kwargs)
        return items[0]["image"][:-1]

    def evaluate(model, items, num_classes, names, **kwargs):
        assert set(kwargs) == {"image_size", "device", "num_workers", "preprocessing", "positive_class"}
        assert names == ["a", "b", "c"] and kwargs["positive_class"] == "c"
        return {"accuracy": {"gen_train": 0.1, "real_train": 0.2}[model] + len(items) / 100}

    monkeypatch.setattr(gan_scores, "train_classifier", train)
    monkeypatch.setattr(gan_scores, "evaluate_classifier", evaluate)
    settings = {"arch": "resnet18", "image_size": 32, "epochs": 2, "seed": 5, "device": "cpu", "num_workers": 0,
                "preprocessing": None}  # fmt: skip
    scores = gan_scores.gan_train_test(
        _set("real_train"),
        _set("gen_train"),
        _set("real_test", 4),
        _set("gen_test", 5),
        ["a", "b", "c"],
        "c",
        **settings,
    )
    assert trained_with == [settings, settings]  # same architecture, schedule and seed for both classifiers
    assert scores["gan_train"] == pytest.approx(0.14)  # trained on generated images, tested on the 4 real ones
    assert scores["gan_test"] == pytest.approx(0.25)  # trained on real images, tested on the 5 generated ones
    assert scores["real_accuracy"] == pytest.approx(0.24)
    assert set(scores["reports"]) == {"gan_train", "gan_test", "real_accuracy"}


def test_class_names_are_checked():
    with pytest.raises(ConfigError, match="num_classes must be an integer >= 2"):
        gan_scores.gan_train_test([], [], [], [], ["only"])
