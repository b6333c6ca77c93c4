from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from monai.data import MetaTensor

from monai_xrgan.io.xray import write_png
from monai_xrgan.utils.errors import ConfigError, MissingInputError
from monai_xrgan.workflows import (
    EpochMetricHistory,
    balancing_sources,
    build_classifier,
    class_count_record,
    class_weights,
    classifier_transforms,
    compare_real_vs_augmented,
    compare_training_sets,
    evaluate_classifier,
    oversample,
    relabel,
    steps_per_epoch_of_largest,
    train_classifier,
)

NAMES = ["normal", "viral pneumonia", "COVID-19"]
FAST = {"arch": "resnet18", "image_size": 32, "batch_size": 6, "num_workers": 0}


def _image(label: int, rng: np.random.Generator) -> np.ndarray:
    """A 32x32 noisy image whose bright block tells the class: left half, top half or centre."""
    img = rng.random((32, 32)) * 0.3
    if label == 0:
        img[:, :16] += 0.6
    elif label == 1:
        img[:16, :] += 0.6
    else:
        img[8:24, 8:24] += 0.6
    return np.clip(img, 0.0, 1.0)


def _items(folder, prefix: str, per_class: dict[int, int], seed: int) -> list[dict]:
    rng = np.random.default_rng(seed)
    return [
        {"image": str(write_png(folder / f"{prefix}_{label}_{k}.png", _image(label, rng))), "label": label}
        for label, count in per_class.items()
        for k in range(count)
    ]


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    folder = tmp_path_factory.mktemp("images")
    return {
        "real": _items(folder, "real", {0: 6, 1: 6, 2: 6}, seed=0),
        "synthetic": _items(folder, "synthetic", {2: 4}, seed=1),
        "test": _items(folder, "test", {0: 3, 1: 3, 2: 3}, seed=2),
    }


def _train(items, seed=0, epochs=1, **kwargs):
    history = EpochMetricHistory()
    model = train_classifier(items, 3, epochs=epochs, seed=seed, train_handlers=[history], **{**FAST, **kwargs})
    return model, history.values


def test_build_classifier_is_the_standard_resnet():
    resnet50 = build_classifier(3)
    assert sum(p.numel() for p in resnet50.parameters()) == 23_507_907  # torchvision ResNet-50, 1 channel, 3 classes
    resnet18 = build_classifier(4, arch="resnet18").eval()
    assert resnet18(torch.zeros(2, 1, 64, 64)).shape == (2, 4)
    with pytest.raises(ConfigError, match="arch must be one of"):
        build_classifier(3, arch="vgg16")


def test_transforms_have_no_flip_and_give_plain_unit_range_tensors(data):
    transform = classifier_transforms(32, augment=True)
    assert not any("Flip" in type(t).__name__ for t in transform.transforms)
    image = transform(data["real"][0])["image"]
    assert type(image) is torch.Tensor and not isinstance(image, MetaTensor)
    assert image.shape == (1, 32, 32) and image.dtype == torch.float32
    assert 0.0 <= float(image.min()) and float(image.max()) <= 1.0


def test_class_weights_balance_the_classes():
    assert class_weights([4, 2, 0]).tolist() == pytest.approx([0.5, 1.0, 0.0])


def test_training_is_deterministic_per_seed(data):
    model_a, losses_a = _train(data["real"], seed=0)
    model_b, losses_b = _train(data["real"], seed=0)
    _, losses_c = _train(data["real"], seed=1)
    assert len(losses_a) == 1 and np.isfinite(losses_a[0])
    assert losses_a == losses_b and losses_a != losses_c
    state_a, state_b = model_a.state_dict(), model_b.state_dict()
    assert all(torch.equal(state_a[k], state_b[k]) for k in state_a)
    assert not model_a.training


def test_classifier_learns_an_easy_task(data):
    model, losses = _train(data["real"], epochs=10, lr=1e-3)
    assert losses[-1] < losses[0]
    report = evaluate_classifier(model, data["test"], 3, NAMES, image_size=32, positive_class="COVID-19")
    assert report["num_samples"] == 9 and report["positive"]["support"] == 3
    assert report["accuracy"] > 0.5  # chance is 1/3
    assert set(report["per_class"]["COVID-19"]) == {"sensitivity", "specificity", "precision", "f1", "support", "auc"}


def test_compare_real_vs_augmented_end_to_end(data, tmp_path, capsys):
    out = tmp_path / "out"
    results = compare_real_vs_augmented(data["real"], data["synthetic"], data["test"], NAMES, out, epochs=1, **FAST)
    assert results["positive_class"] == "COVID-19"  # inferred: every synthetic image is COVID-19
    real, augmented = results["runs"]["real"], results["runs"]["real+synthetic"]
    assert real["train_counts"] == {"normal": 6, "viral pneumonia": 6, "COVID-19": 6}
    assert augmented["train_counts"] == {"normal": 6, "viral pneumonia": 6, "COVID-19": 10}
    assert (real["num_train"], augmented["num_train"], results["num_test"]) == (18, 22, 9)
    assert len(real["epoch_losses"]) == len(augmented["epoch_losses"]) == 1
    for run in (real, augmented):
        assert run["report"]["num_samples"] == 9 and run["report"]["positive"]["name"] == "COVID-19"
    assert results["settings"]["epochs"] == 1 and results["settings"]["arch"] == "resnet18"
    assert real["epoch_losses"] == _train(data["real"], seed=0)[1]  # same settings and seed as a lone run
    delta = results["delta"]["real+synthetic"]
    assert results["baseline"] == "real" and list(results["delta"]) == ["real+synthetic"]
    assert delta["accuracy"] == pytest.approx(augmented["report"]["accuracy"] - real["report"]["accuracy"])
    assert set(delta) >= {"macro_f1", "positive_sensitivity", "positive_specificity", "positive_f1"}
    assert (real["steps"], augmented["steps"]) == (3, 4)  # equal epochs, one pass each: more steps for more images
    assert results["num_synthetic"] == 4 and results["synthetic_counts"]["COVID-19"] == 4

    saved = json.loads((out / "augmentation_results.json").read_text())
    assert saved["runs"]["real"]["report"] == real["report"] and saved["wall_time_seconds"] > 0
    table = (out / "augmentation_results.md").read_text()
    rows = [line for line in table.splitlines() if line.startswith("|")]
    assert "COVID-19 sensitivity" in rows[0] and "COVID-19 specificity" in rows[0] and "macro F1" in rows[0]
    assert rows[2].startswith("| real | 18 |") and rows[3].startswith("| real+synthetic | 22 |")
    assert rows[0] in capsys.readouterr().out


@pytest.mark.parametrize(
    "change,error,message",
    [
        ({"real": []}, ConfigError, "real_items is empty"),
        ({"synthetic": []}, ConfigError, "synthetic_items is empty"),
        ({"synthetic": [{"image": "IMG"}]}, ConfigError, r"synthetic_items\[0\] has no \['label'\]"),
        ({"test": [{"image": "IMG", "label": 3}]}, ConfigError, r"test_items\[0\]\['label'\] = 3 is not a class index"),
        ({"real": [{"image": "IMG", "label": "COVID-19"}]}, ConfigError, r"real_items\[0\]\['label'\] = 'COVID-19'"),
        ({"real": [{"image": "missing.png", "label": 0}]}, MissingInputError, r"real_items\[0\]\['image'\]"),
        ({"kwargs": {"epoch": 2}}, ConfigError, r"unknown training setting\(s\) \['epoch'\]"),
        ({"kwargs": {"positive_class": "flu"}}, ConfigError, "positive_class must be"),
        ({"names": ["normal"]}, ConfigError, "class_names must name at least 2 classes"),
    ],
)
def test_bad_inputs_raise_one_line_errors_before_training(data, tmp_path, change, error, message):
    image = data["real"][0]["image"]
    args = {key: data[key] for key in ("real", "synthetic", "test")}
    for key in ("real", "synthetic", "test"):
        if key in change:
            args[key] = [{k: (image if v == "IMG" else v) for k, v in item.items()} for item in change[key]]
    kwargs = {**FAST, **change.get("kwargs", {})}
    with pytest.raises(error, match=message) as err:
        compare_real_vs_augmented(
            args["real"], args["synthetic"], args["test"], change.get("names", NAMES), tmp_path / "out", **kwargs
        )
    assert "\n" not in str(err.value)
    assert not (tmp_path / "out").exists()


def test_steps_per_epoch_gives_sets_of_different_sizes_the_same_number_of_steps(data):
    history_small, history_large = EpochMetricHistory(), EpochMetricHistory()
    larger = data["real"] + data["synthetic"]
    train_classifier(data["real"], 3, epochs=1, steps_per_epoch=5, train_handlers=[history_small], **FAST)
    train_classifier(larger, 3, epochs=1, steps_per_epoch=5, train_handlers=[history_large], **FAST)
    assert history_small.iterations == history_large.iterations == 5  # more than one pass over 18 or 22 images
    once = EpochMetricHistory()
    train_classifier(larger, 3, epochs=1, train_handlers=[once], **FAST)
    assert once.iterations == 4  # default: one pass, ceil(22 / 6)
    with pytest.raises(ConfigError, match="steps_per_epoch must be an integer >= 1"):
        train_classifier(larger, 3, steps_per_epoch=0, **FAST)


def test_oversample_repeats_one_class_and_relabel_changes_only_the_label(data):
    repeats = oversample(data["real"], 2, 8)
    covid = [i for i in data["real"] if i["label"] == 2]
    assert [i["image"] for i in repeats] == [covid[k % 6]["image"] for k in range(8)]
    assert oversample(data["real"], 2, 0) == []
    with pytest.raises(ConfigError, match="at least one item of class 5"):
        oversample(data["real"], 5, 3)
    normals = [i for i in data["real"] if i["label"] == 0]
    relabelled = relabel(normals, 2)
    assert [i["image"] for i in relabelled] == [i["image"] for i in normals] and {i["label"] for i in relabelled} == {2}
    assert {i["label"] for i in normals} == {0}  # the originals are untouched


def test_compare_training_sets_with_controls_takes_equal_steps(data, tmp_path):
    normals = [i for i in data["real"] if i["label"] == 0][:4]
    sets = {
        "real": data["real"],
        "real+synthetic": data["real"] + data["synthetic"],
        "real+mislabelled_normals": data["real"] + relabel(normals, 2),
    }
    results = compare_training_sets(
        sets, data["test"], NAMES, tmp_path, "COVID-19", epochs=1, steps_per_epoch=4, **FAST
    )
    assert list(results["runs"]) == list(sets) and list(results["delta"]) == list(sets)[1:]
    assert {run["steps"] for run in results["runs"].values()} == {4}
    assert results["runs"]["real+mislabelled_normals"]["train_counts"]["COVID-19"] == 10
    rows = [line for line in (tmp_path / "augmentation_results.md").read_text().splitlines() if line.startswith("|")]
    assert [r.split(" | ")[0] for r in rows[2:]] == ["| real", "| real+synthetic", "| real+mislabelled_normals"]
    with pytest.raises(ConfigError, match="at least 2 names"):
        compare_training_sets({"real": data["real"]}, data["test"], NAMES, tmp_path, **FAST)


def test_balancing_sources_fill_the_gap_between_two_classes():
    items = [{"image": f"{i}.png", "label": label} for i, label in enumerate([0, 0, 0, 0, 2, 1])]
    sources = balancing_sources(items, source_label=0, target_label=2)
    assert [s["image"] for s in sources] == ["0.png", "1.png", "2.png"]  # 4 normals - 1 COVID-19
    assert balancing_sources(items, source_label=2, target_label=0) == []  # the target class is not smaller
    assert class_count_record(relabel(sources, 2), NAMES) == {"normal": 0, "viral pneumonia": 0, "COVID-19": 3}


def test_steps_per_epoch_of_largest_covers_the_largest_set_once():
    assert steps_per_epoch_of_largest({"real": [0] * 10, "real+synthetic": [0] * 17}, batch_size=4) == 5
