"""DiffusionXRay stage 1 output: the low-quality (DRR-like) partner of every high-quality radiograph of a datalist."""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path

import torch
from monai.data import DataLoader, Dataset
from monai.inferers import Inferer
from torch import nn

from monai_xrgan.data.datalists import load_datalist
from monai_xrgan.handlers.metrics_io import write_json_atomic
from monai_xrgan.io.xray import write_png
from monai_xrgan.transforms import XRayPreprocessd
from monai_xrgan.utils.checks import require_file
from monai_xrgan.utils.errors import ConfigError

__all__ = ["require_lq_pairs", "write_lq_pairs"]


@torch.no_grad()
def write_lq_pairs(
    network: nn.Module,
    inferer: Inferer,
    datalist: str | os.PathLike,
    dataset_dir: str | os.PathLike,
    name: str,
    image_size: int,
    device: str | torch.device = "cpu",
    splits: Sequence[str] = ("training", "validation", "test"),
    hq_key: str = "hq",
    lq_key: str = "lq",
    batch_size: int = 4,
) -> str:
    """Translate the ``hq_key`` image of every item of ``splits`` with ``inferer(hq, network)`` and write a datalist
    whose ``lq_key`` entries are the translations: the LQ/HQ training pairs of the restoration model.

    Images are written as 8-bit PNGs of ``image_size`` pixels to ``dataset_dir/name/<split>/NNNN_lq.png``, the new
    datalist to ``dataset_dir/datalist_<name>.json`` (paths relative to ``dataset_dir``); every other list and key of
    ``datalist`` is kept, so the DRR lists travel with the pairs.

    Args:
        network: the stage-1 generator (already loaded, e.g. the trained DDPM-LQ model or a MUNIT translator).
        inferer: called as ``inferer(images, network)`` on ``[-1, 1]`` batches (a
            :class:`~monai_xrgan.inferers.DiffusionSampler` doing SDEdit, or ``SimpleInferer``).
        datalist, dataset_dir: the source datalist and the folder its paths are relative to.
        name: name of the pair set (folder and datalist suffix), e.g. ``"lq_ddpm"``.
        image_size: side of the model input and of the written LQ images.
        device: where the network runs.
        splits: lists whose items get an LQ partner.
        hq_key, lq_key: item keys of the source image and of the written partner.
        batch_size: images per inferer call.

    Returns:
        the path of the new datalist.
    """
    if not name or Path(name).name != name:
        raise ConfigError(f"name must be a plain folder name such as 'lq_ddpm', got {name!r}.")
    root = Path(dataset_dir)
    content = json.loads(Path(datalist).read_text(encoding="utf-8"))
    preprocessing = XRayPreprocessd(hq_key, spatial_size=image_size, keep_dicom_tags=False)
    network.eval()
    for split in splits:
        items = load_datalist(datalist, split, root, keys=[hq_key])
        loader = DataLoader(Dataset(items, preprocessing), batch_size=batch_size, shuffle=False, num_workers=0)
        written: list[str] = []
        for batch in loader:
            out = inferer(batch[hq_key].to(device), network)
            for image in ((out.float().cpu() + 1.0) / 2.0).clamp(0.0, 1.0):
                relative = f"{name}/{split}/{len(written):04d}_{lq_key}.png"
                write_png(root / relative, image[0].T.numpy())
                written.append(relative)
        content[split] = [{**item, lq_key: path} for item, path in zip(content[split], written)]
    return str(write_json_atomic(root / f"datalist_{name}.json", {**content, "lq_source": name}))


def require_lq_pairs(datalist: str | os.PathLike, lq_generator: str) -> str:
    """Return ``datalist`` (the stage-1 LQ/HQ pairs of ``lq_generator``) if it exists, else raise an error naming the
    command that writes it."""
    configs = f"['configs/train.json','configs/train_lq_{lq_generator}.json']"
    return require_file(
        datalist, "datalist", f'make the LQ/HQ pairs first: python -m monai.bundle run --config_file "{configs}"'
    )
