"""A user error ends a bundle run in one line naming the file or key and the fix, with no traceback (issue 18,
cases 2, 4, 8), on a tiny pix2pix_cxr run (64², 4 training pairs, 1 epoch)."""

from __future__ import annotations

import json
import shutil

import pytest
import torch

from monai_xrgan.demo.datasets import make_demo_dataset

from helpers.bundles import TINY, run_bundle

pytestmark = pytest.mark.slow
BUNDLE = "pix2pix_cxr"


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    root = tmp_path_factory.mktemp("demo")
    make_demo_dataset("pix2pix", root, **TINY[BUNDLE].demo)
    return root


@pytest.fixture(scope="module")
def trained(demo, tmp_path_factory):
    """A bundle root holding a trained tiny model (``models/model.pt``)."""
    root = tmp_path_factory.mktemp("trained")
    assert train(root, demo).returncode == 0
    return root


def with_bad_item(demo, tmp_path, split: str, index: int):
    """A copy of the demo data whose ``split[index]`` image is a corrupt PNG; the datalist path."""
    data = tmp_path / "data"
    shutil.copytree(demo, data)
    datalist = json.loads((data / "datalist.json").read_text())
    bad = data / datalist[split][index]["image"]
    bad.write_bytes(bad.read_bytes()[:60])  # a truncated PNG
    return data, bad


def train(tmp_path, data, *overrides):
    common = ["--bundle_root", tmp_path, "--dataset_dir", data, *TINY[BUNDLE].overrides]
    return run_bundle(BUNDLE, ["train.json"], [*common, *overrides], check=False)


def assert_one_line(result, *parts: str) -> str:
    """The run failed, and its last line is the error, holding ``parts``, with no traceback before it."""
    assert result.returncode != 0, result.stdout[-3000:]
    assert "Traceback" not in result.stdout, result.stdout[-5000:]
    last = result.stdout.strip().splitlines()[-1]
    assert last.startswith("error: ") and all(p in last for p in parts), last
    return last


def test_corrupt_training_image_stops_the_run_naming_file_item_and_split(demo, tmp_path):
    data, bad = with_bad_item(demo, tmp_path, "training", 1)
    assert_one_line(train(tmp_path, data), str(bad), "(training[1])", "skip_bad_images True")


def test_corrupt_validation_image_stops_the_run_naming_the_file(demo, tmp_path):
    # validation items are cached before the first epoch (no loader yet): the reader's one line names the file
    data, bad = with_bad_item(demo, tmp_path, "validation", 1)
    assert_one_line(train(tmp_path, data), str(bad), "not a readable PNG")


def test_skip_bad_images_skips_and_counts(demo, tmp_path):
    data, bad = with_bad_item(demo, tmp_path, "training", 1)
    result = train(tmp_path, data, "--skip_bad_images", "True")
    assert result.returncode == 0, result.stdout[-3000:]
    assert f"Skipped {bad}, " in result.stdout and "(training[1])" in result.stdout  # image and target named
    assert "skipped 1 of 4 training items this epoch" in result.stdout


@pytest.mark.parametrize("override, parts", [
    (["--max_epoch", "3"], ["--max_epoch:", "did you mean --max_epochs?"]),
    (["--ouput_dir", "X"], ["--ouput_dir:", "did you mean --output_dir?"]),
    (["--batch_size", "0"], ["--batch_size 0", "positive"]),
    (["--max_epochs", "0"], ["--max_epochs 0", "positive"]),
    (["--learning_rate", "-1"], ["--learning_rate -1", "positive"]),
    pytest.param(["--device", "cuda"], ["--device cuda: CUDA is not available", "--device cpu"],
                 marks=pytest.mark.skipif(torch.cuda.is_available(), reason="refused only without CUDA")),
])  # fmt: skip
def test_bad_override_is_refused_in_one_line(demo, tmp_path, override, parts):
    assert_one_line(train(tmp_path, demo, *override), *parts)
    assert not (tmp_path / "checkpoints").exists()  # refused before anything ran


def test_image_size_the_unet_cannot_take_is_one_line(demo, tmp_path):
    # issue 18, case 8: the U-Net's size check was a good message under 150 lines of tracebacks
    assert_one_line(train(tmp_path, demo, "--image_size", "100"), "Pix2PixUNet", "divisible by 64", "100x100")


def test_traceback_is_shown_on_request(demo, tmp_path, monkeypatch):
    monkeypatch.setenv("MONAI_XRGAN_TRACEBACK", "1")
    result = train(tmp_path, demo, "--max_epoch", "3")
    assert result.returncode != 0 and "Traceback" in result.stdout


def infer(trained, demo, tmp_path, *overrides):
    common = [
        "--bundle_root",
        trained,
        "--dataset_dir",
        demo,
        "--output_dir",
        tmp_path / "out",
        *TINY[BUNDLE].overrides,
    ]
    return run_bundle(BUNDLE, ["inference.json"], [*common, *overrides], check=False)


def test_bad_inference_image_is_one_line_or_skipped(demo, trained, tmp_path):
    inputs = tmp_path / "inputs"
    inputs.mkdir()
    datalist = json.loads((demo / "datalist.json").read_text())
    shutil.copy(demo / datalist["test"][0]["image"], inputs / "a_good.png")
    (inputs / "b_bad.png").write_bytes((inputs / "a_good.png").read_bytes()[:60])
    failed = infer(trained, demo, tmp_path, "--input_dir", inputs)
    assert_one_line(failed, str(inputs / "b_bad.png"), "(inference[1])")
    skipped = infer(trained, demo, tmp_path, "--input_dir", inputs, "--skip_bad_images", "True")
    assert skipped.returncode == 0 and "skipped 1 of 2 inference items" in skipped.stdout, skipped.stdout[-3000:]
    assert [p.name for p in (tmp_path / "out").rglob("*.png")] and not list((tmp_path / "out").rglob("b_bad*"))


def test_truncated_model_at_inference_is_one_line(demo, trained, tmp_path):
    # issue 18, case 5 (the wrong-size and missing file cases of the same loader: handlers/test_checkpoint.py)
    model = tmp_path / "model.pt"
    model.write_bytes((trained / "models" / "model.pt").read_bytes()[:2000])
    assert_one_line(infer(trained, demo, tmp_path, "--ckpt_path", model), str(model), "truncated or corrupt")


def test_output_dir_naming_a_file_at_inference_is_one_line(demo, trained, tmp_path):
    (tmp_path / "out").write_text("not a folder")
    assert_one_line(infer(trained, demo, tmp_path), str(tmp_path / "out"), "must name a folder")
