"""``reproduce migan_ct`` end to end on tiny settings: every arm and claim, the identity floor, the figures."""

from __future__ import annotations

import pytest

from monai_xrgan.evaluation.experiments.migan_ct import EXPERIMENT, GENERATOR_ARMS

from helpers.bundles import TINY
from helpers.reproduce import run_reproduce

#: the tests' tiny networks and one epoch of everything (GAN and classifiers)
TINY_REPRODUCE = [*TINY["migan_ct"].overrides, "--classifier_epochs", "1", "--classifier_widen_factor", "0.25"]


@pytest.mark.slow
def test_reproduce_writes_every_arm_and_claim(tmp_path):
    # a tiny shared demo dataset (one patient per split and domain); tiny networks: one thread is enough
    bundle, report = run_reproduce(
        "migan_ct", tmp_path, TINY_REPRODUCE, demo=("migan", TINY["migan_ct"].demo), threads=1
    )
    report_dir = bundle / "eval" / "report"
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
