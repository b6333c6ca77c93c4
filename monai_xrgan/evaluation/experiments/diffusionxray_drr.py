"""DiffusionXRay experiment: does the conditional DDPM restore LQ radiographs, and does it keep the nodules?

Arms, all scored on held-out data (the demo's ``test`` LQ/HQ pairs and ``test_drr`` DRRs with inserted nodules;
training uses ``training``, model selection ``validation``):

* ``ddim50``: the trained model sampled with DDIM, 50 steps;
* ``ddpm1000``: the same model sampled with DDPM, 1000 steps (20x the network calls);
* ``lq_input`` (the floor, no restoration): the LQ input scored as is against HQ; its ``nodule_cnr_ratio`` is 1 and
  its ``seconds_per_image`` 0 by definition.

Metrics: ``psnr``, ``ssim``, ``ms_ssim`` of restored vs HQ on the test pairs; ``nodule_cnr`` (mean over the test DRRs
of the restored image's CNR at the known nodule position) and ``nodule_cnr_ratio`` = mean CNR after restoration /
mean CNR of the input DRR (a ratio of means: per-nodule CNRs of the input can be near 0); ``seconds_per_image``:
wall-clock sampling time per DRR. One ``train`` step, then one ``evaluate`` step per sampler.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
from monai.transforms import LoadImage

from monai_xrgan.evaluation import figures
from monai_xrgan.evaluation.report import ClaimSpec, make_row
from monai_xrgan.evaluation.runner import Experiment, SeedRun
from monai_xrgan.transforms.xray import XRayPreprocessd
from monai_xrgan.utils.errors import ConfigError, MissingInputError

__all__ = ["EXPERIMENT", "MODEL_SIZE", "SAMPLERS", "CNR_RATIO_FLOOR"]

#: image size of the demo-scale model (the demo data itself is generated at the bundle's 64 px, its minimum)
MODEL_SIZE = 32
#: the sampler arms: ``--sampler`` and ``--num_inference_steps`` of each
SAMPLERS = {"ddim50": ("ddim", 50), "ddpm1000": ("ddpm", 1000)}
FLOOR = "lq_input"
#: restoration must keep the nodules: CNR after / CNR before at least this
CNR_RATIO_FLOOR = 0.8
#: test images in the sample grids
GRID_SAMPLES = 4
#: test pairs and test DRRs every arm is scored on (the first ones of each list): DDPM-1000 must fit the budget
NUM_EVAL_ITEMS = 4
#: demo-scale settings of every step (one seed within the demo time budget on 2 CPU cores)
DEFAULTS = ["--max_epochs", "30", "--val_interval", "10", "--num_workers", "0", "--num_eval_items", str(NUM_EVAL_ITEMS)]


def _read(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise MissingInputError(f"{path}: not written by the evaluate step; see the step's log in logs/.")
    return json.loads(path.read_text(encoding="utf-8"))["metrics"]


def _option(run: SeedRun, key: str, default: int) -> int:
    """The value of ``--key`` that the steps of ``run`` get (the last one of the defaults and the user's overrides)."""
    given = [*DEFAULTS, *run.overrides]
    found = [given[i + 1] for i, o in enumerate(given[:-1]) if o == f"--{key}"]
    return int(found[-1]) if found else default


def _model_size(run: SeedRun) -> list[str]:
    """``--image_size 32`` for the model unless the user chose a size (the shared data is generated at 64 px)."""
    return [] if "--image_size" in run.overrides else ["--image_size", str(MODEL_SIZE)]


def _per_image(value: float | list) -> list[float]:
    """A per-image metric of ``metrics_drr_nodules.json`` as a flat list (one image comes back as a number)."""
    return [float(v) for v in np.atleast_1d(np.asarray(value, dtype=float)).ravel()]


def _cnr_ratio(restored: float, before: float) -> float:
    if not before > 0:
        raise ConfigError(
            f"nodule_cnr_ratio: the nodules do not stand out in the input DRRs (mean CNR {before:.3f} <= 0), so the "
            "ratio is undefined; check the `nodule` positions of the test_drr list."
        )
    return restored / before


def run_seed(run: SeedRun) -> list[dict]:
    """Train the restoration model for this seed, evaluate it with both samplers; return the three rows."""
    size = _model_size(run)
    run.run("train", ["train.json"], size, arm="training", reusable=True)
    rows, pairs, nodules = [], {}, {}
    for arm, (sampler, steps) in SAMPLERS.items():
        out = run.path() / "eval" / arm
        overrides = [*size, "--sampler", sampler, "--num_inference_steps", str(steps), "--output_dir", str(out)]
        run.run(f"evaluate_{arm}", ["train.json", "evaluate.json"], overrides, arm=arm)
        pairs, nodules = _read(out / "metrics.json"), _read(out / "metrics_drr_nodules.json")
        before = nodules["drr_nodule_cnr_input"]
        metrics = {
            "psnr": pairs["test_psnr"], "ssim": pairs["test_ssim"], "ms_ssim": pairs["test_ms_ssim"],
            "nodule_cnr": nodules["drr_nodule_cnr_restored"],
            "nodule_cnr_ratio": _cnr_ratio(nodules["drr_nodule_cnr_restored"], before),
            "seconds_per_image": nodules["drr_seconds_per_image"],
        }  # fmt: skip
        details = {
            "nodule_cnr_input": _per_image(nodules["drr_nodule_cnr_input_per_image"]),
            "nodule_cnr_restored": _per_image(nodules["drr_nodule_cnr_restored_per_image"]),
        }
        run.progress(arm, ", ".join(f"{k} {v:.3f}" for k, v in metrics.items()))
        rows.append(make_row(arm, run.seed, metrics, details))
    # the input is scored by every evaluate step alike; the last one's values
    floor = {
        "psnr": pairs["test_identity_psnr"], "ssim": pairs["test_identity_ssim"],
        "ms_ssim": pairs["test_identity_ms_ssim"], "nodule_cnr": nodules["drr_nodule_cnr_input"],
        "nodule_cnr_ratio": 1.0, "seconds_per_image": 0.0,
    }  # fmt: skip
    run.progress(FLOOR, ", ".join(f"{k} {v:.3f}" for k, v in floor.items()))
    return [*rows, make_row(FLOOR, run.seed, floor)]


def _restored(folder: Path, source: str) -> np.ndarray:
    """The evaluate step's restoration of ``source`` at model size (``(x, y)``, [-1, 1])."""
    path = folder / "restored_at_model_size" / f"{Path(source).name.split('.')[0]}_restored.nii.gz"
    if not path.is_file():
        raise MissingInputError(f"{path}: not written by the evaluate step; see the step's log in logs/.")
    return np.asarray(LoadImage(image_only=True)(str(path)))


def _grid(run: SeedRun, split: str, keys: dict[str, str], png: Path, title: str) -> Path:
    """Sample grid of ``split``: the ``keys`` columns ({title: datalist key}) around one column per sampler."""
    items = json.loads((run.data_dir / "datalist.json").read_text(encoding="utf-8"))[split]
    items = items[: _option(run, "num_eval_items", len(items))]
    picks = [items[i] for i in np.linspace(0, len(items) - 1, min(GRID_SAMPLES, len(items))).round().astype(int)]
    load = XRayPreprocessd(keys=list(keys.values()), spatial_size=_option(run, "image_size", MODEL_SIZE))
    first, *rest = keys.items()
    columns: dict[str, list[np.ndarray]] = {first[0]: []}
    columns.update({f"{arm} (seed {run.seed})": [] for arm in SAMPLERS})
    columns.update({name: [] for name, _ in rest})
    for item in picks:
        images = load({k: str(run.data_dir / item[k]) for k in keys.values()})
        columns[first[0]].append(images[first[1]][0].numpy())
        for arm in SAMPLERS:
            columns[f"{arm} (seed {run.seed})"].append(_restored(run.path() / "eval" / arm, item[first[1]]))
        for name, key in rest:
            columns[name].append(images[key][0].numpy())
    return figures.plot_image_grid(columns, png, rows_first=False, title=title)


def _cnr_scatter(report: dict, png: Path) -> Path:
    """Per-nodule CNR of the input DRR vs after restoration, every seed, one colour per sampler."""
    fig, ax = plt.subplots(figsize=(4.2, 4.0))
    for arm in SAMPLERS:
        rows = [r for r in report["rows"] if r["arm"] == arm]
        before = np.concatenate([np.asarray(r["details"]["nodule_cnr_input"], dtype=float) for r in rows])
        after = np.concatenate([np.asarray(r["details"]["nodule_cnr_restored"], dtype=float) for r in rows])
        ax.scatter(before, after, s=14, label=arm, alpha=0.7)  # NaN (flat background) points are not drawn
    low, high = ax.get_xlim()
    ax.plot([low, high], [low, high], "k--", linewidth=0.8, label="unchanged")
    ax.plot([low, high], [CNR_RATIO_FLOOR * low, CNR_RATIO_FLOOR * high], "k:", linewidth=0.8,
            label=f"{CNR_RATIO_FLOOR} x input")  # fmt: skip
    ax.axhline(0.0, color="grey", linewidth=0.5)
    ax.set_xlabel("nodule CNR in the input DRR")
    ax.set_ylabel("nodule CNR after restoration")
    ax.set_title(f"test DRRs, seeds {report['seeds']}", fontsize=9)
    ax.legend(fontsize=7)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(png, dpi=110)
    plt.close(fig)
    return png


def make_figures(runs: list[SeedRun], report: dict, report_dir: Path) -> list[Path]:
    """Training curves of every seed, sample grids of the test pairs and test DRRs, per-nodule CNR scatter."""
    written = []
    curves = figures.plot_scalars(
        {f"seed {r.seed}": r.path() / "runs" for r in runs}, report_dir / "training_curves.png",
        tags=["loss", "val_ssim", "val_psnr"],
        title="conditional DDPM: noise MSE per iteration, DDIM-50 validation SSIM / PSNR",
    )  # fmt: skip
    written += [curves] if curves is not None else []
    written.append(_grid(runs[0], "test", {"LQ (lq_input)": "lq", "HQ": "hq"}, report_dir / "samples_lq_restored_hq.png",
                         "held-out test pairs: LQ | restored | HQ"))  # fmt: skip
    written.append(_grid(runs[0], "test_drr", {"DRR with nodule": "image", "DRR without it": "clean"},
                         report_dir / "samples_drr_restored.png", "test DRRs with an inserted nodule"))  # fmt: skip
    written.append(_cnr_scatter(report, report_dir / "nodule_cnr_scatter.png"))
    return written


def _claims() -> list[ClaimSpec]:
    claims = [
        ClaimSpec(f"{arm} restores: beats the LQ input on {metric}", metric, arm, FLOOR)
        for arm in SAMPLERS
        for metric in ("psnr", "ssim")
    ]
    claims += [
        ClaimSpec(f"{arm} keeps the nodules: CNR after / before >= {CNR_RATIO_FLOOR}", "nodule_cnr_ratio", arm,
                  "threshold", threshold=CNR_RATIO_FLOOR)  # fmt: skip
        for arm in SAMPLERS
    ]
    return claims


NOTES = f"""\
Demo-scale settings, sized so that one seed fits in about 5 CPU-minutes: the demo data at 64 px (32 training and 4 validation
LQ/HQ pairs; test pairs and test DRRs of phantom CTs with one inserted nodule of 15-30 mm, 0.6-1.2 px radius at the
model size), the model at {MODEL_SIZE} px (the default 1.1 M-parameter U-Net), 30 epochs of batch 4 (240 iterations;
DDPM papers train 10^5-10^6); DDIM-50 validation every 10 epochs selects `models/model.pt` by SSIM. Every arm is scored
on the same first {NUM_EVAL_ITEMS} held-out test pairs and first {NUM_EVAL_ITEMS} test DRRs (`--num_eval_items`; DDPM-1000
on all 16 would not fit the budget). Arms: `ddim50` and `ddpm1000` sample that one model (DDIM 50 steps, DDPM 1000
steps); `lq_input` is the floor, the LQ input scored as is (`nodule_cnr_ratio` 1 and `seconds_per_image` 0 by
definition). `psnr`, `ssim`, `ms_ssim`: restored vs HQ on [0, 1] intensities (MS-SSIM at {MODEL_SIZE} px uses the first 2
of the 5 standard scale weights, renormalised to sum 1). `nodule_cnr`: mean CNR at the known nodule positions of the
test DRRs after restoration (for `lq_input`, of the DRR itself); `nodule_cnr_ratio`: that mean / the input DRRs' mean
(a ratio of means: single input CNRs can be near 0). `seconds_per_image`: wall-clock sampling time per test DRR (batch
8, the step's second evaluator, so the model is warm) on a CPU shared with other jobs: read it as a DDPM/DDIM ratio,
not as an absolute speed."""

EXPERIMENT = Experiment(
    bundle="diffusionxray_drr",
    claims=_claims(),
    run_seed=run_seed,
    figures=make_figures,
    defaults=DEFAULTS,
    notes=NOTES,
)
