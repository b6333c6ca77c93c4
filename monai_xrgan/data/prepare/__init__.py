"""Datalists for the public datasets of the five papers, from their published folder layouts.

``python -m monai_xrgan.data.prepare <dataset> --root DIR --out DATALIST.json [--val 0.1 --test 0.1 --seed 0]``
(see ``docs/datasets.md``). Paths in the datalist are relative to ``--root``: train with ``--dataset_dir DIR
--datalist DATALIST.json``. Files a preparer has to derive (degraded copies, volumes stacked from slice images,
PNG copies of raw images) go under ``ROOT/monai_xrgan_derived/<dataset>/`` unless ``--derived`` says otherwise.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

from monai_xrgan.data.prepare.common import write_datalist
from monai_xrgan.utils.errors import ConfigError

__all__ = ["DATASETS", "prepare_dataset"]

#: dataset name (= module of this package) → the bundles its datalist feeds
DATASETS = {
    "covid19_radiography": "pix2pix_cxr, drai_cxr",
    "qata_cov19": "r2c_gan_cxr",
    "mosmeddata": "migan_ct",
    "cc_ccii": "migan_ct",
    "lidc_idri": "diffusionxray_drr (CT volumes)",
    "jsrt": "diffusionxray_drr (HQ radiographs)",
    "cxr_folder": "diffusionxray_drr (HQ radiographs)",
}


def prepare_dataset(dataset: str, root: str | Path, out: str | Path, **options: Any) -> dict[str, Any]:
    """Write the datalist of ``dataset`` at ``root`` to ``out`` and return its content.

    ``options`` are the preparer's keyword arguments (``val``, ``test``, ``seed`` and the dataset's own); ``None``
    values are left to the preparer's defaults.
    """
    if dataset not in DATASETS:
        raise ConfigError(f"unknown dataset {dataset!r}; choose one of {', '.join(DATASETS)}.")
    module = importlib.import_module(f"monai_xrgan.data.prepare.{dataset}")
    content = module.prepare(root, **{k: v for k, v in options.items() if v is not None})
    write_datalist(out, content)
    return content
