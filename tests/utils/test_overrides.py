"""Command-line override checks of monai_xrgan.utils.overrides (issue 18, cases 4 and 8)."""

from __future__ import annotations

import pytest
import torch

from monai_xrgan.utils import ConfigError
from monai_xrgan.utils.overrides import check_overrides, command_line_overrides

from helpers.bundles import BUNDLES, TINY

PIX2PIX = [str(BUNDLES / "pix2pix_cxr" / "configs" / "train.json")]


def test_command_line_is_read_as_fire_reads_it():
    argv = ["x/monai/bundle/__main__.py", "run", "--config_file", "['a.json','b.json']", "--max_epochs", "3",
            "--lr=1e-3", "--amp", "--device", "cpu", "--train#trainer#amp", "False"]  # fmt: skip
    assert command_line_overrides(argv) == {"config_file": ["a.json", "b.json"], "max_epochs": 3, "lr": 1e-3,
                                            "amp": True, "device": "cpu", "train#trainer#amp": False}  # fmt: skip


@pytest.mark.parametrize("name", sorted(TINY))
def test_the_test_overrides_of_every_bundle_are_accepted(name):
    tiny = TINY[name]
    for configs in (["train.json"], ["inference.json"], ["train.json", "evaluate.json"]):
        files = [str(BUNDLES / name / "configs" / c) for c in configs]
        for overrides in (tiny.overrides, tiny.deterministic, tiny.wrong_architecture):
            check_overrides(files, command_line_overrides(["run", *overrides]))


@pytest.mark.parametrize("key, hint", [("max_epoch", "did you mean --max_epochs?"),
                                       ("ouput_dir", "did you mean --output_dir?"),
                                       ("train#trainer_x", "did you mean --train#trainer?")])  # fmt: skip
def test_unknown_key_is_refused_with_the_closest_valid_one(key, hint):
    with pytest.raises(ConfigError, match=rf"--{key}: no config of .*pix2pix_cxr/configs defines `{key}`.*{hint}"):
        check_overrides(PIX2PIX, {key: 3})


def test_a_new_argument_of_a_component_is_accepted():
    check_overrides(PIX2PIX, {"network_def#norm": "instance", "bundle_root": "/x", "_meta_#version": "9"})


@pytest.mark.parametrize("key, value, message", [
    ("batch_size", 0, "must be a positive whole number"),
    ("max_epochs", 0, "must be a positive whole number"),
    ("image_size", 2.5, "must be a positive whole number"),
    ("num_workers", -1, "must be 0"),
    ("learning_rate", -1, "must be a positive number"),
    ("learning_rate", float("nan"), "must be a positive number"),
    ("device", "gpu0", "not a device"),
])  # fmt: skip
def test_bad_values_are_refused_in_one_line(key, value, message):
    with pytest.raises(ConfigError, match=rf"--{key} .*{message}"):
        check_overrides(PIX2PIX, {key: value})


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the message of a machine without CUDA")
def test_cuda_without_cuda_is_refused():
    with pytest.raises(ConfigError, match="--device cuda: CUDA is not available on this machine; use --device cpu"):
        check_overrides(PIX2PIX, {"device": "cuda"})
