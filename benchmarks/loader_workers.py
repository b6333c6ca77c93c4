"""Time two epochs of a training loader over real-size radiographs with 0 and N worker processes, side by side.

The items are ``--items`` synthetic 2048 x 2048 15-bit MONOCHROME1 CR DICOM files (rescale + window), read through the
bundles' preprocessing (``XRayPreprocessd`` to ``--size``) and a random flip, by the loader the train configs build:
``cached_dataset`` + ``GuardedDataLoader`` with ``num_workers`` (persistent worker processes, the in-memory cache
shared with them, or the on-disk cache with ``--cache_dir``-style ``PersistentDataset``). Epoch 1 decodes every file
(the cache fills); epoch 2 reads the cache. Ratios to ``num_workers=0`` are printed from this one run.

    python benchmarks/loader_workers.py [--items 24] [--size 256] [--workers 2]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from monai.transforms import Compose, RandFlipd

from monai_xrgan.data import GuardedDataLoader, cached_dataset
from monai_xrgan.io.xray import write_dicom
from monai_xrgan.transforms import XRayPreprocessd


def radiographs(folder: Path, count: int) -> list[dict]:
    """``count`` different 2k CR files in ``folder``, as datalist items."""
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[0:2048, 0:2048] / 2048.0
    items = []
    for i in range(count):
        image = np.clip(
            0.5 + 0.3 * np.sin((5 + i % 3) * xx) * np.cos(4 * yy) + 0.02 * rng.standard_normal(xx.shape), 0, 1
        )
        path = write_dicom(folder / f"cr_{i:03d}.dcm", image, bits_stored=15, photometric="MONOCHROME1",
                           rescale=(0.5, 10.0), window=(8000, 12000))  # fmt: skip
        items.append({"image": str(path)})
    return items


def two_epochs(items: list[dict], size: int, workers: int, cache_dir: str | None) -> tuple[float, float]:
    """Seconds of epoch 1 (cache filling) and epoch 2 (cached), batch size 4."""
    transform = Compose([XRayPreprocessd("image", spatial_size=size, keep_dicom_tags=False),
                         RandFlipd("image", prob=0.5, spatial_axis=0)])  # fmt: skip
    dataset = cached_dataset(items, transform, cache_dir=cache_dir, loader_workers=workers)
    loader = GuardedDataLoader(dataset, batch_size=4, shuffle=True, num_workers=workers,
                               persistent_workers=workers > 0)  # fmt: skip
    times = []
    for _ in range(2):
        start = time.perf_counter()
        n = sum(len(batch["image"]) for batch in loader)
        times.append(time.perf_counter() - start)
        assert n == len(items)
    return times[0], times[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--items", type=int, default=24, help="number of 2k radiographs")
    parser.add_argument("--size", type=int, default=256, help="model input side")
    parser.add_argument("--workers", type=int, default=2, help="worker processes of the compared loader")
    args = parser.parse_args()
    torch.set_num_threads(1)
    with tempfile.TemporaryDirectory() as tmp:
        items = radiographs(Path(tmp), args.items)
        rows = []
        for cache in ("memory", "disk"):
            for workers in (0, args.workers):
                cache_dir = str(Path(tmp) / f"cache_{workers}") if cache == "disk" else None
                rows.append((cache, workers, *two_epochs(items, args.size, workers, cache_dir)))
    print(f"{args.items} x 2048² CR DICOM -> {args.size}², batch 4, {torch.get_num_threads()} torch thread(s)")
    print(f"{'cache':<7} {'workers':>7} {'epoch 1 s':>10} {'epoch 2 s':>10} {'epoch 1 speed-up':>17}")
    base = {cache: first for cache, workers, first, _ in rows if workers == 0}
    for cache, workers, first, second in rows:
        print(f"{cache:<7} {workers:>7} {first:>10.2f} {second:>10.2f} {base[cache] / first:>16.2f}x")


if __name__ == "__main__":
    main()
