"""The experiment of each bundle, one module per bundle named after its folder, each exposing ``EXPERIMENT``."""

from __future__ import annotations

import importlib
import json
from pathlib import Path

from monai_xrgan.evaluation.runner import Experiment
from monai_xrgan.utils.bundles import REPO_BUNDLES
from monai_xrgan.utils.errors import ConfigError

__all__ = ["BUNDLES", "experiment_for"]

#: bundle folder names that have an experiment (module ``monai_xrgan.evaluation.experiments.<name>``)
BUNDLES = ("pix2pix_cxr", "r2c_gan_cxr", "migan_ct", "drai_cxr", "diffusionxray_drr")


def _metadata_name(bundle: Path) -> str | None:
    path = bundle / "configs" / "metadata.json"
    return json.loads(path.read_text(encoding="utf-8")).get("name") if path.is_file() else None


def experiment_for(bundle: Path) -> Experiment:
    """The experiment of a bundle folder: by its folder name, or for a renamed copy by its metadata ``name``."""
    name = bundle.name
    if name not in BUNDLES:
        names = {_metadata_name(REPO_BUNDLES / b): b for b in BUNDLES}
        name = names.get(_metadata_name(bundle), "")
    if name not in BUNDLES:
        raise ConfigError(f"{bundle}: no experiment for this bundle; known bundles: {list(BUNDLES)}.")
    return importlib.import_module(f"{__name__}.{name}").EXPERIMENT
