"""R2C-GAN experiment: does restoration help, and does it keep the diagnosis?

Arms, all scored on the held-out demo test split (degraded radiographs with their clean originals):

* ``r2c_gan``: the restored test images vs their clean originals (PSNR, SSIM overall and per degradation type), the
  joint classifier of the generator (accuracy, COVID-19 F1), and ``clean_psnr``: the clean originals restored, vs
  themselves (a clean input must stay clean);
* ``no_restoration`` (the floor): the degraded input itself vs the clean original, classified by a ResNet-18 trained
  on the degraded training images (``training_lq``);
* ``restored+resnet18``: a ResNet-18 with the same settings trained on R2C-GAN's restorations of the same training
  images and tested on the restored test images (like for like with ``no_restoration``).

One ``train`` step then one ``evaluate`` step (``configs/evaluate.json`` computes every arm) and one ``inference``
step (the restored test images for the sample grid).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from monai_xrgan.evaluation import figures
from monai_xrgan.evaluation.figures import plt
from monai_xrgan.evaluation.report import ClaimSpec, make_row
from monai_xrgan.evaluation.runner import Experiment, SeedRun
from monai_xrgan.metrics import DEGRADATION_GROUPS
from monai_xrgan.transforms.xray import LoadXRay
from monai_xrgan.utils.errors import MissingInputError

__all__ = ["EXPERIMENT", "PSNR_CAP", "CLEAN_PSNR_FLOOR"]

#: PSNR is reported capped at this value (dB): an unchanged image has an infinite PSNR, so the ``no_restoration``
#: arm's ``clean_psnr`` reads 60 (restorations never come near it)
PSNR_CAP = 60.0
#: a clean input must stay clean: restore(clean) vs clean at least this PSNR (dB)
CLEAN_PSNR_FLOOR = 30.0
CLASS_NAMES = ("normal", "covid")
ARMS = ("r2c_gan", "no_restoration", "restored+resnet18")
#: test images in the sample grid
GRID_SAMPLES = 6
#: training curves: losses per iteration, validation metrics per epoch (TensorBoard tags)
CURVES = ("loss_g", "loss_d", "loss_g_adv", "loss_g_cycle", "loss_g_identity", "loss_g_class", "val_psnr", "val_ssim")
IMAGE_METRICS = ("psnr", "ssim", *(f"{m}_{g}" for g in DEGRADATION_GROUPS for m in ("psnr", "ssim")))


def _read(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise MissingInputError(f"{path}: not written by the evaluate step; see the step's log in logs/evaluate.log.")
    return json.loads(path.read_text(encoding="utf-8"))


def _capped(value: float) -> float:
    return min(float(value), PSNR_CAP)


def _classifier_metrics(report: Mapping[str, Any]) -> tuple[dict[str, float], dict[str, Any]]:
    """``accuracy`` and ``covid_f1`` of a :func:`~monai_xrgan.metrics.classification_report`, and its confusion."""
    metrics = {"accuracy": report["accuracy"], "covid_f1": report["per_class"]["covid"]["f1"]}
    return metrics, {"confusion": report["confusion_matrix"], "classes": list(report["class_names"])}


def run_seed(run: SeedRun) -> list[dict]:
    """Train R2C-GAN for this seed, evaluate every arm, restore the test split; return the three rows."""
    # every step is reusable: with --reuse, seeds run separately (e.g. in parallel) are gathered into one report
    run.run("train", ["train.json"], arm="r2c_gan", reusable=True)
    out = run.run("evaluate", ["train.json", "evaluate.json"], arm="all arms", reusable=True) / "eval"
    run.run("inference", ["inference.json"], ["--output_dir", str(out / "restored")], arm="r2c_gan", reusable=True)
    test, clean = _read(out / "metrics.json")["metrics"], _read(out / "clean_metrics.json")["metrics"]
    baseline = _read(out / "baseline_metrics.json")["report"]
    restored = _read(out / "restored_classifier_metrics.json")["report"]

    r2c = {m: test[f"test_{m}"] for m in IMAGE_METRICS if f"test_{m}" in test}
    r2c.update(
        accuracy=test["test_accuracy"], covid_f1=test["test_covid_f1"], clean_psnr=_capped(clean["test_clean_psnr"])
    )
    floor = {m: test[f"test_identity_{m}"] for m in IMAGE_METRICS if f"test_identity_{m}" in test}
    floor["clean_psnr"] = _capped(clean["test_clean_identity_psnr"])
    floor_cls, floor_details = _classifier_metrics(baseline)
    restored_cls, restored_details = _classifier_metrics(restored)
    r2c_details = {"confusion": test["test_confusion_matrix"], "classes": list(CLASS_NAMES)}
    for arm, metrics in (
        ("r2c_gan", r2c),
        ("no_restoration", {**floor, **floor_cls}),
        ("restored+resnet18", restored_cls),
    ):
        run.progress(
            arm, ", ".join(f"{k} {v:.3f}" for k, v in metrics.items() if k in ("psnr", "ssim", "accuracy", "covid_f1"))
        )
    return [
        make_row("r2c_gan", run.seed, r2c, r2c_details),
        make_row("no_restoration", run.seed, {**floor, **floor_cls}, floor_details),
        make_row("restored+resnet18", run.seed, restored_cls, restored_details),
    ]


def _restored_path(folder: Path, degraded: str) -> Path:
    """The inference step's output for the test image ``degraded`` (``<stem>_restored.png`` somewhere below)."""
    stem = Path(degraded).name.split(".")[0]
    found = sorted(folder.rglob(f"{stem}_restored.*"))
    if not found:
        raise MissingInputError(f"{folder}: no restored image of {degraded}; see the step's log in logs/inference.log.")
    return found[0]


def plot_learning_curves(runs: list[SeedRun], png: Path) -> Path | None:
    """Validation PSNR and SSIM of the restored images per epoch, one line per seed, against the degraded input's
    (the no-restoration line, dashed; the validator logs it as ``val_identity_<metric>``)."""
    logs = {r.seed: figures.read_scalars(r.path() / "runs") for r in runs}
    if not any("val_psnr" in series for series in logs.values()):
        return None
    fig, axes = plt.subplots(1, 2, figsize=(9.0, 3.2))
    for ax, metric in zip(axes, ("psnr", "ssim")):
        for seed, series in logs.items():
            if f"val_{metric}" in series:
                ax.plot(*series[f"val_{metric}"], marker="o", markersize=3, label=f"r2c_gan, seed {seed}")
        baseline = next((s[f"val_identity_{metric}"] for s in logs.values() if f"val_identity_{metric}" in s), None)
        if baseline is not None:
            ax.axhline(float(baseline[1][0]), color="black", linestyle="--", label="no_restoration (degraded input)")
        ax.set_title(f"validation {metric.upper()}", fontsize=9)
        ax.set_xlabel("epoch")
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(png, dpi=110)
    plt.close(fig)
    return png


def make_figures(runs: list[SeedRun], report: dict, report_dir: Path) -> list[Path]:
    """Learning and training curves of every seed, the sample grid (degraded | restored | clean) and the confusion
    matrices."""
    written = []
    curves = figures.plot_scalars(
        {f"seed {r.seed}": r.path() / "runs" for r in runs}, report_dir / "training_curves.png", tags=CURVES,
        title="R2C-GAN training: losses per iteration, validation PSNR / SSIM per epoch",
    )  # fmt: skip
    learning = plot_learning_curves(runs, report_dir / "learning_curves.png")
    written += [png for png in (learning, curves) if png is not None]

    first = runs[0]
    test = json.loads((first.data_dir / "datalist.json").read_text(encoding="utf-8"))["test"]
    picks = [test[i] for i in np.linspace(0, len(test) - 1, min(GRID_SAMPLES, len(test))).round().astype(int)]
    load = LoadXRay()
    columns: dict[str, list[np.ndarray]] = {
        "degraded (no_restoration)": [],
        f"restored (r2c_gan, seed {first.seed})": [],
        "clean": [],
    }
    for item in picks:
        restored = _restored_path(first.path() / "eval" / "restored", item["image"])
        for column, path in zip(columns, (first.data_dir / item["image"], restored, first.data_dir / item["hq"])):
            columns[column].append(load(str(path))[0].numpy())
    written.append(
        figures.plot_image_grid(
            columns,
            report_dir / "samples_degraded_restored_clean.png",
            rows_first=False,
            title=f"held-out test images ({len(picks)} of {len(test)})",
        )  # fmt: skip
    )

    matrices = {}
    for arm in ARMS:
        confusions = [
            np.asarray(r["details"]["confusion"], float) for r in report["rows"] if r["arm"] == arm and "details" in r
        ]
        if confusions:
            matrices[f"{arm} (sum of {len(confusions)} seeds)"] = np.sum(confusions, axis=0).tolist()
    written.append(figures.plot_confusion(matrices, CLASS_NAMES, report_dir / "confusion_matrices.png"))
    return written


def _claims() -> list[ClaimSpec]:
    claims = [
        ClaimSpec(f"restoration raises {m.upper()} over the degraded input", m, "r2c_gan", "no_restoration")
        for m in ("psnr", "ssim")
    ]
    for group in DEGRADATION_GROUPS:
        for m in ("psnr", "ssim"):
            claims.append(
                ClaimSpec(f"restoration raises {m.upper()} on {group}", f"{m}_{group}", "r2c_gan", "no_restoration")
            )
    for arm, who in (
        ("r2c_gan", "R2C-GAN's joint classifier"),
        ("restored+resnet18", "a ResNet-18 on restored images"),
    ):
        for m, name in (("accuracy", "accuracy"), ("covid_f1", "COVID-19 F1")):
            claims.append(ClaimSpec(f"{who} beats a ResNet-18 on degraded images on {name}", m, arm, "no_restoration"))
    claims.append(
        ClaimSpec(f"a clean input stays clean: restore(clean) ≥ {CLEAN_PSNR_FLOOR:.0f} dB PSNR", "clean_psnr",
                  "r2c_gan", "threshold", threshold=CLEAN_PSNR_FLOOR)
    )  # fmt: skip
    return claims


EXPERIMENT = Experiment(
    bundle="r2c_gan_cxr",
    claims=_claims(),
    run_seed=run_seed,
    figures=make_figures,
    defaults=(
        "--num_threads",
        "1",
        "--num_workers",
        "0",
        "--base_channels",
        "16",
        "--max_epochs",
        "8",
        "--classifier_epochs",
        "4",
        "--classifier_lr",
        "0.001",
    ),  # fmt: skip
    notes=(
        "Demo-scale settings (to fit 10 CPU-minutes per seed on 2 cores; one torch thread per step, which on "
        "the shared CPU costs a fraction of the CPU time of two): 64² images, generator width `base_channels 16` "
        "(the reference: 64), 8 epochs of the 512 + 512 unpaired training images (batch 1, 4,096 iterations), "
        "ResNet-18 arms 4 epochs at lr 1e-3 (128 optimiser steps; the same settings for both). "
        "Arms: `r2c_gan` = restored test images and R2C-GAN's own joint "
        "classifier; `no_restoration` = the degraded test input itself, classified by a ResNet-18 trained on the "
        "degraded training images; `restored+resnet18` = a ResNet-18 trained on R2C-GAN's restorations of the same "
        "training images, tested on the restored test images. Every metric is on the 128-image held-out test split (64 "
        "normal, 64 COVID-19), which no arm trained on; R2C-GAN's final networks are used (as the reference). PSNR / "
        "SSIM are on [0, 1] intensities against the clean originals; `psnr_<type>` / `ssim_<type>` average the test "
        "images whose degradation mixture contains that type (noise: Gaussian or Poisson, blur: Gaussian or motion; an "
        "image with several types counts in each). `clean_psnr` restores the clean originals and compares them with "
        f"themselves; PSNR is capped at {PSNR_CAP:.0f} dB, so the unchanged input of `no_restoration` reads "
        f"{PSNR_CAP:.0f}. On this balanced split a classifier that calls everything COVID-19 scores accuracy 0.5 and "
        "COVID-19 F1 0.667."
    ),
)
