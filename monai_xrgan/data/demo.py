"""Write deterministic demo datasets (synthetic chest radiographs) with a MONAI Decathlon-style datalist.

``python -m monai_xrgan.data.demo --task pix2pix --out DIR`` writes the images under ``DIR`` and
``DIR/datalist.json`` (paths relative to ``DIR``). Bundles call :func:`ensure_demo_data`, which generates the demo
data on first use and otherwise leaves a user's dataset alone.

Tasks live in a registry (:data:`TASKS`): a new method adds a builder with :func:`register_task` and its own
command-line options, without touching the others.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from pydicom.uid import generate_uid

from monai_xrgan.data.io import write_dicom, write_png
from monai_xrgan.data.phantoms import (
    MAX_SIZE,
    MIN_SIZE,
    Acquisition,
    Anatomy,
    render_chest_xray,
    sample_acquisition,
    sample_anatomy,
)
from monai_xrgan.utils.errors import ConfigError, MissingInputError

__all__ = [
    "DATALIST_NAME",
    "MARKER_NAME",
    "FORMATS",
    "DemoTask",
    "TASKS",
    "register_task",
    "DemoWriter",
    "make_demo_dataset",
    "ensure_demo_data",
    "main",
]

# fixed acquisition date of the demo DICOM files, so that generation is byte-for-byte reproducible
_DEMO_DATE = datetime.datetime(2020, 3, 1, 9, 0, 0)

DATALIST_NAME = "datalist.json"
#: written first into a folder being generated; its presence means "demo data, safe to (re)generate"
MARKER_NAME = ".monai_xrgan_demo"
FORMATS = ("png", "dicom")
_COMMON_DEFAULTS = {"size": 128, "seed": 0, "format": "png"}


@dataclass(frozen=True)
class DemoTask:
    """A demo dataset recipe.

    Args:
        name: task name (``--task``).
        description: one line for ``--help`` and the datalist's ``description``.
        build: ``build(writer, **options) -> dict`` writes the images through ``writer`` and returns the datalist
            content beyond the common header (``training``, ``validation``, ... lists).
        options: task options ``name -> (default, help)``; the type of the default is the option's type and
            ``--name-with-dashes`` its command-line flag.
    """

    name: str
    description: str
    build: Callable[..., dict[str, Any]]
    options: dict[str, tuple[Any, str]] = field(default_factory=dict)


#: registered demo tasks by name
TASKS: dict[str, DemoTask] = {}


def register_task(task: DemoTask) -> DemoTask:
    """Add ``task`` to :data:`TASKS` (a name can be registered once)."""
    if task.name in TASKS:
        raise ValueError(f"demo task {task.name!r} is already registered.")
    TASKS[task.name] = task
    return task


class DemoWriter:
    """Render phantom patients and write them (PNG or DICOM) under a dataset folder, returning relative paths.

    Args:
        root: dataset folder.
        size: image size in pixels.
        seed: dataset seed; patients are drawn without repetition from it (:meth:`patients`).
        fmt: ``"png"`` (8-bit) or ``"dicom"`` (DX, 12 bits stored).
    """

    def __init__(self, root: Path, size: int, seed: int, fmt: str):
        self.root, self.size, self.seed, self.fmt = root, size, seed, fmt
        self._pool = np.random.default_rng([seed, 0x5EED])
        self._used: set[int] = set()

    def patients(self, count: int) -> list[int]:
        """``count`` new patient seeds, never handed out before by this writer (splits stay patient-disjoint)."""
        seeds: list[int] = []
        while len(seeds) < count:
            candidate = int(self._pool.integers(0, 2**31 - 1))
            if candidate not in self._used:
                self._used.add(candidate)
                seeds.append(candidate)
        return seeds

    def patient(self, patient_seed: int) -> tuple[Anatomy, Acquisition, Iterator[np.random.Generator]]:
        """Anatomy, acquisition and a stream of finding generators of one patient (all fixed by its seed)."""
        anatomy_seq, finding_seq, acquisition_seq = np.random.SeedSequence(patient_seed).spawn(3)
        anatomy = sample_anatomy(np.random.default_rng(anatomy_seq))
        acquisition = sample_acquisition(np.random.default_rng(acquisition_seq))
        return anatomy, acquisition, (np.random.default_rng(s) for s in finding_seq.spawn(8))

    def write(self, relative: str, image: np.ndarray, patient_seed: int, description: str, instance: int = 1) -> str:
        """Write ``image`` to ``root/relative`` + suffix atomically; return the relative path."""
        relative = relative + (".png" if self.fmt == "png" else ".dcm")
        path = self.root / relative
        tmp = path.with_name(f".{path.stem}.tmp{os.getpid()}{path.suffix}")
        if self.fmt == "png":
            write_png(tmp, image, bits=8)
        else:
            write_dicom(
                tmp,
                image,
                modality="DX",
                bits_stored=12,
                patient_id=f"XRGAN-DEMO-{patient_seed:010d}",
                patient_name=f"Demo^Phantom{patient_seed}",
                study_uid=generate_uid(entropy_srcs=["monai_xrgan demo study", str(self.seed), str(patient_seed)]),
                series_uid=generate_uid(entropy_srcs=["monai_xrgan demo series", str(self.seed), relative]),
                instance_number=instance,
                series_description=description,
                sop_instance_uid=generate_uid(entropy_srcs=["monai_xrgan demo image", str(self.seed), relative]),
                content_time=_DEMO_DATE,
            )
        os.replace(tmp, path)
        return relative


def _check_count(name: str, value: Any, minimum: int = 0) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ConfigError(f"demo option {name} must be an integer >= {minimum}, got {value!r}.")
    return int(value)


# ----------------------------------------------------------------------------------------------------------------
# pix2pix: paired normal -> COVID-19 radiographs, plus a 3-class classification set


PIX2PIX_LABELS = {"0": "normal", "1": "viral_pneumonia", "2": "covid"}


def _build_pix2pix(
    writer: DemoWriter,
    num_train: int,
    num_val: int,
    num_test: int,
    num_normal: int,
    num_viral: int,
    num_covid: int,
    num_test_per_class: int,
) -> dict[str, Any]:
    """Paired normal/COVID-19 images of the same patient and acquisition, and an imbalanced classification set."""
    _check_count("num_train", num_train, 1)
    content: dict[str, Any] = {"labels": dict(PIX2PIX_LABELS)}
    for split, count in (("training", num_train), ("validation", num_val), ("test", num_test)):
        folder = {"training": "train", "validation": "val", "test": "test"}[split]
        items = []
        for i, patient_seed in enumerate(writer.patients(count)):
            anatomy, acquisition, finding_rngs = writer.patient(patient_seed)
            severity = "covid_severe" if i % 2 else "covid_mild"
            normal = render_chest_xray(anatomy, writer.size, "normal", acquisition, next(finding_rngs))
            covid = render_chest_xray(anatomy, writer.size, severity, acquisition, next(finding_rngs))
            stem = f"pairs/{folder}/{i:04d}"
            items.append({
                "image": writer.write(f"{stem}_normal", normal, patient_seed, "normal", 1),
                "target": writer.write(f"{stem}_covid", covid, patient_seed, severity, 2),
            })
        content[split] = items
    per_class = {
        "classification_training": ("train", (num_normal, num_viral, num_covid)),
        "classification_test": ("test", (num_test_per_class,) * 3),
    }
    for key, (folder, class_counts) in per_class.items():
        items = []
        for label, count in enumerate(class_counts):
            name = PIX2PIX_LABELS[str(label)]
            for i, patient_seed in enumerate(writer.patients(count)):
                anatomy, acquisition, finding_rngs = writer.patient(patient_seed)
                finding = name if label < 2 else ("covid_severe" if i % 2 else "covid_mild")
                image = render_chest_xray(anatomy, writer.size, finding, acquisition, next(finding_rngs))
                items.append({"image": writer.write(f"classification/{folder}/{name}_{i:04d}", image, patient_seed,
                                                    finding), "label": label})
        content[key] = items
    return content


register_task(
    DemoTask(
        name="pix2pix",
        description="paired normal -> COVID-19 chest radiographs (same patient and acquisition) and a 3-class "
        "classification set with scarce COVID-19 (normal / viral pneumonia / COVID-19)",
        build=_build_pix2pix,
        options={
            "num_train": (64, "training pairs"),
            "num_val": (8, "validation pairs"),
            "num_test": (8, "test pairs"),
            "num_normal": (64, "normal images in classification_training"),
            "num_viral": (64, "viral pneumonia images in classification_training"),
            "num_covid": (12, "COVID-19 images in classification_training (scarce, as in the paper)"),
            "num_test_per_class": (16, "images per class in classification_test (balanced)"),
        },
    )
)


# ----------------------------------------------------------------------------------------------------------------
# generation entry points


def _resolve_options(task: str, options: dict[str, Any]) -> tuple[DemoTask, dict[str, Any], dict[str, Any]]:
    if task not in TASKS:
        raise ConfigError(f"demo task must be one of {sorted(TASKS)}, got {task!r}.")
    spec = TASKS[task]
    allowed = {**_COMMON_DEFAULTS, **{k: v[0] for k, v in spec.options.items()}}
    unknown = sorted(set(options) - set(allowed))
    if unknown:
        raise ConfigError(f"unknown demo option(s) {unknown} for task {task!r}; allowed: {sorted(allowed)}.")
    merged = {**allowed, **options}
    for name, default in spec.options.items():
        if isinstance(default[0], int):
            merged[name] = _check_count(name, merged[name])
    size = merged.pop("size")
    if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or not MIN_SIZE <= size <= MAX_SIZE:
        raise ConfigError(f"demo option size must be an integer in [{MIN_SIZE}, {MAX_SIZE}], got {size!r}.")
    fmt = merged.pop("format")
    if fmt not in FORMATS:
        raise ConfigError(f"demo option format must be one of {FORMATS}, got {fmt!r}.")
    seed = _check_count("seed", merged.pop("seed"))
    return spec, {"size": int(size), "seed": seed, "format": fmt}, merged


def make_demo_dataset(task: str, out_dir: str | os.PathLike, **options: Any) -> Path:
    """Generate the demo dataset of ``task`` under ``out_dir`` and return the path of its datalist JSON.

    The folder gets a marker file first and ``datalist.json`` last (written to a temporary file and renamed),
    so an interrupted run leaves no datalist and is regenerated by :func:`ensure_demo_data`. The same
    arguments give the same datalist and byte-identical PNG files.

    Args:
        task: a name in :data:`TASKS`, e.g. ``"pix2pix"``.
        out_dir: dataset folder (created if needed).
        options: ``size`` (default 128), ``seed`` (0), ``format`` (``"png"`` or ``"dicom"``) and the task's options.
    """
    spec, common, task_options = _resolve_options(task, options)
    root = Path(out_dir)
    root.mkdir(parents=True, exist_ok=True)
    (root / MARKER_NAME).write_text(json.dumps({"task": task, **common, **task_options}, sort_keys=True) + "\n")
    writer = DemoWriter(root, common["size"], common["seed"], common["format"])
    content = spec.build(writer, **task_options)
    datalist = {
        "name": f"monai_xrgan demo: {task}",
        "description": f"Synthetic phantom chest radiographs (monai_xrgan.data.phantoms): {spec.description}.",
        "task": task,
        "image_size": common["size"],
        "seed": common["seed"],
        "format": common["format"],
        **content,
    }
    path = root / DATALIST_NAME
    tmp = path.with_name(f".{DATALIST_NAME}.tmp{os.getpid()}")
    tmp.write_text(json.dumps(datalist, indent=1) + "\n", encoding="utf-8")
    os.replace(tmp, path)
    return path


def ensure_demo_data(
    dataset_dir: str | os.PathLike, task: str, datalist: str | os.PathLike | None = None, **options: Any
) -> str:
    """Return the datalist path, generating the demo data of ``task`` first when there is no dataset yet.

    If the datalist exists it is returned unchanged. Otherwise the demo data is generated into ``dataset_dir``
    only when that folder does not exist, is empty, or holds the marker of an earlier (maybe interrupted) demo
    generation; any other folder is the user's data, and a missing datalist there is an error.

    Args:
        dataset_dir: dataset folder (the bundles' ``dataset_dir``).
        task: demo task to generate, see :data:`TASKS`.
        datalist: datalist JSON; default ``dataset_dir/datalist.json``.
        options: demo options passed to :func:`make_demo_dataset` (``size``, ``seed``, ``format``, task options).

    Raises:
        MissingInputError: (a ``FileNotFoundError``) the datalist is missing and the folder holds other files.
    """
    root = Path(dataset_dir)
    default = root / DATALIST_NAME
    path = default if datalist is None or str(datalist) == "" else Path(datalist)
    if path.is_file():
        return str(path)
    is_default = path.resolve() == default.resolve()
    fresh = not root.exists() or (root.is_dir() and not any(root.iterdir())) or (root / MARKER_NAME).is_file()
    if not (is_default and fresh):
        raise MissingInputError(
            f"{path}: datalist not found; point `datalist` at your datalist JSON, or use an empty or new "
            f"`dataset_dir` (not {root}) to get the generated demo data."
        )
    return str(make_demo_dataset(task, root, **options))


# ----------------------------------------------------------------------------------------------------------------
# command line


def _parser(task: DemoTask | None) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m monai_xrgan.data.demo",
        description="Write a deterministic synthetic demo dataset and its MONAI datalist JSON.",
        epilog="tasks: " + "; ".join(f"{t.name}: {t.description}" for t in TASKS.values()),
    )
    parser.add_argument("--task", required=True, choices=sorted(TASKS), help="demo dataset to write")
    parser.add_argument("--out", required=True, help="output folder (datalist.json is written there)")
    parser.add_argument("--size", type=int, default=_COMMON_DEFAULTS["size"], help="image size in pixels")
    parser.add_argument("--seed", type=int, default=_COMMON_DEFAULTS["seed"], help="dataset seed")
    parser.add_argument("--format", choices=FORMATS, default=_COMMON_DEFAULTS["format"], help="image file format")
    if task is not None:
        group = parser.add_argument_group(f"{task.name} options")
        for name, (default, help_text) in task.options.items():
            group.add_argument(f"--{name.replace('_', '-')}", dest=name, type=type(default), default=default,
                               help=f"{help_text} (default {default})")
    return parser


def main(argv: list[str] | None = None) -> Path:
    """Command-line entry point: parse ``--task`` first, then that task's own options."""
    pre = argparse.ArgumentParser(prog="python -m monai_xrgan.data.demo", add_help=False)
    pre.add_argument("--task", choices=sorted(TASKS))
    known, _ = pre.parse_known_args(argv)
    args = vars(_parser(TASKS.get(known.task)).parse_args(argv))
    task, out = args.pop("task"), args.pop("out")
    path = make_demo_dataset(task, out, **args)
    print(f"datalist: {path}")
    return path


if __name__ == "__main__":
    main()
