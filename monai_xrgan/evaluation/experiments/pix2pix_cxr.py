"""Pix2Pix experiment: do synthetic COVID-19 radiographs help a classifier more than the controls that could explain
a gain, and does the generator change its input where the COVID-19 opacities are?

Translation arms, scored on the held-out test pairs (a normal radiograph, the same patient with COVID-19 opacities,
and the phantom's lung/opacity label map):

* ``pix2pix``: the generator's output vs the target (SSIM, PSNR, MAE) and its change ``|output − input|`` vs the
  masks (``lung_change_share``, ``lesion_contrast``, :mod:`monai_xrgan.metrics.lesion`);
* ``identity`` (the floor): the input copied; its change is zero, which scores the documented floor 0;
* ``target``: the true change ``|target − input|`` of the pairs, the ceiling of the two lesion scores.

Classifier arms (one classifier per arm, the same seed, settings and number of optimiser steps, tested on the
held-out classification test set): ``real`` (the real training images), ``real+synthetic`` (plus one pix2pix image
per normal training image needed to balance COVID-19), and the controls ``real+oversampled`` (plus as many repeats
of the real COVID-19 images) and ``real+mislabelled_normals`` (plus the same normal images, untranslated, labelled
COVID-19).

Steps per seed: ``train`` (pix2pix), ``evaluate`` (``evaluate.json`` + ``lesion.json`` on the test pairs),
``generate_test`` (``inference.json``: the test pairs' outputs for the sample grid) and ``augmentation``
(``inference.json`` + ``augmentation.json``: the synthetic images, then the four classifiers).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from monai_xrgan.evaluation import figures
from monai_xrgan.evaluation.report import ClaimSpec, make_row
from monai_xrgan.evaluation.runner import Experiment, SeedRun
from monai_xrgan.utils.errors import MissingInputError

__all__ = ["EXPERIMENT", "CLASSIFIER_ARMS", "TRANSLATION_ARMS"]

CLASS_NAMES = ("normal", "viral_pneumonia", "covid")
COVID = "covid"
CLASSIFIER_ARMS = ("real", "real+synthetic", "real+oversampled", "real+mislabelled_normals")
#: arm -> prefix of its metrics in the evaluate step's metrics.json
TRANSLATION_ARMS = {"pix2pix": "test_", "identity": "test_identity_", "target": "test_target_"}
IMAGE_METRICS = ("ssim", "psnr", "mae")
LESION_METRICS = ("lung_change_share", "lesion_contrast")
#: test pairs in the sample grid
GRID_SAMPLES = 5
#: training curves: losses per iteration, validation metrics per epoch (TensorBoard tags)
CURVES = ("loss_g_gan", "loss_g_l1", "loss_d", "val_ssim", "val_psnr", "val_mae")
#: postfix of the generated images (``inference.json``'s ``SaveXRayd``)
GENERATED_POSTFIX = "covid_synthetic"

#: pix2pix runs at the bundle's demo defaults (64², width 32, 6 epochs, residual generator); smaller classifiers,
#: 24 epochs (288 steps): with 6 (72 steps) the real-only arm's COVID-19 F1 was 0.727 / 0.609 / 0.270 over seeds 0-2
DEFAULTS = (
    "--num_workers", "0", "--classifier_arch", "resnet18", "--classifier_epochs", "24", "--classifier_lr", "0.001",
)  # fmt: skip

NOTES = (
    "Demo-scale settings (about 10 minutes per seed on 2 cores): 64×64 phantom radiographs; pix2pix at the "
    "bundle's demo defaults: residual generator (`tanh(atanh(x) + U(x))`, starts as the identity; not in the "
    "reference), generator and PatchGAN width 32 (instead of 64), batch 1, 6 epochs on 64 training pairs; "
    "classifiers are "
    "ResNet-18 from scratch (the paper's ResNet-50 is `--classifier_arch resnet50`), Adam 1e-3, batch 16, and every "
    "classifier arm takes the same number of optimiser steps (24 epochs × the batches of one pass over the largest "
    "training set). Classification: 140 real training images (64 normal, 64 viral pneumonia, 12 COVID-19); the "
    "augmented arms add 52 COVID-19-labelled images (`real+synthetic`: pix2pix outputs of 52 normal training images; "
    "`real+oversampled`: the 12 real COVID-19 images repeated; `real+mislabelled_normals`: the same 52 normal images "
    "untranslated). Test: 32 images per class (one COVID-19 image moves sensitivity by 3 points). The translation "
    "metrics use the 32 held-out test pairs; `lesion_contrast` is the Michelson contrast of the mean "
    "|output − input| inside the phantom's COVID-19 opacities vs the rest of the lungs, `lung_change_share` the "
    "share of |output − input| inside the lungs; a copy of the input (Δ = 0) gets the floor 0 of both, `target` is "
    "the true "
    "change of the pairs (the ceiling). The generator was trained on 64 pairs whose targets are real (phantom) "
    "COVID-19 images of other patients than the classification set's: the synthetic arm carries information from "
    "64 COVID-19 images that the `real` classifier never sees."
)


def _read_json(path: Path, step: str) -> dict[str, Any]:
    if not path.is_file():
        raise MissingInputError(f"{path}: not written by the {step} step; see its log in logs/{step}.log.")
    return json.loads(path.read_text(encoding="utf-8"))


def _classifier_row(arm: str, seed: int, run: Mapping[str, Any]) -> dict:
    report = run["report"]
    covid = report["per_class"][COVID]
    metrics = {
        "accuracy": report["accuracy"],
        "macro_f1": report["macro_f1"],
        "covid_f1": covid["f1"],
        "covid_sensitivity": covid["sensitivity"],
        "covid_specificity": covid["specificity"],
    }
    details = {"confusion": report["confusion_matrix"], "classes": list(report["class_names"]),
               "steps": run["steps"], "num_train": run["num_train"], "train_counts": run["train_counts"]}  # fmt: skip
    return make_row(arm, seed, metrics, details)


def _run_seed(run: SeedRun) -> list[dict]:
    out = run.path() / "eval"
    run.run("train", ["train.json"], arm="pix2pix", reusable=True)
    run.run("evaluate", ["train.json", "evaluate.json", "lesion.json"], ["--output_dir", out / "test"],
            arm="pix2pix, identity, target")  # fmt: skip
    run.run("generate_test", ["inference.json"], ["--output_dir", out / "generated_test"], arm="pix2pix")
    augmentation = out / "augmentation"
    run.run("augmentation", ["inference.json", "augmentation.json"],
            ["--results_dir", augmentation, "--output_dir", augmentation / "synthetic_covid"],
            arm="classifiers")  # fmt: skip

    measured = _read_json(out / "test" / "metrics.json", "evaluate")["metrics"]
    rows = []
    for arm, prefix in TRANSLATION_ARMS.items():
        names = LESION_METRICS if arm == "target" else (*IMAGE_METRICS, *LESION_METRICS)
        rows.append(make_row(arm, run.seed, {name: measured[prefix + name] for name in names}))
    results = _read_json(augmentation / "augmentation_results.json", "augmentation")
    steps = {arm: results["runs"][arm]["steps"] for arm in CLASSIFIER_ARMS}
    if len(set(steps.values())) != 1:
        raise RuntimeError(f"classifier arms took different numbers of optimiser steps {steps}; check steps_per_epoch.")
    rows += [_classifier_row(arm, run.seed, results["runs"][arm]) for arm in CLASSIFIER_ARMS]
    run.progress("all arms", f"classifiers trained for {steps['real']} steps each")
    return rows


def _grey(path: Path) -> np.ndarray:
    """A demo PNG as a rows-first float array (intensities as stored)."""
    return np.asarray(Image.open(path), dtype=np.float64)


def _translation_grid(run: SeedRun, png: Path) -> Path:
    """Test pairs of one seed: input | pix2pix | target | |pix2pix − input| | |target − input| | opacity mask."""
    datalist = json.loads((run.data_dir / "datalist.json").read_text(encoding="utf-8"))
    generated = run.path() / "eval" / "generated_test"
    names = ("input (normal)", "pix2pix", "target (COVID-19)", "|pix2pix − input|", "|target − input|", "opacity mask")
    columns: dict[str, list[np.ndarray]] = {name: [] for name in names}
    for item in datalist["test"][:GRID_SAMPLES]:
        stem = Path(item["image"]).stem
        found = sorted(generated.rglob(f"{stem}_{GENERATED_POSTFIX}.png"))
        if not found:
            raise MissingInputError(f"{generated}: no {stem}_{GENERATED_POSTFIX}.png; see logs/generate_test.log.")
        image, output = _grey(run.data_dir / item["image"]) / 255.0, _grey(found[0]) / 255.0
        target, mask = _grey(run.data_dir / item["target"]) / 255.0, _grey(run.data_dir / item["mask"])
        for name, value in zip(columns, (image, output, target, np.abs(output - image), np.abs(target - image),
                                         (mask == 2).astype(float) + 0.3 * (mask == 1))):  # fmt: skip
            columns[name].append(value)
    return figures.plot_image_grid(
        columns, png, title=f"held-out test pairs, seed {run.seed} (identity = the input column, |Δ| = 0)"
    )


def _training_set_grid(run: SeedRun, png: Path) -> Path:
    """The COVID-19-labelled images each classifier arm trains on besides the real ones (first seed)."""
    datalist = json.loads((run.data_dir / "datalist.json").read_text(encoding="utf-8"))
    train = datalist["classification_training"]
    covid = [run.data_dir / i["image"] for i in train if i["label"] == CLASS_NAMES.index(COVID)]
    normals = [run.data_dir / i["image"] for i in train if i["label"] == 0]
    synthetic = sorted((run.path() / "eval" / "augmentation" / "synthetic_covid").rglob("*.png"))
    n = GRID_SAMPLES
    columns = {
        "real COVID-19 (all arms)": covid[:n],
        "real+synthetic: pix2pix": synthetic[:n],
        "real+oversampled: repeats": [covid[i % len(covid)] for i in range(len(covid), len(covid) + n)],
        "real+mislabelled_normals": normals[:n],
    }
    return figures.plot_image_grid(
        {name: [_grey(p) for p in paths] for name, paths in columns.items()},
        png,
        title=f"COVID-19-labelled training images per arm, seed {run.seed}",
    )


def _mean_confusions(rows: Sequence[Mapping[str, Any]]) -> dict[str, list[list[float]]]:
    matrices: dict[str, list[np.ndarray]] = {}
    for row in rows:
        if row["arm"] in CLASSIFIER_ARMS:
            matrices.setdefault(row["arm"], []).append(np.asarray(row["details"]["confusion"], dtype=float))
    return {arm: np.mean(ms, axis=0).tolist() for arm, ms in matrices.items()}


def _figures(runs: list[SeedRun], report: dict, report_dir: Path) -> list[Path]:
    written = [
        figures.plot_scalars({f"seed {r.seed}": r.path() / "runs" for r in runs}, report_dir / "training_curves.png",
                             tags=CURVES, title="pix2pix training: losses per iteration, validation per epoch"),
        _translation_grid(runs[0], report_dir / "samples_translation.png"),
        _training_set_grid(runs[0], report_dir / "samples_training_sets.png"),
        figures.plot_confusion(_mean_confusions(report["rows"]), CLASS_NAMES, report_dir / "confusion.png",
                               title="COVID-19 test confusion, mean over seeds (rows: true, columns: predicted)"),
    ]  # fmt: skip
    return [p for p in written if p is not None]


def _claims() -> list[ClaimSpec]:
    claims = [
        ClaimSpec(f"synthetic images raise {metric} over {baseline}", metric, "real+synthetic", baseline)
        for metric in ("covid_f1", "macro_f1")
        for baseline in ("real", "real+oversampled", "real+mislabelled_normals")
    ]
    claims.append(ClaimSpec("pix2pix changes the input inside the COVID-19 opacities more than elsewhere in the lungs",
                            "lesion_contrast", "pix2pix", "identity"))  # fmt: skip
    return claims


EXPERIMENT = Experiment(
    bundle="pix2pix_cxr",
    claims=_claims(),
    run_seed=_run_seed,
    figures=_figures,
    defaults=DEFAULTS,
    notes=NOTES,
)
