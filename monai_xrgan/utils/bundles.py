"""Where the repository's bundles are, and the ``python -m monai.bundle run`` arguments of one of their steps."""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from pathlib import Path

from monai_xrgan.utils.errors import MissingInputError

__all__ = ["REPO_BUNDLES", "bundle_command", "bundle_run_args", "find_bundle"]

#: the bundles/ folder of the repository (or sdist) the package was installed from
REPO_BUNDLES = Path(__file__).resolve().parents[2] / "bundles"


def find_bundle(name_or_path: str | os.PathLike) -> Path:
    """Resolve a bundle folder from a path, or from a name under ``./bundles`` or the repository's ``bundles/``."""
    for candidate in (Path(name_or_path), Path("bundles") / name_or_path, REPO_BUNDLES / name_or_path):
        if (candidate / "configs" / "metadata.json").is_file():
            return candidate.resolve()
    available = sorted(p.name for p in REPO_BUNDLES.glob("*") if (p / "configs" / "metadata.json").is_file())
    raise MissingInputError(f"{name_or_path}: no bundle (configs/metadata.json) found; available bundles: {available}.")


def bundle_run_args(bundle: Path, configs: Sequence[str], overrides: Sequence[str] = ()) -> list[str]:
    """The arguments of ``python -m monai.bundle`` that run ``configs`` (merged in order) of ``bundle``."""
    files = [str(bundle / "configs" / c) for c in configs]
    config_arg = files[0] if len(files) == 1 else "[" + ",".join(f"'{f}'" for f in files) + "]"
    return [
        "run",
        "--config_file", config_arg,
        "--meta_file", str(bundle / "configs" / "metadata.json"),
        "--logging_file", str(bundle / "configs" / "logging.conf"),
        "--bundle_root", str(bundle),
        *overrides,
    ]  # fmt: skip


def bundle_command(bundle: Path, configs: Sequence[str], overrides: Sequence[str] = ()) -> list[str]:
    """The whole ``python -m monai.bundle run`` command line of :func:`bundle_run_args`."""
    return [sys.executable, "-m", "monai.bundle", *bundle_run_args(bundle, configs, overrides)]
