"""Helpers to run the bundles' configs through ``python -m monai.bundle run`` as a user would."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import pytest

from monai_xrgan.bundle import bundle_command
from monai_xrgan.data.demo import make_demo_dataset

BUNDLES = Path(__file__).resolve().parents[2] / "bundles"


def run_bundle(bundle: str, configs: Sequence[str], overrides: Sequence[str], check: bool = True, timeout: float = 600):
    """Run configs of ``bundles/<bundle>`` in a subprocess; return the CompletedProcess (stdout+stderr merged)."""
    command = bundle_command(BUNDLES / bundle, configs, [str(o) for o in overrides])
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "OMP_NUM_THREADS": "2"}
    result = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env, timeout=timeout)
    if check and result.returncode != 0:
        pytest.fail(f"{' '.join(command)} failed with {result.returncode}:\n{result.stdout[-6000:]}")
    return result


@pytest.fixture(scope="session")
def pix2pix_demo(tmp_path_factory) -> Path:
    """A tiny pix2pix demo dataset (64 px) shared by the end-to-end tests."""
    root = tmp_path_factory.mktemp("pix2pix_demo")
    make_demo_dataset("pix2pix", root, size=64, num_train=4, num_val=2, num_test=2, num_normal=4, num_viral=4, num_covid=2,
                      num_test_per_class=2)
    return root


@pytest.fixture(scope="session")
def python() -> str:
    return sys.executable
