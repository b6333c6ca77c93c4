"""Run a bundle's train, inference and evaluate configs on its demo data, as a user would from the shell."""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from monai_xrgan.utils.errors import MissingInputError

__all__ = ["REPO_BUNDLES", "find_bundle", "bundle_command", "run_demo"]

#: the bundles/ folder of the repository (or sdist) the package was installed from
REPO_BUNDLES = Path(__file__).resolve().parents[2] / "bundles"


def find_bundle(name_or_path: str | os.PathLike) -> Path:
    """Resolve a bundle folder from a path, or from a name under ``./bundles`` or the repository's ``bundles/``."""
    for candidate in (Path(name_or_path), Path("bundles") / name_or_path, REPO_BUNDLES / name_or_path):
        if (candidate / "configs" / "metadata.json").is_file():
            return candidate.resolve()
    available = sorted(p.name for p in REPO_BUNDLES.glob("*") if (p / "configs" / "metadata.json").is_file())
    raise MissingInputError(f"{name_or_path}: no bundle (configs/metadata.json) found; available bundles: {available}.")


def bundle_command(bundle: Path, configs: Sequence[str], overrides: Sequence[str] = ()) -> list[str]:
    """The ``python -m monai.bundle run`` command for ``configs`` (merged in order) of ``bundle``."""
    files = [str(bundle / "configs" / c) for c in configs]
    config_arg = files[0] if len(files) == 1 else "[" + ",".join(f"'{f}'" for f in files) + "]"
    return [
        sys.executable, "-m", "monai.bundle", "run",
        "--config_file", config_arg,
        "--meta_file", str(bundle / "configs" / "metadata.json"),
        "--logging_file", str(bundle / "configs" / "logging.conf"),
        "--bundle_root", str(bundle),
        *overrides,
    ]  # fmt: skip


def run_demo(name_or_path: str | os.PathLike, overrides: Sequence[str] = ()) -> Path:
    """Train, run inference and evaluate a bundle with its default (demo-data) settings; return its folder.

    Args:
        name_or_path: bundle name (e.g. ``pix2pix_cxr``) or folder.
        overrides: extra ``--key value`` arguments for every step (e.g. ``["--max_epochs", "2"]``).
    """
    bundle = find_bundle(name_or_path)
    steps = {"train": ["train.json"], "inference": ["inference.json"], "evaluate": ["train.json", "evaluate.json"]}
    start = time.perf_counter()
    for step, configs in steps.items():
        command = bundle_command(bundle, configs, overrides)
        print(f"\n=== {step}: {shlex.join(command)}", flush=True)
        subprocess.run(command, check=True)
    minutes = (time.perf_counter() - start) / 60
    print(f"\nDone in {minutes:.1f} min. Outputs of {bundle.name}:")
    outputs = [("trained weights", bundle / "models"), ("TensorBoard logs", bundle / "runs"), ("demo data", bundle / "data" / "demo")]
    outputs += [(f"eval: {p.name}", p) for p in sorted((bundle / "eval").glob("*"))]
    for label, path in outputs:
        print(f"  {label:40s} {path}{'' if path.exists() else '  (missing!)'}")
    print(f"View training curves and images with: tensorboard --logdir {bundle / 'runs'}")
    return bundle
