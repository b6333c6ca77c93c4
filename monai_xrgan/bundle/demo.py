"""Run a bundle's train, inference and evaluate configs on its demo data, as a user would from the shell."""

from __future__ import annotations

import os
import shlex
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path

from monai_xrgan.utils.bundles import bundle_command, find_bundle

__all__ = ["run_demo"]


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
    outputs = [
        ("trained weights", bundle / "models"),
        ("TensorBoard logs", bundle / "runs"),
        ("demo data", bundle / "data" / "demo"),
    ]
    outputs += [(f"eval: {p.name}", p) for p in sorted((bundle / "eval").glob("*"))]
    for label, path in outputs:
        print(f"  {label:40s} {path}{'' if path.exists() else '  (missing!)'}")
    print(f"View training curves and images with: tensorboard --logdir {bundle / 'runs'}")
    return bundle
