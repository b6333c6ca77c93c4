"""Crash-safe file writes: a file is either its old or its new complete content, never half written."""

from __future__ import annotations

import logging
import os
import re
import signal
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO

import torch

from monai_xrgan.utils.errors import UserInputError

__all__ = [
    "FAULT_ENV",
    "OutputWriteError",
    "atomic_write",
    "atomic_torch_save",
    "ensure_output_dir",
    "is_temporary",
    "remove_temporaries",
    "fault_point",
]

#: test hook: ``MONAI_XRGAN_FAULT=<point>`` kills the process with SIGKILL when it reaches ``<point>`` (e.g.
#: ``checkpoint_write:2``, half-way through writing the epoch-2 checkpoint), so tests can kill at a known moment
FAULT_ENV = "MONAI_XRGAN_FAULT"
_TEMP_SUFFIX = ".partial"
# ours (``.name.<pid>.partial``) and those of ``tempfile``/ignite's atomic ``DiskSaver`` (``tmp`` + 8 characters)
_TEMP_PATTERN = re.compile(rf"^(\..+\.\d+{re.escape(_TEMP_SUFFIX)}|tmp[a-z0-9_]{{8}})$")
logger = logging.getLogger(__name__)


class OutputWriteError(UserInputError, OSError):
    """An output file could not be written (disk full, read-only folder, a file where a folder belongs...)."""


def fault_point(name: str) -> None:
    """Kill this process with SIGKILL (as ``kill -9`` would) when :data:`FAULT_ENV` names ``name``."""
    if os.environ.get(FAULT_ENV) == name:
        os.kill(os.getpid(), signal.SIGKILL)


def is_temporary(path: str | os.PathLike) -> bool:
    """Whether ``path`` is a temporary file left by an interrupted atomic write."""
    return bool(_TEMP_PATTERN.match(Path(path).name))


def remove_temporaries(folder: str | os.PathLike) -> list[Path]:
    """Delete the temporary files that interrupted writes left directly in ``folder``; return them."""
    folder = Path(folder)
    stray = sorted(p for p in folder.iterdir() if p.is_file() and is_temporary(p)) if folder.is_dir() else []
    for path in stray:
        path.unlink(missing_ok=True)
        logger.warning(f"Removed {path}, a partial file left by an interrupted write.")
    return stray


def atomic_write(path: str | os.PathLike, write: Callable[[BinaryIO], Any], fault: str | None = None) -> Path:
    """Write ``path`` through ``write(file)`` into a temporary file beside it, flushed to disk, then renamed over it.

    Args:
        path: the file to (re)write; its folder is created.
        write: writes the whole content into the open binary file it is given.
        fault: name of the :func:`fault_point` reached half-way (after ``write``, before the rename).

    Raises:
        OutputWriteError: naming ``path`` when the folder cannot be created or written (the old file is kept).
    """
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}{_TEMP_SUFFIX}")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(tmp, "wb") as f:
            write(f)
            f.flush()
            if fault is not None:
                fault_point(fault)
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except OSError as e:
        tmp.unlink(missing_ok=True)
        raise OutputWriteError(
            f"{path}: cannot be written ({type(e).__name__}: {e.strerror or e}); free disk space "
            "or choose a writable folder (the previous file, if any, is unchanged)."
        ) from e
    _fsync_folder(path.parent)
    return path


def atomic_torch_save(obj: Any, path: str | os.PathLike, fault: str | None = None) -> Path:
    """``torch.save(obj, path)`` with :func:`atomic_write`."""
    return atomic_write(path, lambda f: torch.save(obj, f), fault=fault)


def _fsync_folder(folder: Path) -> None:
    # the rename is durable only once the folder entry is on disk (POSIX; not possible on Windows)
    if os.name == "posix":
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def ensure_output_dir(path: str | os.PathLike, key: str, create: bool = True) -> Path:
    """Create the output folder ``path`` (config ``key``) or raise :class:`OutputWriteError` in one line when it names
    a file or cannot be written; with ``create=False`` only refuse a file (the folder is made when first written)."""
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise OutputWriteError(f"{path}: is a file, but config `{key}` must name a folder; choose another path.")
    if not create:
        return path
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise OutputWriteError(
            f"{path}: cannot create the folder of config `{key}` ({e.strerror or e}); choose a writable path."
        ) from e
    if not os.access(path, os.W_OK | os.X_OK):
        raise OutputWriteError(
            f"{path}: the folder of config `{key}` is not writable; choose a writable path or change its permissions."
        )
    return path
