"""Run the bundles' configs through ``python -m monai.bundle run`` as a user would."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Sequence
from pathlib import Path

import pytest

from monai_xrgan.bundle import bundle_command

BUNDLES = Path(__file__).resolve().parents[2] / "bundles"


def run_bundle(bundle: str, configs: Sequence[str], overrides: Sequence[object], check: bool = True, timeout: float = 600):
    """Run configs of ``bundles/<bundle>`` in a subprocess; return the CompletedProcess (stdout+stderr merged)."""
    command = bundle_command(BUNDLES / bundle, configs, [str(o) for o in overrides])
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "OMP_NUM_THREADS": "2"}
    result = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env, timeout=timeout)
    if check and result.returncode != 0:
        pytest.fail(f"{' '.join(command)} failed with {result.returncode}:\n{result.stdout[-6000:]}")
    return result


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
    ):
        self.demo = demo
        self.overrides = [str(o) for o in overrides]
        self.net_override = net_override
        self.input_shape = input_shape
        self.ddp_iterations = ddp_iterations
        self.deterministic = [str(o) for o in deterministic]
        self.wrong_architecture = [str(o) for o in wrong_architecture]
        self.onnx = onnx


#: every bundle in bundles/ must be listed here (tests/bundles/test_lifecycle.py checks it)
TINY = {
    "pix2pix_cxr": Tiny(
        demo={"size": 64, "num_train": 4, "num_val": 2, "num_test": 2, "num_normal": 4, "num_viral": 4, "num_covid": 2,
              "num_test_per_class": 2},
        overrides=["--image_size", 64, "--network_def#base_channels", 8, "--num_workers", 0, "--max_epochs", 1],
        net_override={"num_downs": 6, "base_channels": 8},
        input_shape=[1, 1, 64, 64],
        ddp_iterations=2,
        deterministic=["--network_def#dropout_in_eval", "False"],
        wrong_architecture=["--network_def#base_channels", 4],
    ),
}


def bundle_names() -> list[str]:
    """Every bundle folder of the repository."""
    return sorted(p.name for p in BUNDLES.iterdir() if (p / "configs" / "metadata.json").is_file())
