"""MI-GAN's experiment: GAN-train / GAN-test of MI-GAN against plain StarGAN and the identity (the floor), and a
mild COVID-19 classifier trained on real slices with and without MI-GAN's translations into mild COVID-19.

Per seed: MI-GAN (``--key_branch True``) and StarGAN (``--key_branch False``) are trained with ``train.json``, then
``evaluate.json`` scores each of them and the identity (``--identity_generator True``) on the real training and
test slices of the demo data (:func:`monai_xrgan.workflows.translation.evaluate_translation`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from monai_xrgan.evaluation import figures
from monai_xrgan.evaluation.report import ClaimSpec, make_row
from monai_xrgan.evaluation.runner import Experiment, SeedRun
from monai_xrgan.workflows.translation import METRICS_JSON, SAMPLES_NPZ

__all__ = ["EXPERIMENT", "GENERATOR_ARMS"]

#: generator arms: ``(arm, trained with train.json?, evaluate.json overrides)``
GENERATOR_ARMS = (
    ("migan", True, ("--key_branch", "True")),
    ("stargan", True, ("--key_branch", "False")),
    ("identity", False, ("--identity_generator", "True")),
)
#: the key-domain scores of a classifier arm, by the name of the ``augmentation`` entry of metrics.json
_KEY_SCORES = {"sensitivity": "key_sensitivity", "specificity": "key_specificity", "auc": "key_auc"}
#: training curves of the report (TensorBoard tags written by train.json)
_CURVES = ("loss_d", "loss_g", "loss_g_cls", "loss_g_rec", "val_translation_acc", "val_cycle_ssim")

#: train.json's demo budget (64², 8-channel networks, 100 epochs) as it is, with one thread per step and a half-width
#: classifier trained for 8 epochs
DEFAULTS = ("--num_workers", "0", "--num_threads", "1", "--classifier_widen_factor", "0.5", "--classifier_epochs", "8")

NOTES = """\
Demo settings: `train.json` as it is — 64³ CT phantoms (one axial slice every 12.5 mm through the lungs; of a patient
with a finding only the slices where it covers ≥ 5 % of the lung; training 4 normal, 4 viral pneumonia and 2 mild
COVID-19 patients = 76 / 75 / 9 slices, test 3 patients per domain = 59 / 57 / 17 slices, all patients distinct), 64²
slices, generator and critic with 8 base channels (3 residual blocks, 5 critic layers), residual output for every
target domain, batch 16, 100 epochs = 1,000 iterations (200 generator steps, n_critic 5) at learning rate 3e-4 (the
reference: 1e-4), the final networks (`model_selection: last`, as the reference) — and every evaluation classifier
a half-width ResNet-18 trained from scratch with the run's seed for the same number of optimiser steps (8 epochs of
one pass over the augmented set). `migan`: MI-GAN (key branch and its terms on);
`stargan`: the same training with `--key_branch False`; `identity`: a generator that returns its input (the floor);
`real`: the ceiling, a classifier trained and tested on real slices (its `gan_train` and `gan_test` are that
real→real accuracy). GAN-train trains on every real training slice translated into **every** domain, its own
included, and tests on the real test slices; GAN-test trains on the real training slices and tests on every real test
slice translated into every domain, so the identity's GAN-test is exactly 1/3 (chance). `real+<generator>`: trained
on the real slices plus that generator's translations into mild COVID-19 of normal and viral pneumonia training
slices (as many as bring mild COVID-19 level with the largest domain); `real+identity` is the control of unchanged
slices labelled mild COVID-19. `key_*`: mild COVID-19 against the rest on the real test slices. Confusion matrices:
figures (summed over seeds) and row details (per seed)."""


def _read_metrics(folder: Path) -> dict[str, Any]:
    return json.loads((folder / "eval" / METRICS_JSON).read_text(encoding="utf-8"))


def _classifier_metrics(run: Mapping[str, Any]) -> dict[str, float]:
    metrics = {"accuracy": run["accuracy"], **{name: run[key] for key, name in _KEY_SCORES.items()}}
    return {name: value for name, value in metrics.items() if value is not None}


def rows_from_metrics(seed: int, results: Mapping[str, Mapping[str, Any]]) -> list[dict]:
    """Report rows of one seed from the ``metrics.json`` of each generator arm (``{arm: metrics}``): the generator
    arms' GAN-train / GAN-test, the real-only classifier (``real``, from the first arm) and every ``real+<arm>``."""
    rows = []
    for arm, metrics in results.items():
        reports = metrics["reports"]
        details = {
            "classes": metrics["domains"],
            "gan_train_confusion": reports["gan_train"]["confusion_matrix"],
            "gan_test_confusion": reports["gan_test"]["confusion_matrix"],
        }
        rows.append(make_row(arm, seed, {"gan_train": metrics["gan_train"], "gan_test": metrics["gan_test"]}, details))
    first = next(iter(results.values()))
    real = first["augmentation"]["real"]
    ceiling = {"gan_train": first["real_accuracy"], "gan_test": first["real_accuracy"], **_classifier_metrics(real)}
    classes = {"classes": first["domains"]}
    rows.append(make_row("real", seed, ceiling, {**classes, "confusion": real["confusion_matrix"]}))
    for arm, metrics in results.items():
        augmented = metrics["augmentation"]["real+synthetic"]
        details = {**classes, "confusion": augmented["confusion_matrix"]}
        rows.append(make_row(f"real+{arm}", seed, _classifier_metrics(augmented), details))
    return rows


def run_seed(run: SeedRun) -> list[dict]:
    """Train MI-GAN and StarGAN, evaluate them and the identity; the rows of this seed."""
    results = {}
    for arm, trained, overrides in GENERATOR_ARMS:
        if trained:
            run.run(f"train_{arm}", ["train.json"], overrides, tag=arm, arm=arm, reusable=True)
        folder = run.run(f"evaluate_{arm}", ["train.json", "evaluate.json"], overrides, tag=arm, arm=arm)
        results[arm] = _read_metrics(folder)
    return rows_from_metrics(run.seed, results)


def _summed(rows: Sequence[Mapping], arms: Sequence[str], key: str) -> dict[str, np.ndarray]:
    matrices: dict[str, np.ndarray] = {}
    for row in rows:
        if row["arm"] in arms and key in row.get("details", {}):
            matrix = np.asarray(row["details"][key], dtype=float)
            matrices[row["arm"]] = matrices.get(row["arm"], 0) + matrix
    return {arm: matrices[arm] for arm in arms if arm in matrices}


def make_figures(runs: list[SeedRun], report: dict, report_dir: Path) -> list[Path]:
    """Training curves of MI-GAN and StarGAN (every seed), the sample grid of each generator arm (first seed) and
    the confusion matrices summed over seeds."""
    trained = [arm for arm, is_trained, _ in GENERATOR_ARMS if is_trained]
    logs = {f"{arm} seed {run.seed}": run.path(arm) / "runs" for run in runs for arm in trained}
    written = [figures.plot_scalars(logs, report_dir / "training_curves.png", tags=_CURVES)]
    for arm, _, _ in GENERATOR_ARMS:
        samples = np.load(runs[0].path(arm) / "eval" / SAMPLES_NPZ)
        columns = {"source": list(samples["source"])}
        columns.update(
            {name.replace("_", " "): list(samples[name]) for name in samples.files if name.startswith("to_")}
        )
        title = f"{arm} (seed {runs[0].seed}): test slice | translated into each domain"
        written.append(
            figures.plot_image_grid(columns, report_dir / f"samples_{arm}.png", rows_first=False, title=title)
        )
    rows = report["rows"]
    classes = next(r["details"]["classes"] for r in rows if "classes" in r.get("details", {}))
    generators = [arm for arm, _, _ in GENERATOR_ARMS]
    classifiers = ["real", *(f"real+{arm}" for arm in generators)]
    for name, arms, key, what in (
        ("confusion_gan_train.png", generators, "gan_train_confusion",
         "GAN-train: trained on translations, tested on real"),
        ("confusion_gan_test.png", generators, "gan_test_confusion",
         "GAN-test: trained on real, tested on translations"),
        ("confusion_augmentation.png", classifiers, "confusion", "classifiers tested on real slices"),
    ):  # fmt: skip
        title = f"{what} (rows: true, columns: predicted; summed over seeds)"
        written.append(figures.plot_confusion(_summed(rows, arms, key), classes, report_dir / name, title=title))
    return [path for path in written if path is not None]


EXPERIMENT = Experiment(
    bundle="migan_ct",
    claims=[
        ClaimSpec(
            "MI-GAN's translations teach a classifier the domains better than copies", "gan_train", "migan", "identity"
        ),
        ClaimSpec(
            "MI-GAN's translations look more like their target domain than copies", "gan_test", "migan", "identity"
        ),
        ClaimSpec("the key branch raises GAN-train over plain StarGAN", "gan_train", "migan", "stargan"),
        ClaimSpec("the key branch raises GAN-test over plain StarGAN", "gan_test", "migan", "stargan"),
        ClaimSpec("MI-GAN augmentation raises mild COVID-19 sensitivity", "key_sensitivity", "real+migan", "real"),
        ClaimSpec("MI-GAN augmentation raises mild COVID-19 AUC", "key_auc", "real+migan", "real"),
    ],  # fmt: skip
    run_seed=run_seed,
    figures=make_figures,
    defaults=DEFAULTS,
    notes=NOTES,
)
