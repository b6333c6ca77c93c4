"""Demo task r2c_gan: unpaired degraded / clean training sets with labels, test pairs that keep the clean original."""

from __future__ import annotations

import json

import numpy as np
import pydicom
import pytest
from PIL import Image

from monai_xrgan.demo.datasets import main, make_demo_dataset
from monai_xrgan.demo.tasks import TASKS
from monai_xrgan.utils.errors import ConfigError

TINY = {"size": 64, "num_train_lq": 4, "num_train_hq": 3, "num_val": 2, "num_test": 4}


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    root = tmp_path_factory.mktemp("r2c_demo")
    return root, json.loads(make_demo_dataset("r2c_gan", root, **TINY).read_text())


def _pixels(root, relative: str) -> np.ndarray:
    return np.asarray(Image.open(root / relative), dtype=np.float32) / 255.0


def test_lists_keys_and_balanced_labels(demo):
    root, datalist = demo
    assert datalist["labels"] == {"0": "normal", "1": "covid"} and TASKS["r2c_gan"].name == "r2c_gan"
    assert [len(datalist[k]) for k in ("training_lq", "training_hq", "validation", "test")] == [4, 3, 2, 4]
    assert all(set(i) == {"lq", "label", "degradation"} for i in datalist["training_lq"])
    assert all(set(i) == {"hq", "label"} for i in datalist["training_hq"])
    assert all(set(i) == {"image", "hq", "label", "degradation"} for i in datalist["validation"] + datalist["test"])
    assert [i["label"] for i in datalist["test"]] == [0, 1, 0, 1]
    for item in datalist["training_lq"] + datalist["training_hq"] + datalist["test"]:
        for key in ("lq", "hq", "image"):
            if key in item:
                assert Image.open(root / item[key]).size == (64, 64)


def test_test_pairs_are_a_degraded_image_and_its_clean_original(demo):
    root, datalist = demo
    for item in datalist["test"]:
        lq, hq = _pixels(root, item["image"]), _pixels(root, item["hq"])
        assert item["degradation"] != "none" and not np.array_equal(lq, hq)
        assert np.corrcoef(lq.ravel(), hq.ravel())[0, 1] > 0.6  # the same radiograph, degraded


def test_training_sets_are_unpaired_patients_and_test_pairs_one_patient(tmp_path):
    datalist = json.loads(make_demo_dataset("r2c_gan", tmp_path, format="dicom", **TINY).read_text())
    patient = lambda item, key: pydicom.dcmread(tmp_path / item[key], stop_before_pixels=True).PatientID  # noqa: E731
    lq_patients = {patient(i, "lq") for i in datalist["training_lq"]}
    hq_patients = {patient(i, "hq") for i in datalist["training_hq"]}
    assert len(lq_patients) == 4 and len(hq_patients) == 3 and not lq_patients & hq_patients
    assert all(patient(i, "image") == patient(i, "hq") for i in datalist["test"])


def test_generation_is_deterministic_and_runs_from_the_command_line(demo, tmp_path):
    root, datalist = demo
    args = ["--task", "r2c_gan", "--out", str(tmp_path), *(f"--{k.replace('_', '-')}={v}" for k, v in TINY.items())]
    again = json.loads(main(args).read_text())
    assert again == datalist
    for item in datalist["test"]:
        assert (tmp_path / item["image"]).read_bytes() == (root / item["image"]).read_bytes()


@pytest.mark.parametrize(
    "options,message",
    [
        ({"num_train_lq": 0}, "num_train_lq"),
        ({"min_severity": 4, "max_severity": 2}, "severity"),
        ({"max_degradations": 0}, "max_degradations"),
    ],
)
def test_bad_options_are_config_errors(tmp_path, options, message):
    with pytest.raises(ConfigError, match=message):
        make_demo_dataset("r2c_gan", tmp_path, size=64, **options)
