"""``reproduce migan_ct`` end to end on tiny settings: every arm and claim, the identity floor, the figures."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest

from monai_xrgan.data.demo import make_demo_dataset
from monai_xrgan.evaluation.experiments.migan_ct import EXPERIMENT, GENERATOR_ARMS

from helpers.bundles import BUNDLES, TINY

#: the tests' tiny networks and one epoch of everything (GAN and classifiers)
TINY_REPRODUCE = [*TINY["migan_ct"].overrides, "--classifier_epochs", "1", "--classifier_widen_factor", "0.25"]


@pytest.mark.slow
def test_reproduce_writes_every_arm_and_claim(tmp_path):
    outputs = shutil.ignore_patterns("eval", "models", "checkpoints", "runs", "data")  # of earlier runs in the repo
    bundle = shutil.copytree(BUNDLES / "migan_ct", tmp_path / "migan_ct", ignore=outputs)
    # the runner generates the demo data only when there is none: a tiny one (one patient per split and domain)
    make_demo_dataset("migan", bundle / "eval" / "report" / "data", **TINY["migan_ct"].demo)
    command = [sys.executable, "-m", "monai_xrgan.bundle", "reproduce", str(bundle), "--seeds", "0", *TINY_REPRODUCE]
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "OMP_NUM_THREADS": "1"}  # tiny networks: one thread is enough
    result = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env, timeout=600)
    assert result.returncode == 0, result.stdout[-6000:]
    report_dir = bundle / "eval" / "report"
    report = json.loads((report_dir / "report.json").read_text())
    rows = {row["arm"]: row for row in report["rows"]}
    generators = [arm for arm, _, _ in GENERATOR_ARMS]
    assert list(rows) == [*generators, "real", *(f"real+{arm}" for arm in generators)] and report["seeds"] == [0]
    assert [c["claim"] for c in report["claims"]] == [c.claim for c in EXPERIMENT.claims]
    assert {(c["arm"], c["baseline"], c["metric"]) for c in report["claims"]} == {
        *((("migan", base, metric) for base in ("identity", "stargan") for metric in ("gan_train", "gan_test"))),
        ("real+migan", "real", "key_sensitivity"),
        ("real+migan", "real", "key_auc"),
    }
    assert rows["identity"]["metrics"]["gan_test"] == pytest.approx(1 / 3)  # the floor: chance, exactly
    assert set(rows["real"]["metrics"]) >= {"gan_train", "gan_test", "key_sensitivity", "key_auc"}
    for arm in generators:
        assert len(rows[arm]["details"]["gan_test_confusion"]) == 3
        assert {"key_sensitivity", "key_specificity", "accuracy"} <= set(rows[f"real+{arm}"]["metrics"])
    names = ["training_curves", *(f"samples_{arm}" for arm in generators), "confusion_gan_train", "confusion_gan_test",
             "confusion_augmentation", "claims"]  # fmt: skip
    for name in names:
        assert (report_dir / f"{name}.png").is_file(), name
