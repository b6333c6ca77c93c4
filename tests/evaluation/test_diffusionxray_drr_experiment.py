"""``reproduce diffusionxray_drr`` end to end on tiny settings: the three arms, every claim, the figures; and the
experiment's metric helpers."""

from __future__ import annotations

import json

import pytest
import torch
from monai.bundle import ConfigParser
from monai.metrics import MultiScaleSSIMMetric, PSNRMetric, SSIMMetric

from monai_xrgan.evaluation.experiments.diffusionxray_drr import EXPERIMENT, FLOOR, SAMPLERS, _cnr_ratio
from monai_xrgan.transforms import XRayPreprocessd
from monai_xrgan.utils.errors import ConfigError

from helpers.bundles import BUNDLES, TINY
from helpers.reproduce import run_reproduce

BUNDLE = "diffusionxray_drr"
METRICS = {"psnr", "ssim", "ms_ssim", "nodule_cnr", "nodule_cnr_ratio", "nodules_found", "ood_nodule_cnr",
           "ood_nodule_cnr_ratio", "ood_nodules_found", "seconds_per_image"}


@pytest.mark.parametrize("size, scales", [(32, 2), (64, 3), (96, 3), (128, 4), (176, 5)])
def test_ms_ssim_uses_as_many_standard_weights_as_fit_renormalised(size, scales):
    parser = ConfigParser()
    parser.read_config([BUNDLES / BUNDLE / "configs" / f for f in ("train.json", "evaluate.json")])
    parser["image_size"] = size
    weights = parser.get_parsed_content("ms_ssim_weights")
    assert len(weights) == scales and sum(weights) == pytest.approx(1.0)  # not a product of powers summing to < 1
    assert weights[1] / weights[0] == pytest.approx(0.2856 / 0.0448)
    image = torch.rand(1, 1, size, size)  # MONAI accepts that many scales at this size
    assert MultiScaleSSIMMetric(2, data_range=1.0, weights=weights)(image, image).item() == pytest.approx(1.0)


def test_cnr_ratio_needs_nodules_that_stand_out_in_the_input():
    assert _cnr_ratio(0.5, 2.0) == 0.25
    with pytest.raises(ConfigError, match="nodule_cnr_ratio"):
        _cnr_ratio(0.5, -0.1)


@pytest.mark.slow
def test_reproduce_writes_every_arm_and_claim(tmp_path):
    # the shared data, tiny (2 test pairs, 2 DRRs); one thread: the tiny network's many small ops spin-wait otherwise
    bundle, report = run_reproduce(BUNDLE, tmp_path, TINY[BUNDLE].overrides, demo=("diffusionxray", TINY[BUNDLE].demo),
                                   threads=1)  # fmt: skip
    report_dir = bundle / "eval" / "report"
    data = report_dir / "data"
    rows = {row["arm"]: row for row in report["rows"]}
    assert set(rows) == {*SAMPLERS, FLOOR} and report["seeds"] == [0]
    assert set(rows["ddim50"]["metrics"]) == {*METRICS, "ddim_speedup"}
    assert all(set(rows[arm]["metrics"]) == METRICS for arm in ("ddpm1000", FLOOR))
    assert [c["claim"] for c in report["claims"]] == [c.claim for c in EXPERIMENT.claims]
    assert [(c["arm"], c["metric"], c["baseline"]) for c in report["claims"]] == [
        ("ddim50", "psnr", FLOOR), ("ddim50", "ssim", FLOOR), ("ddpm1000", "psnr", FLOOR), ("ddpm1000", "ssim", FLOOR),
        ("ddim50", "ddim_speedup", "threshold"), ("ddim50", "psnr", "ddpm1000"),
        ("ddim50", "nodule_cnr_ratio", "threshold"), ("ddim50", "nodules_found", "threshold"),
        ("ddpm1000", "nodule_cnr_ratio", "threshold"), ("ddpm1000", "nodules_found", "threshold")]  # fmt: skip
    for arm in SAMPLERS:  # each sampler really ran its number of steps: DDPM-1000 takes far longer per image
        assert len(rows[arm]["details"]["nodule_cnr_input"]) == len(rows[arm]["details"]["nodule_cnr_restored"]) == 2
    assert rows["ddpm1000"]["metrics"]["seconds_per_image"] > 5 * rows["ddim50"]["metrics"]["seconds_per_image"]
    assert rows[FLOOR]["metrics"]["nodule_cnr_ratio"] == rows[FLOOR]["metrics"]["nodules_found"] == 1.0
    assert rows["ddim50"]["metrics"]["ddim_speedup"] == pytest.approx(
        rows["ddpm1000"]["metrics"]["seconds_per_image"] / rows["ddim50"]["metrics"]["seconds_per_image"])
    # one epoch of a residual model leaves the input nearly as it is: its nodules are all still found
    assert rows["ddim50"]["metrics"]["nodules_found"] == 1.0

    # the floor is the LQ input scored as is: the same PSNR/SSIM computed here from the test pairs
    items = json.loads((data / "datalist.json").read_text())["test"]
    load = XRayPreprocessd(keys=["lq", "hq"], spatial_size=32)
    pairs = [load({k: str(data / item[k]) for k in ("lq", "hq")}) for item in items]
    lq, hq = ((torch.stack([p[k] for p in pairs]) + 1) / 2 for k in ("lq", "hq"))
    assert rows[FLOOR]["metrics"]["psnr"] == pytest.approx(PSNRMetric(1.0)(lq, hq).mean().item(), rel=1e-4)
    assert rows[FLOOR]["metrics"]["ssim"] == pytest.approx(SSIMMetric(2, 1.0)(lq, hq).mean().item(), rel=1e-4)
    for png in ("training_curves.png", "samples_lq_restored_hq.png", "samples_drr_restored.png",
                "samples_drr_ood_restored.png", "nodule_cnr_scatter.png", "claims.png"):  # fmt: skip
        assert (report_dir / png).is_file(), png
