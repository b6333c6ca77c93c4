"""End-to-end runs of bundles/diffusionxray_drr through ``python -m monai.bundle`` (tiny sizes, few timesteps)."""

from __future__ import annotations

import json

import pytest
from PIL import Image

from monai_xrgan.demo.datasets import make_demo_dataset

from helpers.bundles import TINY, run_bundle

pytestmark = pytest.mark.slow
BUNDLE = "diffusionxray_drr"
SMALL = TINY[BUNDLE].overrides


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    root = tmp_path_factory.mktemp("diffusionxray_demo")
    make_demo_dataset("diffusionxray", root, **TINY[BUNDLE].demo)
    return root


@pytest.fixture(scope="module")
def trained(tmp_path_factory, demo):
    root = tmp_path_factory.mktemp("diffusionxray_trained")
    result = run_bundle(
        BUNDLE, ["train.json"], ["--bundle_root", root, "--dataset_dir", demo, *SMALL, "--val_interval", 1]
    )
    return root, result.stdout


def test_train_validates_by_sampling_and_exports_the_restoration_model(trained):
    root, log = trained
    assert (root / "models" / "model.pt").is_file()
    assert [p.name for p in (root / "checkpoints").iterdir()] == ["checkpoint_epoch=1.pt"]
    assert "val_ssim" in log and "Exported best val_ssim" in log


def test_inference_restores_drrs_and_evaluate_reports_similarity_and_nodule_cnr(trained, demo):
    root, _ = trained
    run_bundle(BUNDLE, ["inference.json"], ["--bundle_root", root, "--dataset_dir", demo, *SMALL])
    outputs = sorted((root / "eval" / "restored").glob("*_restored.png"))
    assert len(outputs) == 2 and Image.open(outputs[0]).size == (32, 32)  # at the input's size

    run_bundle(BUNDLE, ["train.json", "evaluate.json"], ["--bundle_root", root, "--dataset_dir", demo, *SMALL])
    pairs = json.loads((root / "eval" / "metrics.json").read_text())
    expected = {f"test_{p}{m}" for p in ("", "identity_") for m in ("ssim", "psnr", "mae", "ms_ssim")}
    assert (
        set(pairs["metrics"]) == {*expected, "test_seconds_per_image"}
        and pairs["metrics"]["test_seconds_per_image"] > 0
    )
    assert pairs["sampler"] == "ddim" and pairs["num_inference_steps"] == 2
    # a residual model starts at its input: one epoch leaves the LQ image about as it is
    assert abs(pairs["metrics"]["test_identity_ssim"] - pairs["metrics"]["test_ssim"]) < 0.05
    for name, prefix in (("metrics_drr_nodules.json", "drr_"), ("metrics_drr_ood_nodules.json", "drr_ood_")):
        nodules = json.loads((root / "eval" / name).read_text())["metrics"]
        assert set(nodules) == {
            f"{prefix}nodule_cnr_{k}{e}" for k in ("input", "restored") for e in ("", "_per_image")} | {
            f"{prefix}seconds_per_image"}  # fmt: skip
        assert len(nodules[f"{prefix}nodule_cnr_input_per_image"]) == 2
    assert nodules["drr_ood_nodule_cnr_input"] > 0.0  # the nodules inserted into the CTs are brighter than around them
    scored = root / "eval" / "restored_at_model_size"  # what was scored, under the data's relative folders
    restored = sorted(str(p.relative_to(scored)) for p in scored.rglob("*.nii.gz"))
    assert restored == sorted(
        [f"pairs/test/000{i}_lq_restored.nii.gz" for i in (0, 1)]
        + [f"nodules/test/000{i}_{k}_restored.nii.gz" for i in (0, 1) for k in ("lq", "clean")]
        + [f"drr/test/000{i}_{k}_restored.nii.gz" for i in (0, 1) for k in ("nodule", "clean")]
    )
    assert (root / "eval" / "samples_drr_restored.png").is_file()


def test_stage_one_ddpm_lq_writes_pairs_that_stage_two_trains_on(demo, tmp_path):
    common = ["--bundle_root", tmp_path, "--dataset_dir", demo, *SMALL, "--lq_inference_steps", 10]
    lq_net = ["--lq_network_def#channels", "[8,16,16]", "--lq_network_def#num_head_channels", 8,
              "--lq_network_def#norm_num_groups", 8]  # fmt: skip
    result = run_bundle(BUNDLE, ["train.json", "train_lq_ddpm.json"], [*common, *lq_net])
    assert (tmp_path / "models" / "lq_ddpm.pt").is_file() and not (tmp_path / "models" / "model.pt").exists()
    pairs = json.loads((demo / "datalist_lq_ddpm.json").read_text())
    assert "LQ/HQ pairs:" in result.stdout and pairs["lq_source"] == "lq_ddpm"
    item = pairs["training"][0]
    assert (
        item["lq"].startswith("lq_ddpm/training/")
        and item["hq"] == json.loads((demo / "datalist.json").read_text())["training"][0]["hq"]
    )
    assert Image.open(demo / item["lq"]).size == (32, 32)

    run_bundle(BUNDLE, ["train.json", "train_restore.json"], [*common, "--lq_generator", "ddpm"])
    assert (tmp_path / "models" / "model.pt").is_file() and (tmp_path / "checkpoints" / "restore_lq_ddpm").is_dir()
    missing = run_bundle(
        BUNDLE, ["train.json", "train_restore.json"], [*common, "--lq_generator", "munit"], check=False
    )
    assert missing.returncode != 0 and "train_lq_munit.json" in missing.stdout.strip().splitlines()[-1]


def test_stage_one_munit_lq_writes_pairs(demo, tmp_path):
    run_bundle(BUNDLE, ["train.json", "train_lq_munit.json"],
               ["--bundle_root", tmp_path, "--dataset_dir", demo, *SMALL, "--munit_dim", 4, "--munit_style_dim", 2,
                "--munit_dis_layers", 3])  # fmt: skip
    assert {p.name for p in (tmp_path / "models").iterdir()} == {
        "munit_hq.pt", "munit_drr.pt", "munit_discriminator_hq.pt", "munit_discriminator_drr.pt"}  # fmt: skip
    pairs = json.loads((demo / "datalist_lq_munit.json").read_text())
    assert len(pairs["training"]) == 4 and all((demo / i["lq"]).is_file() for i in pairs["training"] + pairs["test"])
