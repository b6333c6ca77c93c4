"""The drai_cxr experiment end to end: ``reproduce`` on a copy of the bundle with one seed on tiny settings."""

from __future__ import annotations

import pytest

from monai_xrgan.evaluation.experiments.drai_cxr import ARMS, EXPERIMENT, METRICS

from helpers.reproduce import run_reproduce

pytestmark = pytest.mark.slow
TINY = ["--base_channels", 4, "--content_dim", 4, "--style_dim", 4, "--max_epochs", 1, "--classifier_epochs", 1]


def test_reproduce_writes_every_arm_and_claim(tmp_path):
    # the shared demo data of the seeds, made small here (reproduce generates the full demo only when there is none)
    demo = {"size": 64, "num_train_per_class": 4, "num_val_per_class": 1, "num_test_per_class": 2}
    bundle, report = run_reproduce("drai_cxr", tmp_path, TINY, demo=("drai", demo))
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
