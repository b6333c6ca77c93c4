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
