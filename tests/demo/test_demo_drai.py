from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from monai_xrgan.demo.datasets import main, make_demo_dataset
from monai_xrgan.demo.phantoms import Acquisition, Anatomy, render_chest_xray
from monai_xrgan.demo.tasks.base import DemoWriter
from monai_xrgan.demo.tasks.drai import DRAI_FINDINGS, STYLE_FACTORS, STYLE_RANGES, _styled_patient
from monai_xrgan.utils.errors import ConfigError

COUNTS = {"num_train_per_class": 3, "num_val_per_class": 1, "num_test_per_class": 2}


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    root = tmp_path_factory.mktemp("drai_demo")
    return root, json.loads(make_demo_dataset("drai", root, size=64, **COUNTS).read_text())


def test_datalist_has_balanced_labelled_splits_with_style_factors(demo):
    root, datalist = demo
    assert datalist["labels"] == {"0": "normal", "1": "viral_pneumonia", "2": "covid"}
    assert datalist["style_factors"] == list(Acquisition.FACTOR_NAMES + Anatomy.FACTOR_NAMES) == list(STYLE_FACTORS)
    for split, per_class in (("training", 3), ("validation", 1), ("test", 2)):
        items = datalist[split]
        assert sorted(i["label"] for i in items) == sorted([0, 1, 2] * per_class)
        for item in items:
            assert len(item["style"]) == len(STYLE_FACTORS)
            assert Image.open(root / item["image"]).size == (64, 64)
            for name, value in zip(STYLE_FACTORS, item["style"]):
                low, high = STYLE_RANGES.get(name, (0.5, 2.0))
                assert low <= value <= high, (name, value)


def test_recorded_factors_are_the_ones_rendered(demo):
    root, datalist = demo
    writer = DemoWriter(root, 64, 0, "png")
    first_patient = writer.patients(1)[0]  # the first training image: class 0, index 0
    anatomy, acquisition, finding_rng = _styled_patient(writer, first_patient)
    item = datalist["training"][0]
    np.testing.assert_allclose(item["style"], np.concatenate([acquisition.factors(), anatomy.factors()]), atol=1e-5)
    image = render_chest_xray(anatomy, 64, DRAI_FINDINGS[item["label"]], acquisition, finding_rng)
    written = np.asarray(Image.open(root / item["image"]), np.float32) / 255
    np.testing.assert_allclose(written, image, atol=1 / 255 + 1e-6)


def test_style_is_drawn_independently_of_the_class(tmp_path):
    datalist = json.loads(
        make_demo_dataset(
            "drai", tmp_path, size=64, num_train_per_class=30, num_val_per_class=0, num_test_per_class=0
        ).read_text()
    )
    style = np.array([i["style"] for i in datalist["training"]])
    labels = np.array([i["label"] for i in datalist["training"]])
    exposure = style[:, STYLE_FACTORS.index("exposure")]
    means = [exposure[labels == c].mean() for c in range(3)]
    assert max(means) - min(means) < 0.1  # range 0.55: class means agree within sampling noise


def test_generation_is_deterministic_and_the_command_line_works(demo, tmp_path):
    root, datalist = demo
    args = ["--task", "drai", "--out", str(tmp_path), "--size", "64"]
    args += [f"--{k.replace('_', '-')}={v}" for k, v in COUNTS.items()]
    assert json.loads(main(args).read_text()) == datalist
    first = datalist["test"][0]["image"]
    assert (tmp_path / first).read_bytes() == (root / first).read_bytes()


def test_at_least_one_training_image_per_class(tmp_path):
    with pytest.raises(ConfigError, match="num_train_per_class"):
        make_demo_dataset("drai", tmp_path, size=64, num_train_per_class=0)
