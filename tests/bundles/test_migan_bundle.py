"""End-to-end runs of bundles/migan_ct through ``python -m monai.bundle`` (tiny sizes)."""

from __future__ import annotations

import json
import shutil

import nibabel as nib
import numpy as np
import pytest
import torch
from PIL import Image
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from monai_xrgan.demo.datasets import make_demo_dataset
from monai_xrgan.io.xray import write_png

from helpers.bundles import TINY as TINY_SETTINGS
from helpers.bundles import check_resume_after_crash, run_bundle

pytestmark = pytest.mark.slow
BUNDLE = "migan_ct"
_ARGS = TINY_SETTINGS[BUNDLE].overrides
TINY = [a for key, value in zip(_ARGS[::2], _ARGS[1::2]) if key != "--max_epochs" for a in (key, value)]


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    root = tmp_path_factory.mktemp("migan_demo")
    make_demo_dataset("migan", root, **TINY_SETTINGS[BUNDLE].demo)
    return root


@pytest.fixture(scope="module")
def trained(tmp_path_factory, demo):
    """One training run of 2 epochs, shared by the tests that need trained weights."""
    root = tmp_path_factory.mktemp("migan_trained")
    result = run_bundle(
        BUNDLE, ["train.json"], ["--bundle_root", root, "--dataset_dir", demo, "--max_epochs", 2, *TINY]
    )
    return root, result.stdout


def test_train_writes_checkpoints_best_model_and_tensorboard(trained):
    root, log = trained
    assert (root / "models" / "model.pt").is_file() and (root / "models" / "discriminator.pt").is_file()
    assert sorted(p.name for p in (root / "checkpoints").iterdir()) == [
        "checkpoint_epoch=1.pt",
        "checkpoint_epoch=2.pt",
    ]
    assert "val_translation_acc" in log and "loss_g_att" in log and "Epoch: 2/2" in log
    weights = torch.load(root / "models" / "model.pt", weights_only=True)
    assert "key_attention.weight" in weights  # the key migration branch is on by default
    events = EventAccumulator(str(root / "runs")).Reload()
    assert {"loss_g", "loss_d", "loss_d_gp", "val_translation_acc", "val_cycle_ssim"} <= set(events.Tags()["scalars"])


def test_inference_translates_every_slice_or_chosen_slices_with_the_input_geometry(trained, demo, tmp_path):
    root, _ = trained
    run_bundle(
        BUNDLE,
        ["inference.json"],
        ["--bundle_root", root, "--dataset_dir", demo, "--output_dir", tmp_path / "all", *TINY],
    )
    source = nib.load(demo / "volumes" / "test" / "normal_000.nii.gz")
    written = nib.load(tmp_path / "all" / "normal_000_to_covid_mild.nii.gz")
    assert written.shape == source.shape and len(list((tmp_path / "all").iterdir())) == 3
    np.testing.assert_allclose(written.affine, source.affine, atol=1e-5)
    hu = written.get_fdata()
    assert -1024 <= hu.min() < hu.max() <= 150  # HU through the inverse lung window

    run_bundle(BUNDLE, ["inference.json"], ["--bundle_root", root, "--dataset_dir", demo,
                                            "--output_dir", tmp_path / "one",
                                            "--slices", "[16]", "--target_domain", 0, *TINY])  # fmt: skip
    one = nib.load(tmp_path / "one" / "normal_000_to_normal.nii.gz").get_fdata()
    kept = np.clip(source.get_fdata(), -1024, 150)
    changed = np.abs(one - kept).max(axis=(0, 1)) > 1.0
    assert changed.tolist() == [k == 16 for k in range(source.shape[2])]


def test_inference_on_a_dicom_series_and_a_two_dimensional_image(trained, tmp_path):
    root, _ = trained
    data = tmp_path / "dicom"
    make_demo_dataset("migan", data, format="dicom", size=32, num_train=1, num_train_mild=1, num_val=1, num_test=1)
    run_bundle(
        BUNDLE,
        ["inference.json"],
        ["--bundle_root", root, "--dataset_dir", data, "--output_dir", tmp_path / "out", *TINY],
    )
    written = nib.load(tmp_path / "out" / "normal_000_to_covid_mild.nii.gz")
    assert written.shape == (32, 32, 32)

    inputs = tmp_path / "png"
    write_png(inputs / "slice.png", np.full((32, 32), 0.5))
    result = run_bundle(BUNDLE, ["inference.json"], ["--bundle_root", root, "--input_dir", inputs, *TINY], check=False)
    last = result.stdout.strip().splitlines()[-1]
    assert result.returncode != 0 and last.startswith("error: ") and "no CT volumes" in last, last


def test_inference_on_a_folder_of_nifti_volumes_and_dicom_series_into_a_named_domain(trained, demo, tmp_path):
    root, _ = trained
    inputs = tmp_path / "inputs"
    inputs.mkdir()
    shutil.copy(demo / "volumes" / "test" / "normal_000.nii.gz", inputs / "patient_a.nii.gz")
    dicom = tmp_path / "dicom"
    make_demo_dataset("migan", dicom, format="dicom", size=32, num_train=1, num_train_mild=1, num_val=1, num_test=1)
    shutil.copytree(dicom / "volumes" / "test" / "viral_pneumonia_000", inputs / "patient_b")
    out = tmp_path / "out"
    overrides = ["--bundle_root", root, "--input_dir", inputs, "--output_dir", out, *TINY]
    result = run_bundle(BUNDLE, ["inference.json"], [*overrides, "--target_domain", "viral_pneumonia"])
    assert "Translated 2 volume(s) into viral_pneumonia" in result.stdout
    source = nib.load(inputs / "patient_a.nii.gz")
    written = nib.load(out / "patient_a_to_viral_pneumonia.nii.gz")
    assert written.shape == source.shape
    np.testing.assert_allclose(written.affine, source.affine, atol=1e-5)
    assert nib.load(out / "patient_b_to_viral_pneumonia.nii.gz").shape == (32, 32, 32)

    result = run_bundle(BUNDLE, ["inference.json"], [*overrides, "--target_domain", "covid"], check=False)
    last = result.stdout.strip().splitlines()[-1]
    assert result.returncode != 0 and last.startswith("error: target_domain 'covid' is not a domain"), last


def test_evaluate_reports_gan_scores_and_the_classifier_gain(trained, demo):
    root, _ = trained
    run_bundle(BUNDLE, ["train.json", "evaluate.json"], ["--bundle_root", root, "--dataset_dir", demo, *TINY,
                                                         "--classifier#epochs", 1,
                                                         "--classifier#batch_size", 4])  # fmt: skip
    metrics = json.loads((root / "eval" / "metrics.json").read_text())
    for key in ("gan_train", "gan_test", "real_accuracy"):
        assert 0.0 <= metrics[key] <= 1.0
    assert metrics["key_branch"] and metrics["key_domain"] == "covid_mild"
    for run in ("real", "real+synthetic"):
        assert {"accuracy", "sensitivity", "specificity", "auc"} <= set(metrics["augmentation"][run])
    assert metrics["counts"]["generated_train"] == 3 * sum(metrics["counts"]["real_train"])  # every domain
    assert Image.open(root / "eval" / "samples_input_then_each_domain.png").size[0] == 4 * 32 + 3 * 2
    assert "| MI-GAN (key branch) |" in (root / "eval" / "summary.md").read_text()


def test_resume_after_interruption_of_the_plain_stargan_ablation(tmp_path, demo):
    check_resume_after_crash(BUNDLE, tmp_path, ["--dataset_dir", demo, "--key_branch", "False", *TINY])
    weights = torch.load(tmp_path / "models" / "model.pt", weights_only=True)
    assert not any(k.startswith("key_") for k in weights)  # plain StarGAN: no key migration branch


def test_paper_config_is_the_reference_setting():
    from pathlib import Path

    from monai.bundle import ConfigParser

    configs = Path(__file__).resolve().parents[2] / "bundles" / BUNDLE / "configs"
    parser = ConfigParser()
    parser.read_config([str(configs / "train.json"), str(configs / "paper.json")])
    keys = ("image_size", "batch_size", "learning_rate", "n_critic", "lambda_gp", "lambda_cls", "lambda_rec", "amp")
    assert {k: parser.get_parsed_content(k) for k in keys} == {
        "image_size": 128, "batch_size": 16, "learning_rate": 1e-4, "n_critic": 5, "lambda_gp": 10.0,
        "lambda_cls": 1.0, "lambda_rec": 10.0, "amp": True,
    }  # fmt: skip
    generator, discriminator = parser.get_parsed_content("network_def"), parser.get_parsed_content("discriminator_def")
    assert sum(p.numel() for p in generator.parameters()) == 8_411_712 + 6_273  # reference + key branch
    assert sum(p.numel() for p in discriminator.parameters()) == 44_743_616
