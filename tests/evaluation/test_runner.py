"""The per-seed runner: override order, shared seed-0 demo data, logs, failures, reuse, and the reproduce loop."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from monai_xrgan.evaluation import ClaimSpec, Experiment, SeedRun, StepFailedError, make_row, reproduce
from monai_xrgan.evaluation.runner import CARD_BEGIN, CARD_END

METADATA = {"name": "toy", "version": "0.1.0"}
LOGGING = (
    "[loggers]\nkeys=root\n[handlers]\nkeys=h\n[formatters]\nkeys=f\n[logger_root]\nlevel=INFO\nhandlers=h\n"
    "[handler_h]\nclass=StreamHandler\nlevel=INFO\nformatter=f\nargs=(sys.stdout,)\n[formatter_f]\nformat=%(message)s\n"
)


def _toy_bundle(root: Path) -> Path:
    """A bundle whose train.json writes `value` (seed + offset) into output_dir/metrics.json, or fails on request."""
    bundle = root / "toy"
    (bundle / "configs").mkdir(parents=True)
    (bundle / "docs").mkdir()
    (bundle / "docs" / "README.md").write_text(f"# toy\n## Results\n{CARD_BEGIN}\nnothing yet\n{CARD_END}\n")
    (bundle / "configs" / "metadata.json").write_text(json.dumps(METADATA))
    (bundle / "configs" / "logging.conf").write_text(LOGGING)
    train = {
        "imports": ["$import json", "$import os"],
        "bundle_root": ".", "seed": 0, "offset": 0.0, "fail": False, "image_size": 8, "demo_task": "none",
        "dataset_dir": "$@bundle_root + '/data'", "datalist": "$@dataset_dir + '/datalist.json'",
        "output_dir": "$@bundle_root + '/eval'", "ckpt_dir": "", "models_dir": "", "tensorboard_dir": "",
        "run": [
            "$os.makedirs(@output_dir, exist_ok=True)",
            "$print('training seed', @seed) if not @fail else 1 / 0",
            "$json.dump({'value': @seed + @offset}, open(@output_dir + '/metrics.json', 'w'))",
        ],
    }  # fmt: skip
    (bundle / "configs" / "train.json").write_text(json.dumps(train))
    return bundle


def _seed_rows(run: SeedRun) -> list[dict]:
    rows = []
    for arm, offset in (("method", 1.0), ("floor", 0.0)):
        out = run.run(f"train_{arm}", ["train.json"], ["--offset", offset], tag=arm, arm=arm, reusable=True)
        rows.append(make_row(arm, run.seed, json.loads((out / "eval" / "metrics.json").read_text())))
    return rows


EXPERIMENT = Experiment(
    bundle="toy",
    claims=[
        ClaimSpec("method beats floor", "value", "method", "floor"),
        ClaimSpec("reverse", "value", "floor", "method"),
    ],
    run_seed=_seed_rows,
    notes="A toy experiment.",
)


@pytest.fixture
def toy(tmp_path) -> Path:
    bundle = _toy_bundle(tmp_path)
    data = bundle / "eval" / "report" / "data"
    data.mkdir(parents=True)
    (data / "datalist.json").write_text("{}")  # the shared demo data exists: no data step
    return bundle


def test_override_order_and_the_seed_zero_data_step(tmp_path, monkeypatch):
    calls = []
    monkeypatch.setattr(
        SeedRun, "_execute", lambda self, step, configs, overrides, arm: calls.append((step, overrides))
    )
    run = SeedRun(tmp_path / "b", 2, tmp_path / "b" / "eval" / "report", defaults=["--x", "1"], overrides=["--x", "2"])
    run.run("train", ["train.json"], ["--x", "3"], tag="arm")
    (step, data_overrides), (_, overrides) = calls
    assert step == "data" and data_overrides[data_overrides.index("--seed") + 1] == "0"
    assert "--run" in data_overrides and "ensure_demo_data" in data_overrides[-1]
    assert overrides[overrides.index("--seed") + 1] == "2"
    assert [overrides[i + 1] for i, o in enumerate(overrides) if o == "--x"] == ["1", "2", "3"]  # later ones win
    assert overrides[overrides.index("--models_dir") + 1] == str(run.root / "arm" / "models")
    assert overrides[overrides.index("--dataset_dir") + 1] == str(tmp_path / "b" / "eval" / "report" / "data")


@pytest.mark.slow
def test_reproduce_runs_every_seed_writes_the_report_and_the_card(toy, capsys):
    report = reproduce(toy, EXPERIMENT, [0, 1], card=True)
    assert [(r["arm"], r["seed"], r["metrics"]["value"]) for r in report["rows"]] == [
        ("method", 0, 1.0), ("floor", 0, 0.0), ("method", 1, 2.0), ("floor", 1, 1.0)]  # fmt: skip
    assert [c["holds"] for c in report["claims"]] == [True, False]
    folder = toy / "eval" / "report"
    assert json.loads((folder / "report.json").read_text())["claims"][0]["arm_mean"] == 1.5
    assert (folder / "claims.png").stat().st_size > 0 and (folder / "seed_1" / "logs" / "train_floor.log").is_file()
    card = (toy / "docs" / "README.md").read_text()
    assert "nothing yet" not in card and "| method | 1.500 ± 0.707 |" in card
    out = capsys.readouterr().out
    assert "[reproduce toy] seed 1 | floor: train_floor done" in out and "1 of 2 claims hold." in out

    again = reproduce(toy, EXPERIMENT, [0], reuse=True)  # trained arms are reused, not run again
    assert again["rows"][0]["metrics"]["value"] == 1.0
    assert "train_method: reused" in capsys.readouterr().out


@pytest.mark.slow
def test_a_failing_step_names_its_log_and_prints_its_tail(toy, capsys):
    run = SeedRun(toy, 0, toy / "eval" / "report", overrides=["--fail", "True"])
    with pytest.raises(StepFailedError, match=r"step 'train_method' of seed 0 failed .*train_method\.log"):
        _seed_rows(run)
    assert "Failed to evaluate" in capsys.readouterr().out  # the tail of the log
    assert not (run.root / "logs" / "train_method.done").exists()
