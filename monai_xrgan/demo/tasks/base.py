"""The demo-task registry: :class:`DemoTask` recipes and the :class:`DemoWriter` they write patients through."""

from __future__ import annotations

import datetime
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image
from pydicom.uid import generate_uid

from monai_xrgan.demo.phantoms import MAX_SIZE, MIN_SIZE, Acquisition, Anatomy, sample_acquisition, sample_anatomy
from monai_xrgan.io.xray import write_dicom, write_png
from monai_xrgan.utils.checks import check_int

__all__ = ["COMMON_DEFAULTS", "FORMATS", "DemoTask", "DemoWriter", "TASKS", "check_count", "register_task"]

# fixed acquisition date of the demo DICOM files, so that generation is byte-for-byte reproducible
_DEMO_DATE = datetime.datetime(2020, 3, 1, 9, 0, 0)

FORMATS = ("png", "dicom")
#: options every task takes, with their defaults
COMMON_DEFAULTS = {"size": 128, "seed": 0, "format": "png"}


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
        size_range: allowed ``size`` values (inclusive); radiograph tasks take 64-1024 pixels, CT tasks fewer voxels.
    """

    name: str
    description: str
    build: Callable[..., dict[str, Any]]
    options: dict[str, tuple[Any, str]] = field(default_factory=dict)
    size_range: tuple[int, int] = (MIN_SIZE, MAX_SIZE)


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

    def write_labels(self, relative: str, labels: np.ndarray) -> str:
        """Write an integer label map ``(H, W)`` (values 0-255, rows first) to ``root/relative.png`` atomically, as an
        8-bit PNG whatever the dataset's format (label values are stored as they are); return the relative path."""
        relative = relative + ".png"
        path = self.root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.stem}.tmp{os.getpid()}{path.suffix}")
        Image.fromarray(np.asarray(labels, dtype=np.uint8)).save(tmp)
        os.replace(tmp, path)
        return relative


def check_count(name: str, value: Any, minimum: int = 0) -> int:
    """``value`` as an ``int`` if it is an integer >= ``minimum``, else a :class:`ConfigError` naming the option."""
    return check_int(f"demo option {name}", value, minimum)
