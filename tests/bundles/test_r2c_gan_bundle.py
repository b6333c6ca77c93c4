"""End-to-end runs of bundles/r2c_gan_cxr through ``python -m monai.bundle`` (tiny sizes)."""

from __future__ import annotations

import csv
import json

import pytest
import torch
from monai.bundle import ConfigParser
from PIL import Image
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from monai_xrgan.bundle import REPO_BUNDLES
from monai_xrgan.demo.datasets import make_demo_dataset

from helpers.bundles import check_resume_after_crash, run_bundle

pytestmark = pytest.mark.slow
BUNDLE = "r2c_gan_cxr"
TINY = ["--image_size", 64, "--base_channels", 4, "--num_workers", 0]
NETWORKS = ("model", "inverse_generator", "discriminator_lq", "discriminator_hq")


@pytest.fixture(scope="session")
def r2c_demo(tmp_path_factory):
    """A tiny r2c_gan demo dataset (64 px): 4 degraded and 4 clean training images, 2 validation and 4 test pairs."""
    root = tmp_path_factory.mktemp("r2c_demo")
    make_demo_dataset("r2c_gan", root, size=64, num_train_lq=4, num_train_hq=4, num_val=2, num_test=4)
    return root


@pytest.fixture(scope="module")
def trained(tmp_path_factory, r2c_demo):
    """One training run of 1 epoch, shared by the tests that need trained weights."""
    root = tmp_path_factory.mktemp("r2c_trained")
    result = run_bundle(
        BUNDLE, ["train.json"], ["--bundle_root", root, "--dataset_dir", r2c_demo, "--max_epochs", 1, *TINY]
    )
    return root, result.stdout


def _configs(*names: str) -> ConfigParser:
    parser = ConfigParser()
    parser.read_config([str(REPO_BUNDLES / BUNDLE / "configs" / n) for n in names])
    return parser


def test_demo_generators_start_as_the_identity_with_an_average_pooled_head():
    parser = _configs("train.json")
    x = torch.rand(2, 1, 64, 64) * 2 - 1
    for name in ("network_def", "inverse_generator_def"):
        net = parser.get_parsed_content(name).eval()
        with torch.no_grad():
            assert torch.equal(net(x), x)
        assert isinstance(net.head[0], torch.nn.AdaptiveAvgPool2d)
    assert parser.get_parsed_content("class_weights") == [1.0, 0.1, 0.2]


def test_paper_config_is_the_reference_scale():
    parser = _configs("train.json", "paper.json")
    settings = ("image_size", "load_size", "base_channels", "q", "batch_size", "constant_epochs", "decay_epochs")
    assert {k: parser.get_parsed_content(k) for k in settings} == {
        "image_size": 256, "load_size": 286, "base_channels": 64, "q": 3, "batch_size": 1, "constant_epochs": 100,
        "decay_epochs": 1900,
    }  # fmt: skip
    generator = parser.get_parsed_content("network_def")
    assert sum(p.numel() for p in generator.parameters()) == 892_677  # 1 grey channel, q = 3, width 64
    inference = _configs("inference.json", "paper.json")
    assert inference.get_parsed_content("image_size") == 256


def test_train_exports_every_network_and_logs_restoration_and_classification(trained):
    root, log = trained
    assert all((root / "models" / f"{stem}.pt").is_file() for stem in NETWORKS)
    assert sorted(p.name for p in (root / "checkpoints").iterdir()) == ["checkpoint_epoch=1.pt"]
    assert "Epoch: 1/1, Iter: 4/4" in log and "val_covid_f1" in log
    events = EventAccumulator(str(root / "runs")).Reload()
    assert {"loss_g", "loss_g_class", "loss_d", "val_ssim", "val_psnr", "val_accuracy", "val_covid_f1"} <= set(
        events.Tags()["scalars"]
    )
    assert len(events.Tags()["images"]) == 1  # the degraded|restored|clean grid


def test_inference_writes_restored_images_and_class_probabilities(trained, r2c_demo):
    root, _ = trained
    run_bundle(BUNDLE, ["inference.json"], ["--bundle_root", root, "--dataset_dir", r2c_demo, *TINY])
    out = root / "eval" / "restored"
    restored = sorted(out.glob("*_restored.png"))
    assert len(restored) == 4 and Image.open(restored[0]).size == (64, 64)
    with open(out / "class_probabilities.csv", newline="") as f:
        header, *rows = list(csv.reader(f))
    assert header == ["image", "normal", "covid"]
    assert len(rows) == 4 and all(row[0].endswith("_lq.png") for row in rows)
    assert all(float(p_normal) + float(p_covid) == pytest.approx(1.0, abs=1e-5) for _, p_normal, p_covid in rows)


def test_evaluate_reports_restoration_classification_and_the_degraded_baseline(trained, r2c_demo):
    root, _ = trained
    baseline = ["--baseline#classifier#epochs", 1, "--baseline#classifier#batch_size", 4]
    run_bundle(
        BUNDLE, ["train.json", "evaluate.json"], ["--bundle_root", root, "--dataset_dir", r2c_demo, *TINY, *baseline]
    )
    metrics = json.loads((root / "eval" / "metrics.json").read_text())["metrics"]
    for name in (
        "ssim",
        "psnr",
        "identity_ssim",
        "identity_psnr",
        "accuracy",
        "covid_sensitivity",
        "covid_specificity",
        "covid_f1",
        "normal_f1",
    ):
        assert f"test_{name}" in metrics, name
    assert sum(map(sum, metrics["test_confusion_matrix"])) == 4
    report = json.loads((root / "eval" / "baseline_metrics.json").read_text())["report"]
    assert report["num_samples"] == 4 and report["positive"]["name"] == "covid"
    assert {"accuracy", "per_class"} <= set(report)
    assert Image.open(root / "eval" / "samples_degraded_restored_clean.png").size == (3 * 64 + 2 * 2, 4 * 64 + 3 * 2)


def test_fine_tune_loads_every_network(trained, tmp_path, r2c_demo):
    root, _ = trained
    result = run_bundle(
        BUNDLE,
        ["train.json"],
        [
            "--bundle_root",
            tmp_path,
            "--dataset_dir",
            r2c_demo,
            "--max_epochs",
            1,
            "--pretrained_ckpt",
            root / "models" / "model.pt",
            *TINY,
        ],
    )
    for name in ("generator", "inverse_generator", "discriminator_lq", "discriminator_hq"):
        assert f"Fine-tuning: loaded '{name}'" in result.stdout


def test_convolutional_variant_resumes_after_an_interruption(tmp_path, r2c_demo):
    check_resume_after_crash(BUNDLE, tmp_path, ["--dataset_dir", r2c_demo, "--variant", "convolutional", *TINY])
