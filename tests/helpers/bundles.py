"""Run the bundles' configs through ``python -m monai.bundle run`` as a user would."""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path

import pytest

from monai_xrgan.bundle import bundle_command
from monai_xrgan.utils.launch import run_module

BUNDLES = Path(__file__).resolve().parents[2] / "bundles"


def run_bundle(
    bundle: str, configs: Sequence[str], overrides: Sequence[object], check: bool = True, timeout: float = 600
):
    """Run configs of ``bundles/<bundle>`` in a separate process (``python -m monai.bundle run``, from the fork
    server of :mod:`monai_xrgan.utils.launch`); return the CompletedProcess (stdout+stderr merged)."""
    command = bundle_command(BUNDLES / bundle, configs, [str(o) for o in overrides])
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "OMP_NUM_THREADS": "2"}
    result = run_module("monai.bundle", command[3:], env=env, timeout=timeout)
    if check and result.returncode != 0:
        pytest.fail(f"{' '.join(command)} failed with {result.returncode}:\n{result.stdout[-6000:]}")
    return result


def check_resume_after_crash(bundle: str, root: Path, overrides: Sequence[object]) -> None:
    """Train ``bundle`` for 2 epochs into ``root`` (``overrides`` shrink it), kill the process right after epoch 1's
    handlers as a crash would, run the same command again and check that it resumes at epoch 2 from the checkpoint."""
    common = ["--bundle_root", root, "--max_epochs", 2, *overrides]
    events = "monai.handlers.checkpoint_saver.Events"  # ignite's Events, reachable without an import statement
    crash = f"$@train#trainer.add_event_handler({events}.EPOCH_COMPLETED(once=1), lambda e: os._exit(3))"
    crash_run = ["--run", json.dumps([crash, "$@train#trainer.run()"])]
    first = run_bundle(bundle, ["train.json"], [*common, *crash_run], check=False)
    assert first.returncode == 3, first.stdout[-3000:]
    assert sorted(p.name for p in (root / "checkpoints").iterdir()) == ["checkpoint_epoch=1.pt"]
    second = run_bundle(bundle, ["train.json"], common)
    assert "Resumed from" in second.stdout and "at epoch 1/2" in second.stdout
    assert "Epoch: 1/2" not in second.stdout and "Epoch: 2/2" in second.stdout
    assert sorted(p.name for p in (root / "checkpoints").iterdir()) == [
        "checkpoint_epoch=1.pt",
        "checkpoint_epoch=2.pt",
    ]


class Tiny:
    """How the tests run a bundle small: demo options, config overrides, and variants of them.

    Args:
        demo: options of the bundle's demo task (``make_demo_dataset``) for a tiny dataset.
        overrides: ``--key value`` overrides that shrink every config of the bundle (image size, channels...).
        deterministic: extra overrides that make ``network_def`` deterministic in eval mode (for export checks).
        wrong_architecture: overrides that change ``network_def``'s architecture (a checkpoint must not fit).
        net_override: ``network_def`` arguments that build the tiny network (for ``monai.bundle.load``).
        input_shape: shape of one ``network_def`` input batch of the tiny network.
        ddp_iterations: iterations per rank of one epoch with 2 processes (half of the tiny training set).
        onnx: whether ``network_def`` exports to ONNX.
        extra_inputs: shapes of ``network_def``'s further forward arguments by name, in their order (e.g.
            ``{"timesteps": [1]}`` for a diffusion model); MONAI's export and verify commands feed one input, so such
            a network is checked through the same functions in Python.
    """

    def __init__(
        self,
        demo: dict,
        overrides: list,
        net_override: dict,
        input_shape: list[int],
        ddp_iterations: int,
        deterministic: list = (),
        wrong_architecture: list = (),
        onnx: bool = True,
        extra_inputs: dict | None = None,
    ):
        self.demo = demo
        self.overrides = [str(o) for o in overrides]
        self.net_override = net_override
        self.input_shape = input_shape
        self.ddp_iterations = ddp_iterations
        self.deterministic = [str(o) for o in deterministic]
        self.wrong_architecture = [str(o) for o in wrong_architecture]
        self.onnx = onnx
        self.extra_inputs = dict(extra_inputs or {})


#: every bundle in bundles/ must be listed here (tests/bundles/test_lifecycle.py checks it)
TINY = {
    "migan_ct": Tiny(
        demo={"size": 32, "num_train": 1, "num_train_mild": 1, "num_val": 1, "num_test": 1, "slice_step": 4},
        overrides=[
            "--image_size",
            32,
            "--base_channels",
            8,
            "--num_res_blocks",
            1,
            "--d_base_channels",
            8,
            "--d_num_layers",
            5,
            "--num_workers",
            0,
            "--max_epochs",
            1,
            "--batch_size",
            4,
            "--n_critic",
            2,
        ],
        net_override={"base_channels": 8, "num_res_blocks": 1},
        input_shape=[1, 1, 32, 32],
        ddp_iterations=2,
        wrong_architecture=["--base_channels", 4],
    ),
    "pix2pix_cxr": Tiny(
        demo={
            "size": 64,
            "num_train": 4,
            "num_val": 2,
            "num_test": 2,
            "num_normal": 4,
            "num_viral": 4,
            "num_covid": 2,
            "num_test_per_class": 2,
        },
        overrides=["--image_size", 64, "--network_def#base_channels", 8, "--num_workers", 0, "--max_epochs", 1],
        net_override={"num_downs": 6, "base_channels": 8},
        input_shape=[1, 1, 64, 64],
        ddp_iterations=2,
        deterministic=["--network_def#dropout_in_eval", "False"],
        wrong_architecture=["--network_def#base_channels", 4],
    ),
    "r2c_gan_cxr": Tiny(
        demo={"size": 64, "num_train_lq": 4, "num_train_hq": 4, "num_val": 2, "num_test": 2},
        overrides=["--image_size", 64, "--base_channels", 4, "--num_workers", 0, "--max_epochs", 1],
        net_override={"base_channels": 4},
        input_shape=[1, 1, 64, 64],
        ddp_iterations=2,
        wrong_architecture=["--base_channels", 8],
    ),
    "diffusionxray_drr": Tiny(
        demo={
            "size": 32,
            "num_train": 4,
            "num_val": 2,
            "num_test": 2,
            "num_train_drr": 2,
            "num_test_drr": 2,
            "num_test_drr_ood": 2,
            "ct_size": 48,
        },
        overrides=[
            "--image_size",
            32,
            "--network_def#channels",
            "[8,16,16]",
            "--network_def#num_head_channels",
            8,
            "--network_def#norm_num_groups",
            8,
            "--num_inference_steps",
            2,
            "--batch_size",
            1,
            "--num_workers",
            0,
            "--max_epochs",
            1,
        ],
        net_override={"channels": [8, 16, 16], "num_head_channels": 8, "norm_num_groups": 8},
        input_shape=[1, 2, 32, 32],
        extra_inputs={"timesteps": [1]},
        ddp_iterations=2,
        wrong_architecture=["--network_def#channels", "[8,16,32]"],
    ),
    "drai_cxr": Tiny(
        demo={"size": 64, "num_train_per_class": 2, "num_val_per_class": 1, "num_test_per_class": 1},
        overrides=[
            "--image_size",
            32,
            "--base_channels",
            4,
            "--content_dim",
            4,
            "--style_dim",
            4,
            "--batch_size",
            3,
            "--num_workers",
            0,
            "--max_epochs",
            1,
        ],
        net_override={"image_size": 32, "base_channels": 4, "content_dim": 4, "style_dim": 4},
        input_shape=[1, 11],
        ddp_iterations=1,
        wrong_architecture=["--base_channels", 2],
    ),
}


def bundle_names() -> list[str]:
    """Every bundle folder of the repository."""
    return sorted(p.name for p in BUNDLES.iterdir() if (p / "configs" / "metadata.json").is_file())
