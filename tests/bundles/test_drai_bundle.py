"""End-to-end runs of bundles/drai_cxr through ``python -m monai.bundle`` (tiny sizes)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from monai_xrgan.demo.datasets import make_demo_dataset

from helpers.bundles import run_bundle

pytestmark = pytest.mark.slow
BUNDLE = "drai_cxr"
# 64-pixel demo images resized to 32 for the model, small codes; 4 images per batch
TINY = ["--image_size", 32, "--base_channels", 4, "--content_dim", 4, "--style_dim", 4, "--batch_size", 4,
        "--num_workers", 0]  # fmt: skip
TINY_EVAL = [
    "--evaluate#classifier_settings",
    json.dumps({"arch": "resnet18", "epochs": 1, "batch_size": 4, "num_workers": 0}),
    "--evaluate#grid_size",
    "[2, 3]",
]


@pytest.fixture(scope="session")
def drai_demo(tmp_path_factory):
    """A tiny DRAI demo dataset (64 px): 3 training, 1 validation and 2 test images per class."""
    root = tmp_path_factory.mktemp("drai_demo")
    make_demo_dataset("drai", root, size=64, num_train_per_class=3, num_val_per_class=1, num_test_per_class=2)
    return root


@pytest.fixture(scope="module")
def trained(tmp_path_factory, drai_demo):
    """One training run of 2 epochs, shared by the tests that need trained weights."""
    root = tmp_path_factory.mktemp("drai_trained")
    result = run_bundle(
        BUNDLE, ["train.json"], ["--bundle_root", root, "--dataset_dir", drai_demo, "--max_epochs", 2, *TINY]
    )
    return root, result.stdout


def test_train_writes_weights_checkpoints_and_tensorboard(trained):
    root, log = trained
    assert sorted(p.name for p in (root / "models").iterdir()) == ["discriminator.pt", "encoder.pt", "model.pt"]
    assert sorted(p.name for p in (root / "checkpoints").iterdir()) == [
        "checkpoint_epoch=1.pt",
        "checkpoint_epoch=2.pt",
    ]
    assert "val_recon_ssim" in log and "Epoch: 2/2" in log
    events = EventAccumulator(str(root / "runs")).Reload()
    losses = {
        "loss_g",
        "loss_d",
        "loss_adv",
        "loss_cls_real",
        "loss_cls_fake",
        "loss_latent",
        "loss_grl",
        "loss_swap",
        "loss_transform",
    }
    assert losses | {"val_recon_ssim"} <= set(events.Tags()["scalars"])
    assert len(events.Images("validation/input|reconstruction")) == 2


def test_inference_generates_given_conditions_with_a_seed(trained, tmp_path):
    root, _ = trained
    args = ["--bundle_root", root, "--samples_per_condition", 2, *TINY]
    run_bundle(BUNDLE, ["inference.json"], args)
    out = root / "eval" / "generated"
    assert sorted(p.name for p in out.glob("*_00?.png")) == [
        f"{c}_00{k}.png" for c in ("covid", "normal", "viral_pneumonia") for k in range(2)
    ]
    assert Image.open(out / "covid_000.png").size == (32, 32)
    assert Image.open(out / "generated_grid.png").size == (2 * 34 - 2, 3 * 34 - 2)

    run_bundle(BUNDLE, ["inference.json"], [*args, "--conditions", "['covid']", "--output_dir", tmp_path])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["covid_000.png", "covid_001.png", "generated_grid.png"]
    for name in ("covid_000.png", "covid_001.png"):  # the same seed gives the same images
        assert (tmp_path / name).read_bytes() == (out / name).read_bytes()


def test_reconstruction_is_the_image_to_image_path(trained, drai_demo):
    """What MONAI Label serves: encode a radiograph, regenerate it, write it at the input's size and format."""
    root, _ = trained
    log = run_bundle(BUNDLE, ["inference.json", "reconstruct.json"], ["--bundle_root", root, "--dataset_dir", drai_demo,
                                                                      *TINY]).stdout  # fmt: skip
    outputs = sorted((root / "eval" / "reconstructed").glob("*_drai_reconstruction.png"))
    assert len(outputs) == 6 and "Reconstructed 6 image(s)" in log
    source = drai_demo / "test" / outputs[0].name.replace("_drai_reconstruction", "")
    assert Image.open(outputs[0]).size == Image.open(source).size == (64, 64)
    pixels = np.asarray(Image.open(outputs[0]))
    assert pixels.min() < pixels.max()


def test_swaps_between_test_images(trained, drai_demo):
    root, _ = trained
    run_bundle(BUNDLE, ["inference.json", "swap.json"], ["--bundle_root", root, "--dataset_dir", drai_demo, *TINY])
    out = root / "eval" / "swaps"
    assert len(list(out.glob("swap_c*_s*.png"))) == 3 * 4  # one content image per class, 4 style images
    assert Image.open(out / "swap_grid.png").size == (5 * 34 - 2, 4 * 34 - 2)


def test_evaluate_writes_scores_and_grids(trained, drai_demo, tmp_path):
    root, _ = trained
    run_bundle(
        BUNDLE, ["train.json", "evaluate.json"], ["--bundle_root", root, "--dataset_dir", drai_demo, *TINY, *TINY_EVAL]
    )
    record = json.loads((root / "eval" / "metrics.json").read_text())
    assert record["split"] == "test" and record["two_latents"] is True and record["num_generated"] == 6
    metrics = record["metrics"]
    assert set(metrics) == {
        "disentanglement",
        "disentanglement_class",
        "disentanglement_style",
        "condition_accuracy",
        "real_test_accuracy",
        "fid",
        "fid_real",
    }
    assert -1 <= metrics["disentanglement"] <= 1 and 0 <= metrics["condition_accuracy"] <= 1 and metrics["fid"] >= 0
    assert record["disentanglement"]["code_sizes"] == {"content": 4, "style": 4}
    assert set(record["disentanglement"]["style_r2_per_factor"]["style"]) >= {
        "exposure",
        "contrast",
        "noise",
        "rotation",
    }
    assert np.array(record["condition_report"]["confusion_matrix"]).sum() == 6
    assert len(list((root / "eval" / "generated").glob("covid_*.png"))) == 4
    assert Image.open(root / "eval" / "grid_content_rows.png").size == (3 * 34 - 2, 2 * 34 - 2)
    assert Image.open(root / "eval" / "grid_style_rows.png").size == (2 * 34 - 2, 3 * 34 - 2)
    events = EventAccumulator(str(root / "runs")).Reload()
    assert {"evaluate/rows_content_columns_style", "evaluate/rows_style_columns_content"} <= set(
        events.Tags()["images"]
    )
    assert "evaluate/disentanglement" in events.Tags()["scalars"]

    # the floor: the same networks untrained, read by the classifier the first evaluation trained and saved
    classifier = root / "eval" / "classifier.pt"
    floor = ["--untrained", "True", "--classifier_ckpt", classifier, "--output_dir", tmp_path, "--models_dir", tmp_path]
    log = run_bundle(BUNDLE, ["train.json", "evaluate.json"], ["--bundle_root", root, "--dataset_dir", drai_demo,
                                                               *TINY, *floor]).stdout  # fmt: skip
    untrained = json.loads((tmp_path / "metrics.json").read_text())
    assert "untrained=True" in log and "Training resnet18" not in log
    assert untrained["checkpoint"] is None and untrained["classifier"] == str(classifier)
    assert untrained["metrics"]["real_test_accuracy"] == metrics["real_test_accuracy"]
    assert untrained["metrics"]["fid_real"] == pytest.approx(metrics["fid_real"])


def test_one_latent_ablation_is_a_switch(tmp_path, drai_demo):
    common = ["--bundle_root", tmp_path, "--dataset_dir", drai_demo, "--two_latents", "False", *TINY]
    log = run_bundle(BUNDLE, ["train.json"], [*common, "--max_epochs", 1]).stdout
    assert "loss_grl" not in log and "loss_swap" not in log and "loss_transform" not in log and "loss_latent" in log
    run_bundle(BUNDLE, ["train.json", "evaluate.json"], [*common, *TINY_EVAL])
    record = json.loads((tmp_path / "eval" / "metrics.json").read_text())
    # the one code of 8 values is scored as two parts of the two-latent sizes (content_dim 4, style_dim 4)
    assert record["two_latents"] is False and record["disentanglement"]["code_sizes"] == {"content": 4, "style": 4}
