"""Run a bundle's experiment over seeds: every arm through ``python -m monai.bundle run``, then the report."""

from __future__ import annotations

import json
import os
import platform
import shlex
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from monai_xrgan.evaluation.figures import plot_claims
from monai_xrgan.evaluation.report import ClaimSpec, build_report, write_report
from monai_xrgan.utils.bundles import bundle_run_args
from monai_xrgan.utils.errors import ConfigError, MissingInputError
from monai_xrgan.utils.launch import run_module

__all__ = ["Experiment", "SeedRun", "StepFailedError", "reproduce", "update_card", "CARD_BEGIN", "CARD_END"]

#: the lines of a model card between which ``reproduce --card`` writes ``report.md``
CARD_BEGIN, CARD_END = "<!-- reproduce:begin -->", "<!-- reproduce:end -->"
#: the demo data of every seed is generated with this seed, so all seeds share one held-out test split
DATA_SEED = 0
#: the first ``run`` item of every bundle's train.json: writes the demo data when there is none
_DEMO_DATA = (
    "$monai_xrgan.demo.datasets.ensure_demo_data(@dataset_dir, @demo_task, datalist=@datalist, size=@image_size, "
    "seed=@seed)"
)


class StepFailedError(RuntimeError):
    """A step of an experiment exited non-zero; the message names the step and its log file."""


@dataclass
class Experiment:
    """A bundle's experiment: how one seed runs its arms, and the claims the report checks.

    Args:
        bundle: bundle folder name under ``bundles/`` (e.g. ``"pix2pix_cxr"``).
        claims: the paper's claims, each an arm against a floor or a control.
        run_seed: runs every arm for one seed and returns its rows (:func:`~monai_xrgan.evaluation.report.make_row`).
        figures: writes the report's PNG figures from all seeds' runs: ``(runs, report, report_dir) -> paths``.
        defaults: overrides given to every step (the demo-scale settings that fit the time budget).
        notes: markdown paragraph for ``report.md``: what the arms are and which data each metric uses.
    """

    bundle: str
    claims: list[ClaimSpec]
    run_seed: Callable[[SeedRun], list[dict]]
    figures: Callable[[list[SeedRun], dict, Path], list[Path]] | None = None
    defaults: Sequence[str] = ()
    notes: str = ""


@dataclass
class SeedRun:
    """One seed of a bundle's experiment: runs its steps with per-seed output folders and a shared data folder.

    Args:
        bundle: the bundle folder.
        seed: training seed of this run (``--seed``).
        report_dir: ``<bundle>/eval/report``.
        defaults: the experiment's overrides for every step.
        overrides: the user's command-line overrides for every step (after ``defaults``).
        reuse: skip reusable steps (training) that already succeeded.
    """

    bundle: Path
    seed: int
    report_dir: Path
    defaults: Sequence[str] = ()
    overrides: Sequence[str] = ()
    reuse: bool = False
    log: Callable[[str], None] = field(default=print, repr=False)

    @property
    def root(self) -> Path:
        """``<bundle>/eval/report/seed_<seed>``."""
        return self.report_dir / f"seed_{self.seed}"

    @property
    def data_dir(self) -> Path:
        """Demo data shared by all seeds (generated once with seed 0)."""
        return self.report_dir / "data"

    def path(self, tag: str = "main") -> Path:
        """Output folder of the runs tagged ``tag``: ``checkpoints/``, ``models/``, ``runs/``, ``eval/`` inside."""
        return self.root / tag

    def progress(self, arm: str, message: str) -> None:
        """Print one progress line for ``arm`` of this seed."""
        self.log(f"[reproduce {self.bundle.name}] seed {self.seed} | {arm}: {message}")

    def folder_overrides(self, tag: str = "main", seed: int | None = None) -> list[str]:
        """``--seed`` (this run's unless given), ``--dataset_dir`` and the output folders of ``tag``."""
        out = self.path(tag)
        return [
            "--seed", str(self.seed if seed is None else seed), "--dataset_dir", str(self.data_dir),
            "--ckpt_dir", str(out / "checkpoints"), "--models_dir", str(out / "models"),
            "--tensorboard_dir", str(out / "runs"), "--output_dir", str(out / "eval"),
        ]  # fmt: skip

    def ensure_data(self) -> None:
        """Generate the shared demo data (seed 0) with the experiment's settings, unless it is there."""
        if not (self.data_dir / "datalist.json").is_file():
            overrides = [*self.folder_overrides("data", DATA_SEED), *self.defaults, *self.overrides]
            self._execute("data", ["train.json"], [*overrides, "--run", json.dumps([_DEMO_DATA])], arm="data")

    def run(self, step: str, configs: Sequence[str], overrides: Sequence[str] = (), *, tag: str = "main",
            arm: str | None = None, reusable: bool = False) -> Path:  # fmt: skip
        """Run ``configs`` (merged in order) of the bundle as ``step``; return ``path(tag)``.

        Overrides, later ones winning: seed and folders, the experiment's defaults, the user's, then ``overrides``.
        Output goes to ``root/logs/<step>.log``; with ``reuse`` a ``reusable`` step that succeeded before is skipped.

        Raises:
            StepFailedError: the step exited non-zero (the tail of its log is printed first).
        """
        self.ensure_data()
        done = self.root / "logs" / f"{step}.done"
        done.parent.mkdir(parents=True, exist_ok=True)
        if self.reuse and reusable and done.is_file():
            self.progress(arm or step, f"{step}: reused (succeeded before; drop --reuse to run again)")
            return self.path(tag)
        done.unlink(missing_ok=True)
        all_overrides = [*self.folder_overrides(tag), *self.defaults, *self.overrides, *map(str, overrides)]
        self._execute(step, configs, all_overrides, arm=arm or step)
        done.write_text("ok\n", encoding="utf-8")
        return self.path(tag)

    def _execute(self, step: str, configs: Sequence[str], overrides: Sequence[str], arm: str) -> None:
        log_path = self.root / "logs" / f"{step}.log"
        log_path.parent.mkdir(parents=True, exist_ok=True)
        args = bundle_run_args(self.bundle, configs, overrides)
        self.progress(arm, f"{step} ({', '.join(configs)}) ...")
        start = time.perf_counter()
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        log_path.write_text(shlex.join([sys.executable, "-m", "monai.bundle", *args]) + "\n\n", encoding="utf-8")
        code = run_module("monai.bundle", args, env=env, log_path=log_path).returncode
        seconds = time.perf_counter() - start
        if code != 0:
            tail = "".join(log_path.read_text(encoding="utf-8", errors="replace").splitlines(keepends=True)[-25:])
            self.log(tail)
            raise StepFailedError(f"step {step!r} of seed {self.seed} failed with exit code {code}; see {log_path}")
        self.progress(arm, f"{step} done in {seconds:.0f} s")


def update_card(card: Path, markdown: str) -> None:
    """Replace the text between :data:`CARD_BEGIN` and :data:`CARD_END` in the model card with ``markdown``."""
    text = card.read_text(encoding="utf-8")
    if CARD_BEGIN not in text or CARD_END not in text:
        raise ConfigError(f"{card}: no `{CARD_BEGIN}` ... `{CARD_END}` lines; add them in the Results section.")
    head, rest = text.split(CARD_BEGIN, 1)
    _, tail = rest.split(CARD_END, 1)
    card.write_text(f"{head}{CARD_BEGIN}\n{markdown.rstrip()}\n{CARD_END}{tail}", encoding="utf-8")


def machine_description() -> str:
    """The machine the numbers were measured on, in words (CPU count, or the CUDA device)."""
    import torch

    if torch.cuda.is_available():
        return f"{torch.cuda.get_device_name(0)} (torch {torch.__version__})"
    return f"{os.cpu_count()} CPU cores, {platform.machine()} (torch {torch.__version__}, no GPU)"


def reproduce(bundle: Path, experiment: Experiment, seeds: Sequence[int], overrides: Sequence[str] = (),
              reuse: bool = False, card: bool = False, log: Callable[[str], None] = print) -> dict:  # fmt: skip
    """Run ``experiment`` of ``bundle`` for every seed and write ``eval/report/`` (json, md, figures); return the
    report.

    Args:
        bundle: the bundle folder.
        experiment: its experiment.
        seeds: training seeds (the demo data is the same for all of them).
        overrides: ``--key value`` overrides for every step (after the experiment's defaults).
        reuse: reuse the trained models of an earlier run instead of training again.
        card: also write ``report.md`` into the bundle's ``docs/README.md`` between the reproduce markers.
    """
    if not seeds:
        raise ConfigError("--seeds: give at least one seed, e.g. --seeds 0 1 2.")
    if card and not (bundle / "docs" / "README.md").is_file():
        raise MissingInputError(f"{bundle / 'docs' / 'README.md'}: no model card to update; drop --card.")
    report_dir = bundle / "eval" / "report"
    runs = [SeedRun(bundle, int(s), report_dir, experiment.defaults, list(overrides), reuse, log) for s in seeds]
    rows: list[dict] = []
    start = time.perf_counter()
    for run in runs:
        seed_start = time.perf_counter()
        seed_rows = experiment.run_seed(run)
        run.progress("all arms", f"seed done in {time.perf_counter() - seed_start:.0f} s")
        rows.extend(seed_rows)
    command = shlex.join(["python", "-m", "monai_xrgan.bundle", "reproduce", bundle.name, "--seeds", *map(str, seeds),
                          *(["--reuse"] if reuse else []), *overrides])  # fmt: skip
    extra = {"command": command, "machine": machine_description(), "notes": experiment.notes,
             "seconds": round(time.perf_counter() - start, 1), "defaults": list(experiment.defaults)}  # fmt: skip
    report = build_report(experiment.bundle, seeds, rows, experiment.claims, **extra)
    figures = list(experiment.figures(runs, report, report_dir)) if experiment.figures else []
    figures.append(plot_claims(report, report_dir / "claims.png"))
    json_path, md_path = write_report(report, report_dir, figures)
    markdown = md_path.read_text(encoding="utf-8")
    if card:
        update_card(bundle / "docs" / "README.md", markdown)
    log("\n" + markdown)
    log(f"Report: {json_path}\n        {md_path}")
    for figure in figures:
        log(f"Figure: {figure}")
    return report
