"""The drai_cxr experiment end to end: ``reproduce`` on a copy of the bundle with one seed on tiny settings."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest

from monai_xrgan.data.demo import make_demo_dataset
from monai_xrgan.evaluation.experiments.drai_cxr import ARMS, EXPERIMENT, METRICS

from helpers.bundles import BUNDLES

pytestmark = pytest.mark.slow
TINY = ["--base_channels", 4, "--content_dim", 4, "--style_dim", 4, "--max_epochs", 1, "--classifier_epochs", 1]


def test_reproduce_writes_every_arm_and_claim(tmp_path):
    bundle = shutil.copytree(BUNDLES / "drai_cxr", tmp_path / "drai_cxr", ignore=shutil.ignore_patterns("eval", "data"))
    # the shared demo data of the seeds, made small here (reproduce generates the full demo only when there is none)
    make_demo_dataset("drai", bundle / "eval" / "report" / "data", size=64, num_train_per_class=4, num_val_per_class=1,
                      num_test_per_class=2)  # fmt: skip
    command = [sys.executable, "-m", "monai_xrgan.bundle", "reproduce", str(bundle), "--seeds", "0", *map(str, TINY)]
    result = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=600,
                            env={**os.environ, "OMP_NUM_THREADS": "2"})  # fmt: skip
    assert result.returncode == 0, result.stdout[-4000:]
    report = json.loads((bundle / "eval" / "report" / "report.json").read_text())
    assert {r["arm"] for r in report["rows"]} == {*ARMS, "real"}
    assert all(set(r["metrics"]) == set(METRICS) for r in report["rows"] if r["arm"] in ARMS)
    assert [(c["metric"], c["arm"], c["baseline"]) for c in report["claims"]] == [
        ("disentanglement", "two_latents", "one_latent"),
        ("disentanglement", "two_latents", "untrained"),
        ("condition_accuracy", "two_latents", "one_latent"),
        ("condition_accuracy", "two_latents", "untrained"),
    ]
    assert [c["claim"] for c in report["claims"]] == [c.claim for c in EXPERIMENT.claims]
    # one classifier of real images per seed: trained by the first arm's evaluation, loaded by the others
    logs = bundle / "eval" / "report" / "seed_0" / "logs"
    assert "Training resnet18" in (logs / "evaluate_two_latents.log").read_text()
    assert all(
        "Training resnet18" not in (logs / f"evaluate_{arm}.log").read_text() for arm in ("one_latent", "untrained")
    )
    figures = {"training_curves.png", "condition_confusion.png", "claims.png", *(f"samples_{arm}.png" for arm in ARMS)}
    assert figures <= {p.name for p in (bundle / "eval" / "report").glob("*.png")}
