"""``reproduce diffusionxray_drr`` end to end on tiny settings: the sampler arms and their floor, stage 1 (both
generators, the distances of their LQ partners and the floors / control of those) and stage 2 trained on each pair
set, every claim, the figures; and the experiment's metric helpers."""

from __future__ import annotations

import json

import pytest
import torch
from monai.bundle import ConfigParser
from monai.metrics import MultiScaleSSIMMetric, PSNRMetric, SSIMMetric

from monai_xrgan.evaluation.experiments.diffusionxray_drr import EXPERIMENT, FLOOR, SAMPLERS, STAGE_ONE, _cnr_ratio
from monai_xrgan.transforms import XRayPreprocessd
from monai_xrgan.utils.errors import ConfigError

from helpers.bundles import BUNDLES, TINY
from helpers.reproduce import run_reproduce

BUNDLE = "diffusionxray_drr"
METRICS = {
    "psnr",
    "ssim",
    "ms_ssim",
    "nodule_cnr",
    "nodule_cnr_ratio",
    "nodules_found",
    "ood_nodule_cnr",
    "ood_nodule_cnr_ratio",
    "ood_nodules_found",
    "seconds_per_image",
}
DISTANCES = {f"{kind}_{reference}" for kind in ("fd", "hist", "psd") for reference in ("lq", "drr")}
STAGE_ONE_SETS = {"stage1_rendered_lq", "stage1_real_drr", "stage1_hq", *(f"stage1_{g}_lq" for g in STAGE_ONE)}
RESTORED_ON_STAGE_ONE = {f"ddim50_on_{g}_lq" for g in STAGE_ONE}


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
    # the shared data, tiny (2 test pairs, 2 DRRs; 4 real DRRs: half train the feature network, half are scored); one
    # thread: the tiny network's many small ops spin-wait otherwise
    demo = {**TINY[BUNDLE].demo, "num_train_drr": 4}
    overrides = [*TINY[BUNDLE].overrides, "--munit_dim", 4, "--munit_style_dim", 2]
    bundle, report = run_reproduce(BUNDLE, tmp_path, overrides, demo=("diffusionxray", demo), threads=1)
    report_dir = bundle / "eval" / "report"
    data = report_dir / "data"
    rows = {row["arm"]: row for row in report["rows"]}
    assert set(rows) == {*SAMPLERS, FLOOR, *STAGE_ONE_SETS, *RESTORED_ON_STAGE_ONE} and report["seeds"] == [0]
    assert set(rows["ddim50"]["metrics"]) == {*METRICS, "ddim_speedup"}
    assert all(set(rows[arm]["metrics"]) == METRICS for arm in ("ddpm1000", FLOOR, *RESTORED_ON_STAGE_ONE))
    assert all(set(rows[arm]["metrics"]) == DISTANCES for arm in STAGE_ONE_SETS)
    assert [c["claim"] for c in report["claims"]] == [c.claim for c in EXPERIMENT.claims]
    stage_one_claims = [(arm, metric, base) for g in STAGE_ONE for arm, metric, base in (
        (f"stage1_{g}_lq", "fd_drr", "stage1_hq"), (f"stage1_{g}_lq", "psd_drr", "stage1_hq"),
        (f"ddim50_on_{g}_lq", "psnr", FLOOR))]  # fmt: skip
    assert [(c["arm"], c["metric"], c["baseline"]) for c in report["claims"]] == [
        ("ddim50", "psnr", FLOOR), ("ddim50", "ssim", FLOOR), ("ddpm1000", "psnr", FLOOR), ("ddpm1000", "ssim", FLOOR),
        ("ddim50", "ddim_speedup", "threshold"), ("ddim50", "psnr", "ddpm1000"),
        ("ddim50", "nodule_cnr_ratio", "threshold"), ("ddim50", "nodules_found", "threshold"),
        ("ddpm1000", "nodule_cnr_ratio", "threshold"), ("ddpm1000", "nodules_found", "threshold"),
        *stage_one_claims]  # fmt: skip
    for arm in SAMPLERS:  # each sampler really ran its number of steps: DDPM-1000 takes far longer per image
        assert len(rows[arm]["details"]["nodule_cnr_input"]) == len(rows[arm]["details"]["nodule_cnr_restored"]) == 2
    assert rows["ddpm1000"]["metrics"]["seconds_per_image"] > 5 * rows["ddim50"]["metrics"]["seconds_per_image"]
    assert rows[FLOOR]["metrics"]["nodule_cnr_ratio"] == rows[FLOOR]["metrics"]["nodules_found"] == 1.0
    assert rows["ddim50"]["metrics"]["ddim_speedup"] == pytest.approx(
        rows["ddpm1000"]["metrics"]["seconds_per_image"] / rows["ddim50"]["metrics"]["seconds_per_image"]
    )
    # the floors of the distances: held-out images of a domain are closer to other images of it than HQ images are
    assert rows["stage1_rendered_lq"]["metrics"]["psd_lq"] < rows["stage1_hq"]["metrics"]["psd_lq"]
    assert rows["stage1_real_drr"]["metrics"]["hist_drr"] < rows["stage1_hq"]["metrics"]["hist_drr"]
    for generator in STAGE_ONE:  # stage 1 wrote this seed's pairs; stage 2 on them was scored on the rendered pairs
        pairs = json.loads((data / f"datalist_lq_{generator}_seed0.json").read_text())
        assert pairs["lq_source"] == f"lq_{generator}_seed0" and (data / pairs["training"][0]["lq"]).is_file()
        assert rows[f"ddim50_on_{generator}_lq"]["metrics"]["psnr"] != rows["ddim50"]["metrics"]["psnr"]
        assert rows[f"ddim50_on_{generator}_lq"]["metrics"]["seconds_per_image"] > 0
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
                "samples_drr_ood_restored.png", "samples_stage1_lq.png", "nodule_cnr_scatter.png",
                "claims.png"):  # fmt: skip
        assert (report_dir / png).is_file(), png
