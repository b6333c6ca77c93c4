"""The pix2pix demo pairs' opacity masks and the identity floor of the bundle's lesion evaluation, on tiny data."""

import json

import numpy as np
import pytest
from monai.bundle import ConfigParser
from PIL import Image

from monai_xrgan.demo.datasets import make_demo_dataset

from helpers.bundles import BUNDLES, TINY

CONFIGS = BUNDLES / "pix2pix_cxr" / "configs"


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    root = tmp_path_factory.mktemp("pix2pix_demo")
    make_demo_dataset("pix2pix", root, **{**TINY["pix2pix_cxr"].demo, "num_test": 3})
    return root


def _png(path) -> np.ndarray:
    return np.asarray(Image.open(path), dtype=np.int64)


def test_demo_pairs_have_masks_where_the_target_differs_from_the_input(demo):
    datalist = json.loads((demo / "datalist.json").read_text())
    assert datalist["mask_labels"]["2"].startswith("COVID-19 opacity")
    for item in datalist["test"]:
        mask, image, target = (_png(demo / item[k]) for k in ("mask", "image", "target"))
        assert set(np.unique(mask)) == {0, 1, 2}
        change = np.abs(target - image)
        assert change[mask == 0].max() == 0  # a pair differs only inside the lungs
        assert change[mask == 2].mean() > 5 * change[mask == 1].mean()  # ... and mostly inside the opacities


def test_identity_generator_scores_the_floor_and_the_target_the_ceiling(demo, tmp_path):
    parser = ConfigParser()
    parser.read_config([str(CONFIGS / c) for c in ("train.json", "evaluate.json", "lesion.json")])
    parser.update({"bundle_root": str(tmp_path), "dataset_dir": str(demo), "image_size": 64, "num_workers": 0,
                   "network_def": {"_target_": "torch.nn.Identity"}, "evaluate#handlers": []})  # fmt: skip
    evaluator = parser.get_parsed_content("evaluate#evaluator")
    evaluator.run()
    metrics = evaluator.state.metrics
    for name in ("ssim", "psnr", "mae", "lung_change_share", "lesion_contrast"):
        assert metrics[f"test_{name}"] == pytest.approx(metrics[f"test_identity_{name}"])
    assert metrics["test_lesion_contrast"] == 0.0 and metrics["test_lung_change_share"] == 0.0
    assert metrics["test_target_lung_change_share"] == pytest.approx(1.0)
    assert metrics["test_target_lesion_contrast"] > 0.8
