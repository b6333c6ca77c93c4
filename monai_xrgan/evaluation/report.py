"""The experiment report of a bundle: rows (arm, seed, metrics), claims over seeds, ``report.json`` and
``report.md``."""

from __future__ import annotations

import json
import math
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from monai_xrgan.utils.errors import ConfigError

__all__ = ["ClaimSpec", "make_row", "metric_values", "summarise", "evaluate_claim", "build_report", "check_report",
           "report_markdown", "write_report"]  # fmt: skip

#: the name written as a claim's baseline when it compares with a fixed number instead of an arm
THRESHOLD = "threshold"


@dataclass(frozen=True)
class ClaimSpec:
    """A claim of a paper: ``arm`` beats ``baseline`` on ``metric``, mean over seeds.

    Args:
        claim: the claim in words, e.g. ``"synthetic images raise COVID-19 F1 over real-only training"``.
        metric: name of the metric in the rows.
        arm: the arm that should win.
        baseline: the floor or control arm it is compared with (``"threshold"`` when ``threshold`` is set).
        higher_is_better: direction of the metric.
        margin: how much the arm's mean must beat the baseline's mean by (in the metric's units).
        threshold: compare the arm's mean with this fixed number instead of a baseline arm.
    """

    claim: str
    metric: str
    arm: str
    baseline: str
    higher_is_better: bool = True
    margin: float = 0.0
    threshold: float | None = None


def make_row(arm: str, seed: int, metrics: Mapping[str, float], details: Mapping[str, Any] | None = None) -> dict:
    """One row of a report: the metrics of ``arm`` for ``seed`` (finite floats), plus optional JSON ``details``.

    Raises:
        ConfigError: a metric is not finite (a metric that can be infinite needs a documented cap).
    """
    values = {str(k): float(v) for k, v in metrics.items()}
    bad = sorted(k for k, v in values.items() if not math.isfinite(v))
    if bad:
        raise ConfigError(f"report: metrics {bad} of arm {arm!r} (seed {seed}) are not finite; cap or drop them.")
    row: dict[str, Any] = {"arm": str(arm), "seed": int(seed), "metrics": values}
    if details:
        row["details"] = dict(details)
    return row


def metric_values(rows: Sequence[Mapping], arm: str, metric: str) -> list[float]:
    """The finite values of ``metric`` for ``arm`` over the rows (one per seed)."""
    values = [r["metrics"].get(metric) for r in rows if r["arm"] == arm]
    return [float(v) for v in values if v is not None and math.isfinite(v)]


def summarise(values: Sequence[float]) -> tuple[float, float]:
    """Mean and sample standard deviation (0 for a single value; NaN mean for no value)."""
    if not values:
        return math.nan, math.nan
    return statistics.fmean(values), statistics.stdev(values) if len(values) > 1 else 0.0


def evaluate_claim(spec: ClaimSpec, rows: Sequence[Mapping]) -> dict:
    """The report entry of ``spec``: means and sds of arm and baseline over seeds, and whether the claim holds.

    A claim holds when the arm's mean beats the baseline's mean by more than ``margin`` in the metric's direction, or
    reaches ``threshold`` (+ ``margin``) when one is set; it never holds when either side has no value.
    """
    arm_mean, arm_sd = summarise(metric_values(rows, spec.arm, spec.metric))
    if spec.threshold is not None:
        base_mean, base_sd = float(spec.threshold), 0.0
    else:
        base_mean, base_sd = summarise(metric_values(rows, spec.baseline, spec.metric))
    gain = arm_mean - base_mean if spec.higher_is_better else base_mean - arm_mean
    # an arm must beat another arm, while a fixed threshold is a bound that may be met exactly ("ratio >= 0.8")
    holds = math.isfinite(gain) and (gain >= spec.margin if spec.threshold is not None else gain > spec.margin)
    entry = {
        "claim": spec.claim, "metric": spec.metric, "arm": spec.arm,
        "baseline": THRESHOLD if spec.threshold is not None else spec.baseline,
        "higher_is_better": spec.higher_is_better,
        "arm_mean": arm_mean, "arm_sd": arm_sd, "baseline_mean": base_mean, "baseline_sd": base_sd,
        "holds": bool(holds),
    }  # fmt: skip
    if spec.margin:
        entry["margin"] = spec.margin
    return entry


def build_report(bundle: str, seeds: Sequence[int], rows: Sequence[Mapping], claims: Sequence[ClaimSpec],
                 **extra: Any) -> dict:  # fmt: skip
    """The ``report.json`` content; ``extra`` keys (command, machine, notes...) are added at the top level."""
    report = {
        "bundle": bundle,
        "seeds": [int(s) for s in seeds],
        "rows": [dict(r) for r in rows],
        "claims": [evaluate_claim(c, rows) for c in claims],
        **extra,
    }
    check_report(report)
    return report


_CLAIM_FIELDS = {"claim": str, "metric": str, "arm": str, "baseline": str, "higher_is_better": bool,
                 "arm_mean": float, "arm_sd": float, "baseline_mean": float, "baseline_sd": float,
                 "holds": bool}  # fmt: skip
_STATS = ("arm_mean", "arm_sd", "baseline_mean", "baseline_sd")


def check_report(report: Mapping) -> None:
    """Check the layout of a report (the names tools read); raise ``ConfigError`` naming the first bad field."""
    for key, kind in (("bundle", str), ("seeds", list), ("rows", list), ("claims", list)):
        if not isinstance(report.get(key), kind):
            raise ConfigError(f"report: `{key}` must be a {kind.__name__}, got {type(report.get(key)).__name__}.")
    for i, row in enumerate(report["rows"]):
        if not (
            isinstance(row.get("arm"), str)
            and isinstance(row.get("seed"), int)
            and isinstance(row.get("metrics"), dict)
        ):
            raise ConfigError(f"report: rows[{i}] needs `arm` (str), `seed` (int) and `metrics` (dict).")
        bad = [k for k, v in row["metrics"].items() if not isinstance(v, float)]
        if bad:
            raise ConfigError(f"report: rows[{i}] metrics {bad} are not floats.")
    for i, claim in enumerate(report["claims"]):
        for key, kind in _CLAIM_FIELDS.items():
            if not (isinstance(claim.get(key), kind) or (key in _STATS and claim.get(key) is None)):
                raise ConfigError(f"report: claims[{i}] `{key}` must be a {kind.__name__}.")


def _fmt(mean: float | None, sd: float | None = None) -> str:
    if mean is None or not math.isfinite(mean):
        return "n/a"
    digits = 3 if abs(mean) < 100 else 1
    return f"{mean:.{digits}f}" if sd is None else f"{mean:.{digits}f} ± {sd:.{digits}f}"


def report_markdown(report: Mapping, figures: Sequence[str | Path] = ()) -> str:
    """The report as markdown: arms × metrics (mean ± sd over seeds), the claims with their verdict, the figures."""
    rows = report["rows"]
    arms = list(dict.fromkeys(r["arm"] for r in rows))
    metrics = list(dict.fromkeys(m for r in rows for m in r["metrics"]))
    seeds = report["seeds"]
    lines = [f"Results of `{report.get('command', 'python -m monai_xrgan.bundle reproduce ' + report['bundle'])}`"]
    if report.get("machine"):
        lines[0] += f" on {report['machine']}"
    lines[0] += f"; mean ± sd over {len(seeds)} seed{'s' if len(seeds) != 1 else ''} ({', '.join(map(str, seeds))})."
    if report.get("notes"):
        lines += ["", str(report["notes"]).strip()]
    lines += ["", "| arm | " + " | ".join(metrics) + " |", "| --- |" + " --- |" * len(metrics)]
    for arm in arms:
        cells = [_fmt(*summarise(metric_values(rows, arm, m))) for m in metrics]
        lines.append(f"| {arm} | " + " | ".join(cells) + " |")
    lines += ["", "| claim | metric | arm | baseline | arm mean ± sd | baseline mean ± sd | holds |",
              "| --- | --- | --- | --- | --- | --- | --- |"]  # fmt: skip
    for c in report["claims"]:
        base = _fmt(c["baseline_mean"]) if c["baseline"] == THRESHOLD else _fmt(c["baseline_mean"], c["baseline_sd"])
        direction = "↑" if c["higher_is_better"] else "↓"
        lines.append(
            f"| {c['claim']} | {c['metric']} {direction} | {c['arm']} | {c['baseline']} | "
            f"{_fmt(c['arm_mean'], c['arm_sd'])} | {base} | {'yes' if c['holds'] else '**no**'} |"
        )
    held = sum(c["holds"] for c in report["claims"])
    lines += ["", f"{held} of {len(report['claims'])} claims hold."]
    if figures:
        lines += ["", "Figures (in `eval/report/`): " + ", ".join(f"`{Path(f).name}`" for f in figures) + "."]
    return "\n".join(lines) + "\n"


def _nan_to_null(value: Any) -> Any:
    """JSON has no NaN: a statistic with no value (an arm that did not run) is written as null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, Mapping):
        return {k: _nan_to_null(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_nan_to_null(v) for v in value]
    return value


def write_report(report: Mapping, folder: str | Path, figures: Sequence[str | Path] = ()) -> tuple[Path, Path]:
    """Write ``report.json`` and ``report.md`` into ``folder``; return both paths."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    json_path, md_path = folder / "report.json", folder / "report.md"
    json_path.write_text(json.dumps(_nan_to_null(report), indent=2, allow_nan=False) + "\n", encoding="utf-8")
    md_path.write_text(report_markdown(report, figures), encoding="utf-8")
    return json_path, md_path
