"""DiffusionXRay experiment: does the residual conditional DDPM restore LQ radiographs, and does it keep the nodules?

Arms, all scored on held-out data (the demo's ``test`` LQ/HQ pairs, its ``test_drr`` nodule images of the same
phantom and degradation, and the ``test_drr_ood`` DRRs of CTs with inserted nodules, reported on their own; training
uses ``training``, model selection ``validation``):

* ``ddim50``: the trained model (its EMA weights) sampled with DDIM, 50 steps, ``eta`` of the config;
* ``ddpm1000``: the same model sampled with DDPM, 1000 steps (20x the network calls);
* ``lq_input`` (the floor, no restoration): the LQ input scored as is against HQ; its ``nodule_cnr_ratio`` and
  ``nodules_found`` are 1 and its ``seconds_per_image`` 0 by definition;
* stage 1, per seed: DDPM-LQ (``train_lq_ddpm.json``) and MUNIT-LQ (``train_lq_munit.json``) are trained on the
  ``training_drr`` DRRs and write an LQ partner of every HQ image (``data/lq_<generator>_seed<seed>/``). The LQ sets
  ``stage1_ddpm_lq`` and ``stage1_munit_lq`` are scored against held-out rendered LQ images (``*_lq``: the ``lq`` of
  ``test`` and the ``clean`` of ``test_drr``) and held-out real DRRs (``*_drr``: ``test_drr_ood``) with ``fd_*``
  (Fréchet distance of the features of a ResNet-18 trained from scratch on the first half of the training split to
  tell HQ, rendered LQ and real DRRs apart), ``hist_*`` (:func:`~monai_xrgan.metrics.histogram_distance`) and
  ``psd_*`` (:func:`~monai_xrgan.metrics.power_spectrum_distance`); every scored set is built from the second half, so
  the feature network saw none of its images. Floors: ``stage1_rendered_lq`` (the rendered LQ of those training
  patients) and ``stage1_real_drr`` (other real DRRs); control: ``stage1_hq`` (the HQ images, no degradation);
* ``ddim50_on_ddpm_lq`` / ``ddim50_on_munit_lq``: stage 2 trained (same settings as ``ddim50``) on each stage-1 pair
  set and scored like ``ddim50`` on the same rendered test pairs and nodule sets.

Metrics: ``psnr``, ``ssim``, ``ms_ssim`` of restored vs HQ on the test pairs; ``nodule_cnr`` (mean over the nodule
images of the CNR at the known nodule position) and ``nodule_cnr_ratio`` = mean CNR after restoration / mean CNR of the
input (a ratio of means: per-nodule CNRs of the input can be near 0); ``nodules_found``: the fraction of the nodules
that keep at least half of their input matched-filter signal (:mod:`monai_xrgan.metrics.nodules`; each nodule image is
compared with the same patient's image without the nodule, restored the same way); ``ood_*``: the same on the
out-of-distribution DRRs; ``seconds_per_image``: sampling time per nodule image (CPU time on a CPU); ``ddim_speedup``
(on ``ddim50``): DDPM-1000 seconds per image / DDIM-50's. With ``--reuse``, the evaluations of a reused model are
reused.
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
from monai_xrgan.metrics.feature_distance import classifier_outputs, frechet_distance
from monai_xrgan.metrics.image_statistics import histogram_distance, power_spectrum_distance
from monai_xrgan.metrics.nodules import FOUND_FRACTION, matched_filter_signal, nodules_found
from monai_xrgan.transforms.xray import XRayPreprocessd
from monai_xrgan.utils.errors import ConfigError, MissingInputError
from monai_xrgan.workflows.classifier import train_classifier

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
#: the stage-1 generators and their configs (merged over train.json)
STAGE_ONE = {"ddpm": "train_lq_ddpm.json", "munit": "train_lq_munit.json"}
#: MUNIT trains max_epochs // this many epochs (batch 1: an epoch is 4x the iterations of the restoration's batch 4)
MUNIT_EPOCH_DIVISOR = 6
#: the feature network of the FID-style distance (:func:`~monai_xrgan.workflows.train_classifier`)
CLASSIFIER_SETTINGS = {"arch": "resnet18", "widen_factor": 0.5, "epochs": 20, "batch_size": 8, "lr": 1e-3,
                       "num_workers": 0, "augment": False, "device": "cpu"}  # fmt: skip


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


def input_signals(run: SeedRun) -> dict[str, np.ndarray]:
    """Matched-filter signal of every scored nodule of both nodule sets in the input pairs."""
    return {name: _signals(run, split, None) for name, (split, _) in NODULE_SETS.items()}


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


def _done_before(run: SeedRun, step: str) -> bool:
    """Whether ``--reuse`` will skip ``step`` (it succeeded before): the evaluations of a reused model are reused."""
    return run.reuse and (run.root / "logs" / f"{step}.done").is_file()


def _evaluate(run: SeedRun, arm: str, sampler: str, steps: int, tag: str, inputs: dict[str, np.ndarray],
              reusable: bool) -> tuple[dict, dict, dict, dict]:  # fmt: skip
    """Evaluate the model of ``tag`` with ``sampler``: ``(metrics, details, pair metrics, nodule metrics)``."""
    out = run.path(tag) / "eval" / arm
    overrides = ["--sampler", sampler, "--num_inference_steps", str(steps), "--output_dir", str(out)]
    run.run(f"evaluate_{arm}", ["train.json", "evaluate.json"], overrides, tag=tag, arm=arm, reusable=reusable)
    pairs = _read(out / "metrics.json")
    metrics = {"psnr": pairs["test_psnr"], "ssim": pairs["test_ssim"], "ms_ssim": pairs["test_ms_ssim"]}
    details: dict[str, Any] = {}
    nodules = {}
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
    metrics["seconds_per_image"] = nodules[""]["drr_seconds_per_image"]
    run.progress(arm, ", ".join(f"{k} {v:.3f}" for k, v in metrics.items()))
    return metrics, details, pairs, nodules


def _stage_one_overrides(run: SeedRun, generator: str) -> list[str]:
    """Per-seed pair set name, and the demo budget of ``generator``: DDPM-LQ follows every ``network_def`` override
    (its U-Net is the restoration U-Net with one input channel), MUNIT gets 1/:data:`MUNIT_EPOCH_DIVISOR` of the
    epochs (batch 1: 4x the iterations of an epoch of batch 4)."""
    overrides = ["--lq_pairs", _pair_set(run, generator)]
    if generator == "ddpm":
        given = [*DEFAULTS, *run.overrides]
        for key, value in zip(given[:-1], given[1:]):
            if key.startswith("--network_def#") and not key.endswith("#in_channels"):
                overrides += [f"--lq_{key[2:]}", value]
    else:
        overrides += ["--max_epochs", str(max(1, _option(run, "max_epochs", 30) // MUNIT_EPOCH_DIVISOR))]
    return overrides


def _pair_set(run: SeedRun, generator: str) -> str:
    """Name of the LQ/HQ pair set that stage 1 ``generator`` writes for this seed (``data/<name>/``)."""
    return f"lq_{generator}_seed{run.seed}"


def run_seed(run: SeedRun) -> list[dict]:
    """Train the restoration model for this seed, evaluate it with both samplers; train both stage-1 generators,
    score their LQ partners against held-out LQ images and DRRs, train stage 2 on each pair set and evaluate it."""
    reuse_evaluations = _done_before(run, "train")
    run.run("train", ["train.json"], arm="training", reusable=True)
    rows, seconds, pairs, nodules = [], {}, {}, {}
    inputs = input_signals(run)
    for arm, (sampler, steps) in SAMPLERS.items():
        metrics, details, pairs, nodules = _evaluate(run, arm, sampler, steps, "main", inputs, reuse_evaluations)
        seconds[arm] = metrics["seconds_per_image"]
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
    rows.append(make_row(FLOOR, run.seed, floor))
    datalists = run_stage_one(run)
    return [*rows, *_stage_one_rows(run, datalists), *restore_on_stage_one(run, datalists, inputs)]


def run_stage_one(run: SeedRun) -> dict[str, Path]:
    """Train both stage-1 generators of this seed and let each write its pair set; return their datalists."""
    datalists = {}
    for generator, config in STAGE_ONE.items():
        run.run(f"stage1_{generator}", ["train.json", config], _stage_one_overrides(run, generator),
                tag=f"stage1_{generator}", arm=f"stage1_{generator}_lq", reusable=True)  # fmt: skip
        datalists[generator] = run.data_dir / f"datalist_{_pair_set(run, generator)}.json"
    return datalists


def restore_on_stage_one(run: SeedRun, datalists: dict[str, Path], inputs: dict[str, np.ndarray]) -> list[dict]:
    """Train stage 2 on every stage-1 pair set (the settings of the main arm) and score it with DDIM-50."""
    rows = []
    for generator, datalist in datalists.items():
        tag, step, arm = f"restore_{generator}", f"train_on_{generator}_lq", f"ddim50_on_{generator}_lq"
        reuse_evaluation = _done_before(run, step)
        run.run(step, ["train.json", "train_restore.json"], ["--datalist", str(datalist), "--lq_generator", generator],
                tag=tag, arm=arm, reusable=True)  # fmt: skip
        metrics, details, *_ = _evaluate(run, arm, *SAMPLERS["ddim50"], tag, inputs, reuse_evaluation)
        rows.append(make_row(arm, run.seed, metrics, details))
    return rows


def _load_images(run: SeedRun, paths: list[str]) -> torch.Tensor:
    """The images at ``paths`` (relative to the data folder) at model size, ``(N, 1, X, Y)`` in ``[-1, 1]``."""
    load = XRayPreprocessd(keys="image", spatial_size=_model_size(run), keep_dicom_tags=False)
    return torch.stack([torch.as_tensor(load({"image": str(run.data_dir / p)})["image"]) for p in paths]).float()


def _stage_one_rows(run: SeedRun, datalists: dict[str, Path]) -> list[dict]:
    """How close every LQ set is to the held-out LQ renderings (``*_lq``) and to held-out real DRRs (``*_drr``).

    The feature network is a ResNet-18 trained from scratch for this seed on the first half of the training split
    (classes: HQ, rendered LQ, real DRR); every scored set holds the other half, so no scored image was seen by it.
    """
    content = json.loads((run.data_dir / "datalist.json").read_text(encoding="utf-8"))
    train, drr = content["training"], content["training_drr"]
    half = min(len(train), len(drr)) // 2
    if half < 2:
        raise ConfigError(
            f"the stage-1 distances need >= 4 `training` pairs and >= 4 `training_drr` images, got {len(train)} and "
            f"{len(drr)}; make the demo data with more (num_train, num_train_drr)."
        )
    classes = [[item["hq"] for item in train[:half]], [item["lq"] for item in train[:half]],
               [item["image"] for item in drr[:half]]]  # fmt: skip
    items = [{"image": str(run.data_dir / p), "label": label} for label, paths in enumerate(classes) for p in paths]
    classifier = train_classifier(items, len(classes), image_size=_model_size(run), seed=run.seed,
                                  **CLASSIFIER_SETTINGS)  # fmt: skip
    references = {
        "lq": [item["lq"] for item in content["test"]] + [item["clean"] for item in content["test_drr"]],
        "drr": [item[k] for item in content["test_drr_ood"] for k in ("clean", "image")],
    }
    candidates = {
        "stage1_rendered_lq": [item["lq"] for item in train[half : 2 * half]],
        "stage1_real_drr": [item["image"] for item in drr[half : 2 * half]],
        "stage1_hq": [item["hq"] for item in train[half : 2 * half]],
    }
    for generator, datalist in datalists.items():
        if not datalist.is_file():
            raise MissingInputError(f"{datalist}: not written by stage 1 ({generator}); see its log in logs/.")
        pairs = json.loads(datalist.read_text(encoding="utf-8"))["training"]
        candidates[f"stage1_{generator}_lq"] = [item["lq"] for item in pairs[half : 2 * half]]
    reference_images = {name: _load_images(run, paths) for name, paths in references.items()}
    reference_features = {name: classifier_outputs(classifier, x)[1] for name, x in reference_images.items()}
    rows = []
    for arm, paths in candidates.items():
        images = _load_images(run, paths)
        features = classifier_outputs(classifier, images)[1]
        metrics = {}
        for name, reference in reference_images.items():
            metrics[f"fd_{name}"] = frechet_distance(features, reference_features[name])
            metrics[f"hist_{name}"] = histogram_distance(images, reference)
            metrics[f"psd_{name}"] = power_spectrum_distance(images, reference)
        run.progress(arm, ", ".join(f"{k} {v:.3f}" for k, v in metrics.items()))
        rows.append(make_row(arm, run.seed, metrics))
    return rows


def _restored(folder: Path, data_dir: Path, source: str) -> np.ndarray:
    """The evaluate step's restoration at model size (``(x, y)``, [-1, 1]) of ``source`` (relative to
    ``data_dir``), written by ``evaluate.json``'s ``save_restored`` under the same relative folder."""
    relative = Path(source)
    path = folder / "restored_at_model_size" / relative.parent / f"{relative.name.split('.')[0]}_restored.nii.gz"
    if not path.is_file():
        raise MissingInputError(f"{path}: not written by the evaluate step; see the step's log in logs/.")
    return np.asarray(LoadImage(image_only=True)(str(path)))


#: the restoration arms drawn in the sample grids: arm -> run tag of its model
GRID_ARMS = {**{arm: "main" for arm in SAMPLERS}, **{f"ddim50_on_{g}_lq": f"restore_{g}" for g in STAGE_ONE}}


def _grid(run: SeedRun, split: str, keys: dict[str, str], png: Path, title: str) -> Path:
    """Sample grid of ``split``: the ``keys`` columns ({title: datalist key}) around one column per restoration arm."""
    items = json.loads((run.data_dir / "datalist.json").read_text(encoding="utf-8"))[split]
    items = items[: _option(run, "num_eval_items", len(items))]
    picks = [items[i] for i in np.linspace(0, len(items) - 1, min(GRID_SAMPLES, len(items))).round().astype(int)]
    load = XRayPreprocessd(keys=list(keys.values()), spatial_size=_model_size(run))
    first, *rest = keys.items()
    columns: dict[str, list[np.ndarray]] = {first[0]: []}
    columns.update({f"{arm} (seed {run.seed})": [] for arm in GRID_ARMS})
    columns.update({name: [] for name, _ in rest})
    for item in picks:
        images = load({k: str(run.data_dir / item[k]) for k in keys.values()})
        columns[first[0]].append(images[first[1]][0].numpy())
        for arm, tag in GRID_ARMS.items():
            folder = run.path(tag) / "eval" / arm
            columns[f"{arm} (seed {run.seed})"].append(_restored(folder, run.data_dir, item[first[1]]))
        for name, key in rest:
            columns[name].append(images[key][0].numpy())
    return figures.plot_image_grid(columns, png, rows_first=False, title=title)


def _stage_one_grid(run: SeedRun, png: Path) -> Path:
    """Training HQ images, the LQ partner each stage-1 generator wrote for them, their rendered LQ, real DRRs."""
    content = json.loads((run.data_dir / "datalist.json").read_text(encoding="utf-8"))
    count = min(GRID_SAMPLES, len(content["training"]), len(content["training_drr"]))
    columns = {"HQ (training)": [item["hq"] for item in content["training"][:count]]}
    for generator in STAGE_ONE:
        datalist = run.data_dir / f"datalist_{_pair_set(run, generator)}.json"
        pairs = json.loads(datalist.read_text(encoding="utf-8"))["training"][:count]
        columns[f"stage1_{generator}_lq (seed {run.seed})"] = [item["lq"] for item in pairs]
    columns["rendered LQ"] = [item["lq"] for item in content["training"][:count]]
    columns["real DRR (other patients)"] = [item["image"] for item in content["training_drr"][:count]]
    images = {name: [x[0].numpy() for x in _load_images(run, paths)] for name, paths in columns.items()}
    return figures.plot_image_grid(images, png, rows_first=False, title="stage 1: LQ partners of training HQ images")


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
    written.append(_grid(runs[0], "test", {"LQ (lq_input)": "lq", "HQ": "hq"},
                         report_dir / "samples_lq_restored_hq.png",
                         "held-out test pairs: LQ | restored | HQ"))  # fmt: skip
    written.append(
        _grid(
            runs[0],
            "test_drr",
            {"LQ with nodule": "image", "HQ": "hq", "LQ without it": "clean"},
            report_dir / "samples_drr_restored.png",
            "held-out nodule images (same phantom as training)",
        )
    )
    written.append(
        _grid(
            runs[0],
            "test_drr_ood",
            {"DRR with nodule": "image", "DRR without it": "clean"},
            report_dir / "samples_drr_ood_restored.png",
            "out of distribution: CT DRRs with a nodule",
        )
    )
    written.append(_stage_one_grid(runs[0], report_dir / "samples_stage1_lq.png"))
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
    for generator, name in (("ddpm", "DDPM-LQ"), ("munit", "MUNIT-LQ")):
        claims += [
            ClaimSpec(f"stage 1 {name}: its LQ partners are closer to held-out real DRRs than the HQ images are "
                      f"({what})", metric, f"stage1_{generator}_lq", "stage1_hq", higher_is_better=False)
            for metric, what in (("fd_drr", "FID-style"), ("psd_drr", "power spectrum"))
        ]  # fmt: skip
        claims.append(ClaimSpec(f"stage 2 trained on {name} pairs restores: beats the LQ input on PSNR", "psnr",
                                f"ddim50_on_{generator}_lq", FLOOR))  # fmt: skip
    return claims


NOTES = f"""\
Demo-scale settings, sized so that one seed fits the demo budget on 2 CPU cores: the demo data and the model at the
bundle's 32 px (32 training and 4 validation LQ/HQ pairs rendered at 64 px and area-averaged to 32 px; the LQ partner
blurred by a 7.5 mm Gaussian, no quantum noise, flatter contrast; findings alternate between normal and a 15-30 mm
nodule), the default 1.1 M-parameter U-Net diffusing the residual HQ - LQ and predicting it (`prediction_type`
sample), EMA of the weights (decay 0.98), 30 epochs of batch 4 (240 iterations; DDPM papers train 10^5-10^6); DDIM-50
validation of the EMA weights every 10 epochs selects `models/model.pt` by SSIM. Every arm is scored on the same first
{NUM_EVAL_ITEMS} held-out test pairs, first {NUM_EVAL_ITEMS} held-out nodule images of the same phantom (`test_drr`)
and first {NUM_EVAL_ITEMS} DRRs of phantom CTs with an inserted nodule (`test_drr_ood`, out of distribution: `ood_*`
metrics, no claim) (`--num_eval_items`). Arms: `ddim50` and `ddpm1000` sample that one model (DDIM 50 steps with eta
0, DDPM 1000 steps); `lq_input` is the floor, the LQ input scored as is (`nodule_cnr_ratio` and `nodules_found` 1,
`seconds_per_image` 0 by definition). `psnr`, `ssim`, `ms_ssim`: restored vs HQ on [0, 1] intensities (MS-SSIM at 32
px uses the first 2 of the 5 standard scale weights, renormalised to sum 1). `nodule_cnr`: mean CNR at the known
nodule positions after restoration (for `lq_input`, of the input); `nodule_cnr_ratio`: that mean / the inputs' mean.
`nodules_found`: fraction of the nodules whose matched-filter signal (difference of Gaussians at the nodule's size, on
the image with the nodule minus the same patient's image without it, both restored alike) keeps at least
{FOUND_FRACTION:g} of its value in the input pair. `seconds_per_image`: sampling time per nodule image
(batch 8): the process's CPU time on a CPU (synchronised wall-clock on a GPU), so that other jobs on the machine do not
change the DDPM/DDIM ratio (`ddim_speedup`) of two evaluations run at different times.

Stage 1, per seed, on the 32 `training_drr` DRRs of phantom CTs (another phantom than the pairs): DDPM-LQ (the same
U-Net with one input channel, x0-prediction, Adam 1e-3, EMA 0.98, the same 30 epochs = 240 iterations; SDEdit from
each HQ image at strength 0.3 with DDIM 50 steps) and MUNIT-LQ (width 32, 30 // {MUNIT_EPOCH_DIVISOR} = 5 epochs of
batch 1 = 160 iterations; one random DRR style per image) write LQ partners of the training HQ images. Rows `stage1_*`
score LQ sets of the second half of the training split (16 images each) against 16 held-out rendered LQ images
(`*_lq`: the `lq` of `test` and the `clean` of `test_drr`) and 16 held-out real DRRs (`*_drr`: both images of each
`test_drr_ood` item): `fd_*` Fréchet distance of the penultimate features of a ResNet-18 (width 0.5, 20 epochs from
scratch) trained for the seed on the first half of the training split to tell HQ, rendered LQ and real DRR apart;
`hist_*` Wasserstein-1 distance of the pooled grey levels on [-1, 1]; `psd_*` RMS difference of the log10 radially
averaged power spectra (decades). `stage1_rendered_lq` and `stage1_real_drr` are the floors (real images of the
reference's domain, other patients), `stage1_hq` the control (no degradation). `ddim50_on_<generator>_lq`: stage 2
with the settings of `ddim50` trained on that generator's pairs (model selection on its own validation pairs) and
scored, like `ddim50`, on the rendered test pairs and both nodule sets."""

EXPERIMENT = Experiment(
    bundle="diffusionxray_drr",
    claims=_claims(),
    run_seed=run_seed,
    figures=make_figures,
    defaults=DEFAULTS,
    notes=NOTES,
)
