"""The trainer benchmarks run end to end at toy sizes: they build the package's trainers outside the test suite's
helpers, so a change of a trainer's signature breaks them where no other test looks."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"
TOY_RUNS = {
    "drai_step.py": ["--size", "64", "--batch", "2", "--iters", "1", "--warmup", "0"],
    "migan_key_branch_toy.py": ["--seeds", "0", "--iters", "10"],
    "migan_step.py": ["--size", "64", "--batch", "1", "--n_critic", "1", "--iters", "1", "--warmup", "0"],
    "pix2pix_step.py": ["--size", "64", "--batch", "1", "--iters", "1", "--warmup", "0"],
    "r2c_gan_step.py": ["--size", "32", "--batch", "1", "--iters", "1", "--warmup", "0"],
    "r2c_gan_paired_vs_unpaired.py": [
        "--size", "64", "--num_train", "4", "--num_pairs", "4", "--mode", "unpaired", "--iters", "2", "--every", "2",
        "--base_channels", "4",
    ],
}  # fmt: skip


@pytest.mark.slow
@pytest.mark.parametrize("script", sorted(TOY_RUNS))
def test_trainer_benchmark_runs_at_a_toy_size(script, tmp_path):
    extra = ["--data", str(tmp_path / "data")] if script == "r2c_gan_paired_vs_unpaired.py" else []
    result = subprocess.run(
        [sys.executable, str(BENCHMARKS / script), *TOY_RUNS[script], *extra],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=tmp_path,
    )
    assert result.returncode == 0, f"{script} failed:\n{result.stderr[-3000:]}"
    assert result.stdout.strip(), f"{script} printed nothing"
