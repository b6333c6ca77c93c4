"""End-to-end runs of bundles/pix2pix_cxr through ``python -m monai.bundle`` (tiny sizes)."""

from __future__ import annotations

import json
import shutil

import nibabel as nib
import numpy as np
import pydicom
import pytest
import torch
from monai.bundle import ConfigParser
from PIL import Image
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from monai_xrgan.bundle import REPO_BUNDLES
from monai_xrgan.demo.datasets import make_demo_dataset

from helpers.bundles import check_resume_after_crash, run_bundle

pytestmark = pytest.mark.slow
BUNDLE = "pix2pix_cxr"
TINY = ["--image_size", 64, "--network_def#base_channels", 8, "--num_workers", 0]


@pytest.fixture(scope="module")
def trained(tmp_path_factory, pix2pix_demo):
    """One training run of 2 epochs, shared by the tests that need trained weights."""
    root = tmp_path_factory.mktemp("pix2pix_trained")
    result = run_bundle(
        BUNDLE, ["train.json"], ["--bundle_root", root, "--dataset_dir", pix2pix_demo, "--max_epochs", 2, *TINY]
    )
    return root, result.stdout


def test_train_writes_checkpoints_best_model_and_tensorboard(trained):
    root, log = trained
    assert (root / "models" / "model.pt").is_file() and (root / "models" / "discriminator.pt").is_file()
    assert sorted(p.name for p in (root / "checkpoints").iterdir()) == [
        "checkpoint_epoch=1.pt",
        "checkpoint_epoch=2.pt",
    ]
    assert "val_ssim" in log and "Epoch: 2/2" in log  # plain log lines (not a terminal)
    events = EventAccumulator(str(root / "runs")).Reload()
    assert {"loss_g", "loss_d", "val_ssim", "val_psnr", "val_mae"} <= set(events.Tags()["scalars"])
    (grid_tag,) = events.Tags()["images"]
    assert len(events.Images(grid_tag)) == 2  # one input|generated|target grid per epoch


def test_inference_and_evaluate_on_test_split(trained, pix2pix_demo):
    root, _ = trained
    run_bundle(BUNDLE, ["inference.json"], ["--bundle_root", root, "--dataset_dir", pix2pix_demo, *TINY])
    outputs = sorted((root / "eval" / "generated").glob("*.png"))
    assert len(outputs) == 2
    assert Image.open(outputs[0]).size == (64, 64)

    run_bundle(BUNDLE, ["train.json", "evaluate.json"], ["--bundle_root", root, "--dataset_dir", pix2pix_demo, *TINY])
    record = json.loads((root / "eval" / "metrics.json").read_text())
    assert set(record["metrics"]) == {
        f"test_{prefix}{m}" for prefix in ("", "identity_") for m in ("ssim", "psnr", "mae")
    }
    assert 0 <= record["metrics"]["test_mae"] <= 1 and record["split"] == "test"
    grid = Image.open(root / "eval" / "samples_input_generated_target.png")
    assert grid.size == (3 * 64 + 2 * 2, 2 * 64 + 2)


def test_inference_on_dicom_writes_derived_dicom(trained, tmp_path):
    root, _ = trained
    source_dir = tmp_path / "dicom_demo"
    make_demo_dataset(
        "pix2pix",
        source_dir,
        size=64,
        format="dicom",
        num_train=1,
        num_val=1,
        num_test=1,
        num_normal=1,
        num_viral=1,
        num_covid=1,
        num_test_per_class=1,
    )
    inputs = tmp_path / "inputs"
    inputs.mkdir()
    source = next(source_dir.rglob("*normal*.dcm"))
    shutil.copy(source, inputs / "patient.dcm")
    out = tmp_path / "out"
    run_bundle(BUNDLE, ["inference.json"], ["--bundle_root", root, "--input_dir", inputs, "--output_dir", out, *TINY])
    (written,) = out.glob("*.dcm")
    src, gen = pydicom.dcmread(source), pydicom.dcmread(written)
    for keyword in ("PatientID", "StudyInstanceUID", "PhotometricInterpretation", "PixelSpacing", "BitsStored"):
        assert gen.data_element(keyword).value == src.data_element(keyword).value, keyword
    assert gen.SOPInstanceUID != src.SOPInstanceUID
    assert "pix2pix" in gen.DerivationDescription and list(gen.ImageType)[:2] == ["DERIVED", "SECONDARY"]


def test_inference_on_nifti_keeps_affine(trained, tmp_path, pix2pix_demo):
    root, _ = trained
    inputs = tmp_path / "inputs"
    inputs.mkdir()
    png = next(pix2pix_demo.rglob("pairs/test/*normal*.png"))
    affine = np.diag([0.3, 0.3, 1.0, 1.0])
    affine[:3, 3] = [10.0, -5.0, 2.0]
    nib.save(nib.Nifti1Image(np.asarray(Image.open(png), np.float32).T[..., None], affine), inputs / "image.nii.gz")
    out = tmp_path / "out"
    run_bundle(BUNDLE, ["inference.json"], ["--bundle_root", root, "--input_dir", inputs, "--output_dir", out, *TINY])
    (written,) = out.glob("*.nii.gz")
    np.testing.assert_allclose(nib.load(written).affine, affine, atol=1e-5)


def test_resume_after_interruption_continues_without_repeating_epochs(tmp_path, pix2pix_demo):
    check_resume_after_crash(BUNDLE, tmp_path, ["--dataset_dir", pix2pix_demo, *TINY])


def test_missing_datalist_is_one_clear_line(tmp_path):
    (tmp_path / "mydata").mkdir()
    (tmp_path / "mydata" / "image.png").write_bytes(b"not used")
    result = run_bundle(
        BUNDLE, ["train.json"], ["--bundle_root", tmp_path, "--dataset_dir", tmp_path / "mydata", *TINY], check=False
    )
    assert result.returncode != 0
    last = result.stdout.strip().splitlines()[-1]
    assert last.startswith("error: ") and "datalist.json: datalist not found" in last


def test_a_lowercase_flag_on_the_command_line_is_one_clear_line(tmp_path, pix2pix_demo):
    overrides = ["--bundle_root", tmp_path, "--dataset_dir", pix2pix_demo, *TINY, "--amp", "false"]
    result = run_bundle(BUNDLE, ["train.json"], overrides, check=False)
    assert result.returncode != 0
    last = result.stdout.strip().splitlines()[-1]
    assert last.startswith("error: ") and "config `amp` must be true or false, got 'false'" in last


def test_augmentation_workflow_compares_real_and_real_plus_synthetic(trained, pix2pix_demo):
    root, _ = trained
    run_bundle(BUNDLE, ["inference.json", "augmentation.json"],
               ["--bundle_root", root, "--dataset_dir", pix2pix_demo, "--classifier#arch", "resnet18",
                "--classifier#epochs", 1, "--classifier#batch_size", 4, *TINY])  # fmt: skip
    results = json.loads((root / "eval" / "augmentation" / "augmentation_results.json").read_text())
    # the tiny demo has 4 normal, 4 viral and 2 COVID-19 training images: 2 synthetic COVID-19 images balance them
    assert results["num_synthetic"] == 2 and results["synthetic_counts"]["covid"] == 2
    assert results["runs"]["real"]["num_train"] == 10 and results["runs"]["real+synthetic"]["num_train"] == 12
    assert results["positive_class"] == "covid"
    assert len(list((root / "eval" / "augmentation" / "synthetic_covid").glob("*.png"))) == 2
    assert "| real+synthetic |" in (root / "eval" / "augmentation" / "augmentation_results.md").read_text()


def _configs(*names: str) -> ConfigParser:
    parser = ConfigParser()
    parser.read_config([str(REPO_BUNDLES / BUNDLE / "configs" / name) for name in names])
    return parser


def test_demo_generator_starts_as_the_identity():
    parser = _configs("train.json")
    net = parser.get_parsed_content("network_def").eval()
    x = torch.rand(2, 1, parser.get_parsed_content("image_size"), parser.get_parsed_content("image_size")) * 2 - 1
    with torch.no_grad():
        assert (net(x) - x).abs().max() <= 1e-3


def test_paper_config_is_the_reference_setting():
    parser = _configs("train.json", "paper.json")
    settings = {k: parser.get_parsed_content(k) for k in ("image_size", "num_downs", "constant_epochs", "decay_epochs",
                                                           "batch_size", "load_size")}  # fmt: skip
    assert settings == {"image_size": 256, "num_downs": 8, "constant_epochs": 100, "decay_epochs": 100,
                        "batch_size": 1, "load_size": 286}  # fmt: skip
    generator, discriminator = parser.get_parsed_content("network_def"), parser.get_parsed_content("discriminator_def")
    assert not generator.residual
    assert sum(p.numel() for p in generator.parameters()) == 54_407_809  # the reference unet_256, 1 -> 1 channel
    assert sum(p.numel() for p in discriminator.parameters()) == 2_764_609
    inference = _configs("inference.json", "paper.json")
    assert (
        inference.get_parsed_content("image_size") == 256 and not inference.get_parsed_content("network_def").residual
    )
