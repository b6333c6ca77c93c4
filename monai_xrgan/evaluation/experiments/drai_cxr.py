"""DRAI experiment: does a model with a content and a style latent disentangle them better, and generate the
requested class more often, than the one-latent ablation and than untrained networks?

Arms, each scored by ``evaluate.json`` on the held-out demo test set:

* ``two_latents``: DRAI as trained by ``train.json`` (``z_c`` and ``z_s``);
* ``one_latent``: the ablation ``--two_latents False`` (one code ``z`` of the same total size);
* ``untrained`` (the floor): the two-latent networks at their seeded initialisation (``--untrained True``);
* ``real`` (the reference of the generation metrics): real images instead of generated ones, i.e. the classifier's
  accuracy on the real test images (``condition_accuracy``, the ceiling) and the FID-style distance of real training
  images to the real test images (``fid``, the floor at this sample size).

Every arm's codes are scored the same way (:mod:`monai_xrgan.metrics.disentanglement`): the encoder's ``[z_c, z_s]``
without its class logits, cut at ``content_dim`` (the one-latent code into parts of the two-latent sizes). One
ResNet-18 per seed, trained on the real training images by the ``two_latents`` evaluation, reads the generated
images of every arm (``--classifier_ckpt``).

Steps per seed: ``train_two_latents``, ``train_one_latent`` (``train.json``), then ``evaluate_<arm>``
(``train.json`` + ``evaluate.json``) for the three model arms.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from monai_xrgan.evaluation import figures
from monai_xrgan.evaluation.report import ClaimSpec, make_row
from monai_xrgan.evaluation.runner import Experiment, SeedRun
from monai_xrgan.utils.errors import MissingInputError

__all__ = ["EXPERIMENT", "ARMS", "METRICS"]

#: model arm -> its overrides of train.json and evaluate.json (``untrained`` is not trained)
ARMS = {
    "two_latents": ("--two_latents", "True"),
    "one_latent": ("--two_latents", "False"),
    "untrained": ("--two_latents", "True", "--untrained", "True"),
}
TRAINED = ("two_latents", "one_latent")
#: the metrics of a model arm's row (names in evaluate.json's metrics.json)
METRICS = ("disentanglement", "disentanglement_class", "disentanglement_style", "condition_accuracy", "fid")
#: training curves: losses per iteration, the validation metric per epoch (TensorBoard tags)
CURVES = ("loss_d", "loss_g", "loss_adv", "loss_cls_real", "loss_latent", "val_recon_ssim")

DEFAULTS = ("--base_channels", "16", "--max_epochs", "20", "--num_workers", "0", "--classifier_epochs", "8")

NOTES = (
    "Demo-scale settings (to fit ~5 CPU-minutes per seed on 2 cores): 64×64 phantom radiographs, 96 training, 8 "
    "validation and 32 test images per class (normal, viral pneumonia, COVID-19); networks of width 16 "
    "(`--base_channels 16`, the bundle's default is 32), `z_c` 16 and `z_s` 16 (the one-latent code has 32 values), "
    "20 epochs (180 "
    "iterations of batch 32; the card's default is 100); the best epoch by validation reconstruction SSIM is scored. "
    "`disentanglement` = mean of `disentanglement_class` (rescaled linear-probe class accuracy from the content part "
    "minus that from the style part) and `disentanglement_style` (mean clipped R² of linear probes for the 9 known "
    "style factors from the style part minus that from the content part); probes are fitted on the 288 training "
    "images' codes and scored on the 96 test images. Every model's code `[z_c, z_s]` is cut into a content part of 16 "
    "and a style part of 16 values, the one-latent code `z` too, and the encoder's class logits are not part of the "
    "code. `condition_accuracy` and `fid` (Fréchet distance of penultimate-layer features) read 96 generated images "
    "(32 per class) with a ResNet-18 trained on the real training images (8 epochs, one per seed, shared by the arms); "
    "the `real` row gives the same classifier's accuracy on the real test images and the distance of 96 real "
    "training images to the test images."
)


def _metrics_record(out: Path, step: str) -> dict[str, Any]:
    path = out / "eval" / "metrics.json"
    if not path.is_file():
        raise MissingInputError(f"{path}: not written by the {step} step; see its log in logs/{step}.log.")
    return json.loads(path.read_text(encoding="utf-8"))


def _run_seed(run: SeedRun) -> list[dict]:
    rows: list[dict] = []
    classifier: list[str] = []
    for arm, overrides in ARMS.items():
        if arm in TRAINED:
            run.run(f"train_{arm}", ["train.json"], overrides, tag=arm, arm=arm, reusable=True)
        step = f"evaluate_{arm}"
        out = run.run(step, ["train.json", "evaluate.json"], [*overrides, *classifier], tag=arm, arm=arm)
        record = _metrics_record(out, step)
        condition = record["condition_report"]
        details = {"confusion": condition["confusion_matrix"], "classes": condition["class_names"],
                   "disentanglement": record["disentanglement"]}  # fmt: skip
        rows.append(make_row(arm, run.seed, {m: record["metrics"][m] for m in METRICS}, details))
        classifier = classifier or ["--classifier_ckpt", str(out / "eval" / "classifier.pt")]
    # the same classifier read every arm: its real-image references are those of the last record
    real = {"condition_accuracy": record["metrics"]["real_test_accuracy"], "fid": record["metrics"]["fid_real"]}
    return [*rows, make_row("real", run.seed, real)]


def _read_png(path: Path) -> np.ndarray:
    return np.asarray(Image.open(path), dtype=float)


def _figures(runs: Sequence[SeedRun], report: dict, report_dir: Path) -> list[Path]:
    written = []
    logs = {f"{arm}, seed {run.seed}": run.path(arm) / "runs" for run in runs for arm in TRAINED}
    curves = figures.plot_scalars(logs, report_dir / "training_curves.png", tags=CURVES,
                                  title="DRAI training: losses per iteration, validation SSIM per epoch")  # fmt: skip
    written += [curves] if curves else []
    first = runs[0]
    classes = next(r["details"]["classes"] for r in report["rows"] if r["arm"] in ARMS)
    for arm in ARMS:
        generated = first.path(arm) / "eval" / "generated"
        columns = {name: [_read_png(p) for p in sorted(generated.glob(f"{name}_*.png"))] for name in classes}
        title = f"{arm}: generated per condition (seed {first.seed}; same latent codes along each row)"
        written.append(figures.plot_image_grid(columns, report_dir / f"samples_{arm}.png", title=title))
    matrices = {}
    for arm in ARMS:
        per_seed = [np.asarray(r["details"]["confusion"], dtype=float) for r in report["rows"] if r["arm"] == arm]
        matrices[arm] = np.mean(per_seed, axis=0).tolist()
    written.append(figures.plot_confusion(matrices, classes, report_dir / "condition_confusion.png",
                                          title="generated images: condition (rows) vs the real-image classifier "
                                                f"(columns), mean over {len(runs)} seed(s)"))  # fmt: skip
    return written


EXPERIMENT = Experiment(
    bundle="drai_cxr",
    claims=[
        ClaimSpec(
            "two latents disentangle content and style better than one latent",
            "disentanglement",
            "two_latents",
            "one_latent",
        ),
        ClaimSpec(
            "two latents disentangle better than untrained networks (the floor)",
            "disentanglement",
            "two_latents",
            "untrained",
        ),
        ClaimSpec(
            "two latents generate the requested class more often than one latent",
            "condition_accuracy",
            "two_latents",
            "one_latent",
        ),
        ClaimSpec(
            "two latents generate the requested class more often than untrained networks",
            "condition_accuracy",
            "two_latents",
            "untrained",
        ),
    ],
    run_seed=_run_seed,
    figures=_figures,
    defaults=DEFAULTS,
    notes=NOTES,
)
