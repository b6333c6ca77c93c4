"""Report layout, claims over seeds, markdown and the model-card update."""

from __future__ import annotations

import json
import math

import pytest

from monai_xrgan.evaluation import (
    ClaimSpec,
    build_report,
    check_report,
    evaluate_claim,
    make_row,
    update_card,
    write_report,
)
from monai_xrgan.evaluation.report import report_markdown
from monai_xrgan.utils.errors import ConfigError


def _rows(arm: str, values: list[float], metric: str = "f1") -> list[dict]:
    return [make_row(arm, seed, {metric: v}) for seed, v in enumerate(values)]


def test_a_worse_arm_does_not_hold_and_a_better_one_does():
    rows = _rows("method", [0.70, 0.80, 0.75]) + _rows("floor", [0.72, 0.74, 0.76])
    better = evaluate_claim(ClaimSpec("method beats floor", "f1", "method", "floor"), rows)
    assert (
        better["holds"] and better["arm_mean"] == pytest.approx(0.75) and better["baseline_mean"] == pytest.approx(0.74)
    )
    assert better["arm_sd"] == pytest.approx(0.05)
    worse = evaluate_claim(ClaimSpec("floor beats method", "f1", "floor", "method"), rows)
    assert not worse["holds"]


def test_equal_means_do_not_hold_and_margin_is_required():
    rows = _rows("a", [0.5, 0.5]) + _rows("b", [0.5, 0.5])
    assert not evaluate_claim(ClaimSpec("tie", "f1", "a", "b"), rows)["holds"]
    rows = _rows("a", [0.60]) + _rows("b", [0.55])
    assert evaluate_claim(ClaimSpec("gain", "f1", "a", "b", margin=0.01), rows)["holds"]
    assert not evaluate_claim(ClaimSpec("gain", "f1", "a", "b", margin=0.1), rows)["holds"]


def test_lower_is_better_and_thresholds():
    rows = _rows("a", [1.0, 2.0], "fid") + _rows("b", [3.0, 3.0], "fid")
    assert evaluate_claim(ClaimSpec("lower fid", "fid", "a", "b", higher_is_better=False), rows)["holds"]
    assert not evaluate_claim(ClaimSpec("higher fid", "fid", "a", "b"), rows)["holds"]
    ratio = _rows("ddim", [0.7, 0.85], "cnr_ratio")
    claim = evaluate_claim(ClaimSpec("keeps nodules", "cnr_ratio", "ddim", "threshold", threshold=0.8), ratio)
    assert not claim["holds"] and claim["baseline"] == "threshold" and claim["baseline_mean"] == 0.8
    assert evaluate_claim(ClaimSpec("keeps nodules", "cnr_ratio", "ddim", "threshold", threshold=0.75), ratio)["holds"]


def test_a_missing_arm_never_holds():
    claim = evaluate_claim(ClaimSpec("x", "f1", "method", "floor"), _rows("method", [0.9]))
    assert not claim["holds"] and math.isnan(claim["baseline_mean"])


def test_rows_refuse_non_finite_metrics():
    with pytest.raises(ConfigError, match="psnr"):
        make_row("identity", 0, {"psnr": float("inf")})


def test_report_layout_json_and_markdown(tmp_path):
    rows = _rows("method", [0.8, 0.9]) + _rows("floor", [0.5, 0.6])
    rows[0]["details"] = {"confusion": [[1, 0], [0, 1]]}
    claims = [ClaimSpec("method beats floor", "f1", "method", "floor"), ClaimSpec("floor beats x", "f1", "floor", "x")]
    report = build_report("demo_bundle", [0, 1], rows, claims, command="reproduce demo_bundle", machine="2 CPU cores")
    json_path, md_path = write_report(report, tmp_path, figures=[tmp_path / "claims.png"])
    loaded = json.loads(json_path.read_text())
    assert set(loaded) >= {"bundle", "seeds", "rows", "claims"}
    assert loaded["claims"][1]["baseline_mean"] is None  # no NaN in the JSON
    check_report(loaded)
    assert [c["holds"] for c in loaded["claims"]] == [True, False]
    text = md_path.read_text()
    assert "| method | 0.850 ± 0.071 |" in text and "| floor | 0.550 ± 0.071 |" in text
    assert "1 of 2 claims hold." in text and "`claims.png`" in text and "2 CPU cores" in text


def test_check_report_names_the_bad_field():
    report = build_report("b", [0], _rows("a", [1.0]), [ClaimSpec("c", "f1", "a", "a")])
    report["claims"][0]["holds"] = "yes"
    with pytest.raises(ConfigError, match=r"claims\[0\] `holds`"):
        check_report(report)
    with pytest.raises(ConfigError, match="seed"):
        check_report({"bundle": "b", "seeds": [0], "rows": [{"arm": "a", "metrics": {}}], "claims": []})


def test_update_card_replaces_only_the_marked_part(tmp_path):
    card = tmp_path / "README.md"
    card.write_text(
        "# Card\n\n## Results\n<!-- reproduce:begin -->\nstale numbers\n<!-- reproduce:end -->\n\n## Next\nkept\n"
    )
    report = build_report("b", [0], _rows("a", [1.0]), [])
    update_card(card, report_markdown(report))
    text = card.read_text()
    assert "stale numbers" not in text and "| a | 1.000 ± 0.000 |" in text and text.endswith("## Next\nkept\n")
    card.write_text("# Card without markers\n")
    with pytest.raises(ConfigError, match="reproduce:begin"):
        update_card(card, "x")
