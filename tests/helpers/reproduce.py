"""Run ``python -m monai_xrgan.bundle reproduce`` on a copy of a bundle, as a user would."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Sequence
from pathlib import Path

from monai_xrgan.demo.datasets import make_demo_dataset
from monai_xrgan.utils.launch import run_module

from helpers.bundles import BUNDLES

#: what earlier runs of a bundle leave in its folder; a copy for a test starts without them
OUTPUTS = shutil.ignore_patterns("eval", "data", "models", "checkpoints", "runs")


def run_reproduce(name: str, tmp_path: Path, overrides: Sequence[object], demo: tuple[str, dict] | None = None,
                  threads: int = 2, timeout: float = 600) -> tuple[Path, dict]:  # fmt: skip
    """Copy ``bundles/<name>`` into ``tmp_path``, run ``reproduce`` with seed 0 and ``overrides``; return the copy and
    its ``report.json``.

    Args:
        name: bundle folder name.
        tmp_path: where the copy goes.
        overrides: ``--key value`` overrides for every step.
        demo: ``(task, options)`` of a small shared demo dataset written first (otherwise ``reproduce`` writes the
            full demo).
        threads: ``OMP_NUM_THREADS`` of the run (tiny networks spin-wait for a second thread on a busy machine).
        timeout: seconds.
    """
    bundle = Path(shutil.copytree(BUNDLES / name, tmp_path / name, ignore=OUTPUTS))
    if demo is not None:
        make_demo_dataset(demo[0], bundle / "eval" / "report" / "data", **demo[1])
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "OMP_NUM_THREADS": str(threads)}
    result = run_module("monai_xrgan.bundle", ["reproduce", bundle, "--seeds", 0, *overrides], env=env, timeout=timeout)
    assert result.returncode == 0, result.stdout[-6000:]
    return bundle, json.loads((bundle / "eval" / "report" / "report.json").read_text(encoding="utf-8"))
