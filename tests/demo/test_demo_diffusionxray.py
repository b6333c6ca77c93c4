"""DiffusionXRay demo data: LQ/HQ pairs, DRRs, DRRs with nodules at their labelled positions."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from monai_xrgan.demo.datasets import make_demo_dataset
from monai_xrgan.utils.errors import ConfigError


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    root = tmp_path_factory.mktemp("diffusionxray_demo")
    path = make_demo_dataset("diffusionxray", root, size=32, num_train=2, num_val=1, num_test=1, num_train_drr=1,
                             num_test_drr=2, num_test_drr_ood=2, ct_size=48)  # fmt: skip
    return root, json.loads(path.read_text())


def _png(root, relative) -> np.ndarray:
    return np.asarray(Image.open(root / relative), dtype=np.float32) / 255.0


def _detail(image: np.ndarray) -> float:
    """Fine detail independent of the grey scale: mean |Laplacian| / standard deviation."""
    laplacian = image[1:-1, 2:] + image[1:-1, :-2] + image[2:, 1:-1] + image[:-2, 1:-1] - 4 * image[1:-1, 1:-1]
    return float(np.abs(laplacian).mean() / image.std())


def test_lists_and_pairs(demo):
    root, datalist = demo
    lists = ("training", "validation", "test", "test_drr", "training_drr", "test_drr_ood")
    assert {k: len(datalist[k]) for k in lists} == {
        "training": 2, "validation": 1, "test": 1, "test_drr": 2, "training_drr": 1, "test_drr_ood": 2}  # fmt: skip
    normal, pair = datalist["training"]
    assert normal["finding"] == "normal" and "nodule" not in normal and pair["finding"] == "nodule"
    lq, hq = _png(root, pair["lq"]), _png(root, pair["hq"])
    assert lq.shape == hq.shape == (32, 32)  # written at the model's size
    assert _detail(lq) < 0.75 * _detail(hq)  # the LQ partner is the blurred, DRR-like rendering
    for item in (pair, *datalist["test_drr"]):  # the nodule is where its label says, in HQ and LQ alike
        x, y, r = item["nodule"]
        assert 15.0 <= item["nodule_diameter_mm"] <= 30.0 and r == pytest.approx(item["nodule_diameter_mm"] / 800.0)
    for item in datalist["test_drr"]:
        difference = _png(root, item["image"]) - _png(root, item["clean"])
        row, col = np.unravel_index(int(difference.argmax()), difference.shape)
        x, y, _ = item["nodule"]
        assert abs(col + 0.5 - x * 32) <= 1.5 and abs(row + 0.5 - y * 32) <= 1.5


def test_lq_blur_is_in_mm_so_it_matters_at_the_model_size(tmp_path):
    ratios = {}
    for size in (32, 64):
        path = make_demo_dataset("diffusionxray", tmp_path / str(size), size=size, num_train=1, num_val=1, num_test=1,
                                 num_train_drr=1, num_test_drr=1, num_test_drr_ood=1, ct_size=48)  # fmt: skip
        item = json.loads(path.read_text())["training"][0]
        ratios[size] = _detail(_png(tmp_path / str(size), item["lq"])) / _detail(_png(tmp_path / str(size), item["hq"]))
    assert ratios[32] < 0.75 and ratios[64] < 0.75  # a blur fixed in pixels of a large image would vanish at 32


def test_nodule_drrs_show_the_nodule_at_its_label(demo):
    root, datalist = demo
    for item in datalist["test_drr_ood"]:
        difference = _png(root, item["image"]) - _png(root, item["clean"])  # rows = y, columns = x
        x, y, r = item["nodule"]
        row, col = np.unravel_index(int(difference.argmax()), difference.shape)
        assert abs(col + 0.5 - x * 32) <= 1.5 and abs(row + 0.5 - y * 32) <= 1.5
        assert 15.0 <= item["nodule_diameter_mm"] <= 30.0 and r * 32 == pytest.approx(
            item["nodule_diameter_mm"] / 2 / 12.5
        )
        assert (root / item["ct"]).is_file()


def test_same_options_same_bytes(tmp_path, demo):
    root, datalist = demo
    again = make_demo_dataset("diffusionxray", tmp_path, size=32, num_train=2, num_val=1, num_test=1, num_train_drr=1,
                              num_test_drr=2, num_test_drr_ood=2, ct_size=48)  # fmt: skip
    assert json.loads(again.read_text()) == datalist
    assert (tmp_path / datalist["test_drr_ood"][0]["image"]).read_bytes() == (
        root / datalist["test_drr_ood"][0]["image"]
    ).read_bytes()


def test_options_are_checked(tmp_path):
    with pytest.raises(ConfigError, match="nodule_min_mm"):
        make_demo_dataset("diffusionxray", tmp_path, size=64, nodule_min_mm=2.0)
    with pytest.raises(ConfigError, match="lq_blur_mm"):
        make_demo_dataset("diffusionxray", tmp_path / "c", size=32, lq_blur_mm=-1.0)
    with pytest.raises(ConfigError, match="ct_size"):
        make_demo_dataset("diffusionxray", tmp_path / "b", size=64, ct_size=512)
