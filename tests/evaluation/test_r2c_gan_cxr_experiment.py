"""``reproduce r2c_gan_cxr`` end to end on tiny settings: the three arms, every claim, the figures."""

from __future__ import annotations

import pytest

from monai_xrgan.evaluation.experiments.r2c_gan_cxr import ARMS, EXPERIMENT, IMAGE_METRICS, PSNR_CAP

from helpers.bundles import TINY
from helpers.reproduce import run_reproduce

#: smaller than the experiment's defaults: a 4-channel generator, one epoch, one classifier epoch (tiny demo data;
#: 8 test images so that every degradation is scored)
TINY_REPRODUCE = ["--base_channels", "4", "--max_epochs", "1", "--classifier_epochs", "1"]


@pytest.mark.slow
def test_reproduce_writes_every_arm_and_claim(tmp_path):
    demo = ("r2c_gan", {**TINY["r2c_gan_cxr"].demo, "num_test": 8})
    bundle, report = run_reproduce("r2c_gan_cxr", tmp_path, TINY_REPRODUCE, demo=demo)
    report_dir = bundle / "eval" / "report"
    rows = {row["arm"]: row for row in report["rows"]}
    assert set(rows) == set(ARMS) and report["seeds"] == [0]
    assert set(rows["r2c_gan"]["metrics"]) == {*IMAGE_METRICS, "accuracy", "covid_f1", "clean_psnr"}
    assert set(rows["no_restoration"]["metrics"]) == set(rows["r2c_gan"]["metrics"])
    assert set(rows["restored+resnet18"]["metrics"]) == {"accuracy", "covid_f1"}
    assert rows["no_restoration"]["metrics"]["clean_psnr"] == PSNR_CAP  # the unchanged input, capped
    assert [c["claim"] for c in report["claims"]] == [c.claim for c in EXPERIMENT.claims]
    assert {c["metric"] for c in report["claims"]} == {*IMAGE_METRICS, "accuracy", "covid_f1", "clean_psnr"}
    for arm in ARMS:
        assert len(rows[arm]["details"]["confusion"]) == 2
    for png in ("training_curves.png", "samples_degraded_restored_clean.png", "confusion_matrices.png", "claims.png"):
        assert (report_dir / png).is_file(), png
