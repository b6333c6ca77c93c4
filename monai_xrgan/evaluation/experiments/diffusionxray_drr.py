"""DiffusionXRay experiment: does the residual conditional DDPM restore LQ radiographs, and does it keep the nodules?

Arms, all scored on held-out data (the demo's ``test`` LQ/HQ pairs, its ``test_drr`` nodule images of the same
phantom and degradation, and the ``test_drr_ood`` DRRs of CTs with inserted nodules, reported on their own; training
uses ``training``, model selection ``validation``):

* ``ddim50``: the trained model (its EMA weights) sampled with DDIM, 50 steps, ``eta`` of the config;
* ``ddpm1000``: the same model sampled with DDPM, 1000 steps (20x the network calls);
* ``lq_input`` (the floor, no restoration): the LQ input scored as is against HQ; its ``nodule_cnr_ratio`` and
  ``nodules_found`` are 1 and its ``seconds_per_image`` 0 by definition.

Metrics: ``psnr``, ``ssim``, ``ms_ssim`` of restored vs HQ on the test pairs; ``nodule_cnr`` (mean over the nodule
images of the CNR at the known nodule position) and ``nodule_cnr_ratio`` = mean CNR after restoration / mean CNR of the
input (a ratio of means: per-nodule CNRs of the input can be near 0); ``nodules_found``: the fraction of the nodules
that keep at least half of their input matched-filter signal (:mod:`monai_xrgan.metrics.nodules`; each nodule image is
compared with the same patient's image without the nodule, restored the same way); ``ood_*``: the same on the
out-of-distribution DRRs; ``seconds_per_image``: wall-clock sampling time per nodule image; ``ddim_speedup`` (on
``ddim50``): DDPM-1000 seconds per image / DDIM-50's. One ``train`` step, then one ``evaluate`` step per sampler.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import torch
from monai.transforms import LoadImage

from monai_xrgan.evaluation import figures
from monai_xrgan.evaluation.report import ClaimSpec, make_row
from monai_xrgan.evaluation.runner import Experiment, SeedRun
from monai_xrgan.metrics.nodules import FOUND_FRACTION, matched_filter_signal, nodules_found
from monai_xrgan.transforms.xray import XRayPreprocessd
from monai_xrgan.utils.errors import ConfigError, MissingInputError

__all__ = ["EXPERIMENT", "SAMPLERS", "CNR_RATIO_FLOOR", "FOUND_FLOOR"]

#: the sampler arms: ``--sampler`` and ``--num_inference_steps`` of each
SAMPLERS = {"ddim50": ("ddim", 50), "ddpm1000": ("ddpm", 1000)}
FLOOR = "lq_input"
#: restoration must keep the nodules: CNR after / CNR before at least this
CNR_RATIO_FLOOR = 0.8
#: ... and a matched filter must still find this fraction of them
FOUND_FLOOR = 0.9
#: DDIM-50 must be this many times faster than DDPM-1000, and lose at most this much PSNR (dB) against it
SPEEDUP_FLOOR, PSNR_TOLERANCE_DB = 15.0, 0.5
#: test images in the sample grids
GRID_SAMPLES = 4
#: test pairs and nodule images every arm is scored on (the first ones of each list): DDPM-1000 must fit the budget
NUM_EVAL_ITEMS = 4
#: demo-scale settings of every step (one seed within the demo time budget on 2 CPU cores); the model size is the
#: bundle's ``image_size`` (32), at which the shared demo data is also generated
DEFAULTS = ["--max_epochs", "30", "--val_interval", "10", "--num_workers", "0", "--num_eval_items", str(NUM_EVAL_ITEMS)]
#: the nodule sets: datalist list and metric prefix of each
NODULE_SETS = {"": ("test_drr", "drr_"), "ood_": ("test_drr_ood", "drr_ood_")}


def _read(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise MissingInputError(f"{path}: not written by the evaluate step; see the step's log in logs/.")
    return json.loads(path.read_text(encoding="utf-8"))["metrics"]


def _option(run: SeedRun, key: str, default: int) -> int:
    """The value of ``--key`` that the steps of ``run`` get (the last one of the defaults and the user's overrides)."""
    given = [*DEFAULTS, *run.overrides]
    found = [given[i + 1] for i, o in enumerate(given[:-1]) if o == f"--{key}"]
    return int(found[-1]) if found else default


def _model_size(run: SeedRun) -> int:
    """The model's (and the shared demo data's) image size: ``--image_size`` or the bundle's default."""
    config = json.loads((run.bundle / "configs" / "train.json").read_text(encoding="utf-8"))
    return _option(run, "image_size", int(config["image_size"]))


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


def _nodule_items(run: SeedRun, split: str) -> list[dict]:
    items = json.loads((run.data_dir / "datalist.json").read_text(encoding="utf-8"))[split]
    return items[: _option(run, "num_eval_items", len(items))]


def _signals(run: SeedRun, split: str, folder: Path | None) -> np.ndarray:
    """Matched-filter signal of every scored nodule of ``split``: in the input pair (``folder`` None) or in the
    restorations the evaluate step wrote to ``folder``."""
    items = _nodule_items(run, split)
    size = _model_size(run)
    load = XRayPreprocessd(keys=["image", "clean"], spatial_size=size)
    pairs = []
    for item in items:
        if folder is None:
            images = load({k: str(run.data_dir / item[k]) for k in ("image", "clean")})
            pairs.append((images["image"][None], images["clean"][None]))
        else:
            pairs.append(tuple(torch.as_tensor(_restored(folder, run.data_dir, item[k]))[None, None]
                               for k in ("image", "clean")))  # fmt: skip
    with_nodule, without = (torch.cat([p[i] for p in pairs]).float() for i in (0, 1))
    lesions = torch.tensor([item["nodule"] for item in items], dtype=torch.float32)
    return matched_filter_signal(with_nodule, without, lesions).numpy()


def run_seed(run: SeedRun) -> list[dict]:
    """Train the restoration model for this seed, evaluate it with both samplers; return the three rows."""
    run.run("train", ["train.json"], arm="training", reusable=True)
    rows, pairs, nodules = [], {}, {}
    inputs = {name: _signals(run, split, None) for name, (split, _) in NODULE_SETS.items()}
    seconds = {}
    for arm, (sampler, steps) in SAMPLERS.items():
        out = run.path() / "eval" / arm
        overrides = ["--sampler", sampler, "--num_inference_steps", str(steps), "--output_dir", str(out)]
        run.run(f"evaluate_{arm}", ["train.json", "evaluate.json"], overrides, arm=arm)
        pairs = _read(out / "metrics.json")
        metrics = {"psnr": pairs["test_psnr"], "ssim": pairs["test_ssim"], "ms_ssim": pairs["test_ms_ssim"]}
        details: dict[str, Any] = {}
        for name, (split, prefix) in NODULE_SETS.items():
            nodules[name] = _read(out / f"metrics_{prefix}nodules.json")
            restored = _signals(run, split, out)
            found = nodules_found(restored, inputs[name])
            metrics[f"{name}nodule_cnr"] = nodules[name][f"{prefix}nodule_cnr_restored"]
            metrics[f"{name}nodule_cnr_ratio"] = _cnr_ratio(nodules[name][f"{prefix}nodule_cnr_restored"],
                                                            nodules[name][f"{prefix}nodule_cnr_input"])  # fmt: skip
            metrics[f"{name}nodules_found"] = float(found.sum() / max(1, (inputs[name] > 0).sum()))
            details[f"{name}nodule_cnr_input"] = _per_image(nodules[name][f"{prefix}nodule_cnr_input_per_image"])
            details[f"{name}nodule_cnr_restored"] = _per_image(nodules[name][f"{prefix}nodule_cnr_restored_per_image"])
            details[f"{name}nodule_signal_input"] = inputs[name].tolist()
            details[f"{name}nodule_signal_restored"] = restored.tolist()
        seconds[arm] = metrics["seconds_per_image"] = nodules[""]["drr_seconds_per_image"]
        run.progress(arm, ", ".join(f"{k} {v:.3f}" for k, v in metrics.items()))
        rows.append(make_row(arm, run.seed, metrics, details))
    rows[0]["metrics"]["ddim_speedup"] = seconds["ddpm1000"] / seconds["ddim50"]
    # the input is scored by every evaluate step alike; the last one's values
    floor = {"psnr": pairs["test_identity_psnr"], "ssim": pairs["test_identity_ssim"],
             "ms_ssim": pairs["test_identity_ms_ssim"]}  # fmt: skip
    for name, (_, prefix) in NODULE_SETS.items():
        floor.update({f"{name}nodule_cnr": nodules[name][f"{prefix}nodule_cnr_input"], f"{name}nodule_cnr_ratio": 1.0,
                      f"{name}nodules_found": 1.0})  # fmt: skip
    floor["seconds_per_image"] = 0.0
    run.progress(FLOOR, ", ".join(f"{k} {v:.3f}" for k, v in floor.items()))
    return [*rows, make_row(FLOOR, run.seed, floor)]


def _restored(folder: Path, data_dir: Path, source: str) -> np.ndarray:
    """The evaluate step's restoration at model size (``(x, y)``, [-1, 1]) of ``source`` (relative to
    ``data_dir``), written by ``evaluate.json``'s ``save_restored`` under the same relative folder."""
    relative = Path(source)
    path = folder / "restored_at_model_size" / relative.parent / f"{relative.name.split('.')[0]}_restored.nii.gz"
    if not path.is_file():
        raise MissingInputError(f"{path}: not written by the evaluate step; see the step's log in logs/.")
    return np.asarray(LoadImage(image_only=True)(str(path)))


def _grid(run: SeedRun, split: str, keys: dict[str, str], png: Path, title: str) -> Path:
    """Sample grid of ``split``: the ``keys`` columns ({title: datalist key}) around one column per sampler."""
    items = json.loads((run.data_dir / "datalist.json").read_text(encoding="utf-8"))[split]
    items = items[: _option(run, "num_eval_items", len(items))]
    picks = [items[i] for i in np.linspace(0, len(items) - 1, min(GRID_SAMPLES, len(items))).round().astype(int)]
    load = XRayPreprocessd(keys=list(keys.values()), spatial_size=_model_size(run))
    first, *rest = keys.items()
    columns: dict[str, list[np.ndarray]] = {first[0]: []}
    columns.update({f"{arm} (seed {run.seed})": [] for arm in SAMPLERS})
    columns.update({name: [] for name, _ in rest})
    for item in picks:
        images = load({k: str(run.data_dir / item[k]) for k in keys.values()})
        columns[first[0]].append(images[first[1]][0].numpy())
        for arm in SAMPLERS:
            columns[f"{arm} (seed {run.seed})"].append(_restored(run.path() / "eval" / arm, run.data_dir, item[first[1]]))
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
    ax.set_xlabel("nodule CNR in the input")
    ax.set_ylabel("nodule CNR after restoration")
    ax.set_title(f"held-out nodule images, seeds {report['seeds']}", fontsize=9)
    ax.legend(fontsize=7)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(png, dpi=110)
    plt.close(fig)
    return png


def make_figures(runs: list[SeedRun], report: dict, report_dir: Path) -> list[Path]:
    """Training curves of every seed, sample grids of the test pairs and both nodule sets, per-nodule CNR scatter."""
    written = []
    curves = figures.plot_scalars(
        {f"seed {r.seed}": r.path() / "runs" for r in runs}, report_dir / "training_curves.png",
        tags=["loss", "val_ssim", "val_psnr"],
        title="residual conditional DDPM: training MSE per iteration, DDIM-50 validation SSIM / PSNR (EMA)",
    )  # fmt: skip
    written += [curves] if curves is not None else []
    written.append(_grid(runs[0], "test", {"LQ (lq_input)": "lq", "HQ": "hq"}, report_dir / "samples_lq_restored_hq.png",
                         "held-out test pairs: LQ | restored | HQ"))  # fmt: skip
    written.append(_grid(runs[0], "test_drr", {"LQ with nodule": "image", "HQ": "hq", "LQ without it": "clean"},
                         report_dir / "samples_drr_restored.png", "held-out nodule images (same phantom as training)"))
    written.append(_grid(runs[0], "test_drr_ood", {"DRR with nodule": "image", "DRR without it": "clean"},
                         report_dir / "samples_drr_ood_restored.png", "out of distribution: CT DRRs with a nodule"))
    written.append(_cnr_scatter(report, report_dir / "nodule_cnr_scatter.png"))
    return written


def _claims() -> list[ClaimSpec]:
    claims = [
        ClaimSpec(f"{arm} restores: beats the LQ input on {metric}", metric, arm, FLOOR)
        for arm in SAMPLERS
        for metric in ("psnr", "ssim")
    ]
    claims += [
        ClaimSpec(f"DDIM-50 is >= {SPEEDUP_FLOOR:g}x faster than DDPM-1000", "ddim_speedup", "ddim50", "threshold",
                  threshold=SPEEDUP_FLOOR),
        ClaimSpec(f"DDIM-50 is within {PSNR_TOLERANCE_DB} dB PSNR of DDPM-1000", "psnr", "ddim50", "ddpm1000",
                  margin=-PSNR_TOLERANCE_DB),
    ]  # fmt: skip
    for arm in SAMPLERS:
        claims += [
            ClaimSpec(f"{arm} keeps the nodules: CNR after / before >= {CNR_RATIO_FLOOR}", "nodule_cnr_ratio", arm,
                      "threshold", threshold=CNR_RATIO_FLOOR),
            ClaimSpec(f"{arm} keeps the nodules: a matched filter still finds >= {FOUND_FLOOR:.0%} of them",
                      "nodules_found", arm, "threshold", threshold=FOUND_FLOOR),
        ]  # fmt: skip
    return claims


NOTES = f"""\
Demo-scale settings, sized so that one seed fits the demo budget on 2 CPU cores: the demo data and the model at the bundle's
32 px (32 training and 4 validation LQ/HQ pairs rendered at 64 px and area-averaged to 32 px; the LQ partner blurred by
a 7.5 mm Gaussian, no quantum noise, flatter contrast; findings alternate between normal and a 15-30 mm nodule), the
default 1.1 M-parameter U-Net diffusing the residual HQ - LQ and predicting it (`prediction_type` sample), EMA of the
weights (decay 0.98), 30 epochs of batch 4 (240 iterations; DDPM papers train 10^5-10^6); DDIM-50 validation of the EMA
weights every 10 epochs selects `models/model.pt` by SSIM. Every arm is scored on the same first {NUM_EVAL_ITEMS} held-out test
pairs, first {NUM_EVAL_ITEMS} held-out nodule images of the same phantom (`test_drr`) and first {NUM_EVAL_ITEMS} DRRs of phantom CTs with an
inserted nodule (`test_drr_ood`, out of distribution: `ood_*` metrics, no claim) (`--num_eval_items`). Arms: `ddim50`
and `ddpm1000` sample that one model (DDIM 50 steps with eta 0, DDPM 1000 steps); `lq_input` is the floor, the LQ input
scored as is (`nodule_cnr_ratio` and `nodules_found` 1, `seconds_per_image` 0 by definition). `psnr`, `ssim`, `ms_ssim`:
restored vs HQ on [0, 1] intensities (MS-SSIM at 32 px uses the first 2 of the 5 standard scale weights,
renormalised to sum 1). `nodule_cnr`: mean CNR at the known nodule positions after restoration (for `lq_input`, of the
input); `nodule_cnr_ratio`: that mean / the inputs' mean. `nodules_found`: fraction of the nodules whose matched-filter
signal (difference of Gaussians at the nodule's size, on the image with the nodule minus the same patient's image
without it, both restored alike) keeps at least {FOUND_FRACTION:g} of its value in the input pair. `seconds_per_image`:
wall-clock sampling time per nodule image (batch 8) on a CPU shared with other jobs: read it as a DDPM/DDIM ratio
(`ddim_speedup`), not as an absolute speed."""

EXPERIMENT = Experiment(
    bundle="diffusionxray_drr",
    claims=_claims(),
    run_seed=run_seed,
    figures=make_figures,
    defaults=DEFAULTS,
    notes=NOTES,
)
