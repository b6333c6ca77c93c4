"""``reproduce pix2pix_cxr`` end to end on tiny settings: every arm and claim, equal classifier steps, the figures."""

from __future__ import annotations

import pytest

from monai_xrgan.evaluation.experiments.pix2pix_cxr import (
    CLASSIFIER_ARMS,
    EXPERIMENT,
    IMAGE_METRICS,
    LESION_METRICS,
    TRANSLATION_ARMS,
)

from helpers.bundles import TINY
from helpers.reproduce import run_reproduce

#: the bundle's tiny overrides (64², an 8-channel generator, one epoch) and one classifier epoch, on its tiny demo data
TINY_REPRODUCE = [*TINY["pix2pix_cxr"].overrides, "--classifier_epochs", "1"]
CLASSIFIER_METRICS = {"accuracy", "macro_f1", "covid_f1", "covid_sensitivity", "covid_specificity"}


@pytest.mark.slow
def test_reproduce_writes_every_arm_and_claim(tmp_path):
    bundle, report = run_reproduce("pix2pix_cxr", tmp_path, TINY_REPRODUCE, demo=("pix2pix", TINY["pix2pix_cxr"].demo))
    report_dir = bundle / "eval" / "report"
    rows = {row["arm"]: row for row in report["rows"]}
    assert list(rows) == [*TRANSLATION_ARMS, *CLASSIFIER_ARMS] and report["seeds"] == [0]
    assert set(rows["pix2pix"]["metrics"]) == set(rows["identity"]["metrics"]) == {*IMAGE_METRICS, *LESION_METRICS}
    assert rows["identity"]["metrics"]["lesion_contrast"] == 0.0  # the documented floor of an unchanged image
    assert rows["target"]["metrics"]["lesion_contrast"] > 0.8
    for arm in CLASSIFIER_ARMS:
        assert set(rows[arm]["metrics"]) == CLASSIFIER_METRICS
        assert len(rows[arm]["details"]["confusion"]) == 3
    assert len({rows[arm]["details"]["steps"] for arm in CLASSIFIER_ARMS}) == 1  # the same number of steps
    counts = {arm: rows[arm]["details"]["train_counts"]["covid"] for arm in CLASSIFIER_ARMS}
    assert counts["real"] < counts["real+synthetic"] == counts["real+oversampled"] == counts["real+mislabelled_normals"]
    assert [c["claim"] for c in report["claims"]] == [c.claim for c in EXPERIMENT.claims]
    assert {c["metric"] for c in report["claims"]} == {"covid_f1", "macro_f1", "lesion_contrast"}
    for png in ("training_curves.png", "samples_translation.png", "samples_training_sets.png", "confusion.png",
                "claims.png"):  # fmt: skip
        assert (report_dir / png).is_file(), png
