"""DiffusionXRay demo data: LQ/HQ pairs, DRRs, DRRs with nodules at their labelled positions."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from monai_xrgan.data.demo import make_demo_dataset
from monai_xrgan.utils.errors import ConfigError


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    root = tmp_path_factory.mktemp("diffusionxray_demo")
    path = make_demo_dataset("diffusionxray", root, size=64, num_train=2, num_val=1, num_test=1, num_train_drr=1,
                             num_test_drr=2, ct_size=48)  # fmt: skip
    return root, json.loads(path.read_text())


def _png(root, relative) -> np.ndarray:
    return np.asarray(Image.open(root / relative), dtype=np.float32) / 255.0


def test_lists_and_pairs(demo):
    root, datalist = demo
    assert {k: len(datalist[k]) for k in ("training", "validation", "test", "training_drr", "test_drr")} == {
        "training": 2, "validation": 1, "test": 1, "training_drr": 1, "test_drr": 2}  # fmt: skip
    pair = datalist["training"][1]
    assert pair["finding"] == "nodule"
    lq, hq = _png(root, pair["lq"]), _png(root, pair["hq"])
    assert lq.shape == hq.shape == (64, 64)
    sharpness = lambda im: np.abs(np.diff(im, axis=1)).mean()  # noqa: E731
    assert sharpness(lq) < 0.85 * sharpness(hq)  # the LQ partner is the blurred, DRR-like rendering


def test_nodule_drrs_show_the_nodule_at_its_label(demo):
    root, datalist = demo
    for item in datalist["test_drr"]:
        difference = _png(root, item["image"]) - _png(root, item["clean"])  # rows = y, columns = x
        x, y, r = item["nodule"]
        row, col = np.unravel_index(int(difference.argmax()), difference.shape)
        assert abs(col + 0.5 - x * 64) <= 1.5 and abs(row + 0.5 - y * 64) <= 1.5
        assert 15.0 <= item["nodule_diameter_mm"] <= 30.0 and r * 64 == pytest.approx(
            item["nodule_diameter_mm"] / 2 / 6.25
        )
        assert (root / item["ct"]).is_file()


def test_same_options_same_bytes(tmp_path, demo):
    root, datalist = demo
    again = make_demo_dataset("diffusionxray", tmp_path, size=64, num_train=2, num_val=1, num_test=1, num_train_drr=1,
                              num_test_drr=2, ct_size=48)  # fmt: skip
    assert json.loads(again.read_text()) == datalist
    assert (tmp_path / datalist["test_drr"][0]["image"]).read_bytes() == (
        root / datalist["test_drr"][0]["image"]
    ).read_bytes()


def test_options_are_checked(tmp_path):
    with pytest.raises(ConfigError, match="nodule_min_mm"):
        make_demo_dataset("diffusionxray", tmp_path, size=64, nodule_min_mm=2.0)
    with pytest.raises(ConfigError, match="ct_size"):
        make_demo_dataset("diffusionxray", tmp_path / "b", size=64, ct_size=512)
