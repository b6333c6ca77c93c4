"""cached_dataset: deterministic preprocessing really is cached, in memory and on disk, and the disk cache is keyed by
the files and the transform settings."""

from __future__ import annotations

import json
import os
import warnings
from pathlib import Path

import numpy as np
import pytest
from monai.data import CacheDataset, DataLoader
from monai.transforms import Compose, Invertd, OneOf, RandFlipd, RandSpatialCropd

import monai_xrgan.transforms.xray as xray
from monai_xrgan.data.datasets import DiskCacheDataset, cached_dataset, flatten_transforms
from monai_xrgan.data.loaders import GuardedDataLoader
from monai_xrgan.io.xray import write_png
from monai_xrgan.transforms import XRayPreprocessd
from monai_xrgan.utils.errors import ConfigError


@pytest.fixture
def items(tmp_path):
    out = []
    for i in range(3):
        path = tmp_path / "img" / f"{i}.png"
        write_png(path, np.random.default_rng(i).random((40, 36)))
        out.append({"image": str(path), "label": i % 2})
    return out


@pytest.fixture
def loads(monkeypatch):
    """Count the files LoadXRay reads."""
    count = {"n": 0}
    original = xray.LoadXRay.__call__

    def counting(self, filename):
        count["n"] += 1
        return original(self, filename)

    monkeypatch.setattr(xray.LoadXRay, "__call__", counting)
    return count


def train_transform(size: int = 32) -> Compose:
    """The pix2pix shape: the whole preprocessing nested in a Compose, then a random crop."""
    return Compose([XRayPreprocessd("image", size), RandSpatialCropd("image", (24, 24), random_size=False)])


def test_nested_preprocessing_is_cached_in_memory(items, loads):
    ds = cached_dataset(items, train_transform(), progress=False)
    assert isinstance(ds, CacheDataset) and loads["n"] == 0  # filled on first use, through the data loader
    for _ in range(2):
        assert [tuple(ds[i]["image"].shape) for i in range(3)] == [(1, 24, 24)] * 3
    assert loads["n"] == len(items)
    # what MONAI does with the nested Compose as it is: it counts as random, nothing is cached
    assert cached_dataset(items, train_transform(), runtime_cache=False, progress=False) and loads["n"] == 2 * len(
        items
    )
    plain = CacheDataset(items, train_transform(), progress=False)
    plain[0], plain[0]
    assert loads["n"] == 2 * len(items) + 2


def test_loader_worker_processes_fill_a_cache_the_next_epoch_reads(items):
    # with worker processes the in-memory cache is shared with them: what they decode in epoch 1 is kept
    ds = cached_dataset(items, train_transform(), loader_workers=2)
    loader = GuardedDataLoader(ds, batch_size=2, num_workers=2, persistent_workers=True)
    assert sum(len(b["image"]) for b in loader) == len(items)
    assert all(entry is not None for entry in ds._cache)  # filled by the workers, seen by the main process
    assert sum(len(b["image"]) for b in loader) == len(items)
    assert cached_dataset(items, train_transform()).runtime_cache is True  # no workers: a plain list in memory


def test_disk_cache_is_reused_across_datasets(items, loads, tmp_path):
    cache = tmp_path / "cache"
    first = cached_dataset(items, train_transform(), cache_dir=cache)
    assert isinstance(first, DiskCacheDataset)
    [first[i] for i in range(3)]
    assert loads["n"] == 3 and len(os.listdir(cache)) == 3
    transform = train_transform()
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message="Corrupt cache")  # MONAI's warning when a cached file does not load
        second = cached_dataset(items, transform, cache_dir=cache)
        batch = next(iter(DataLoader(second, batch_size=3)))
    assert loads["n"] == 3
    assert tuple(batch["image"].shape) == (3, 1, 24, 24) and batch["label"].tolist() == [0, 1, 0]


def test_disk_cache_follows_settings_and_files(items, loads, tmp_path):
    cache = tmp_path / "cache"
    [cached_dataset(items, train_transform(32), cache_dir=cache)[i] for i in range(3)]
    cached_dataset(items, train_transform(28), cache_dir=cache)[0]  # another image size: a new file
    assert loads["n"] == 4 and len(os.listdir(cache)) == 4
    stat = os.stat(items[1]["image"])
    os.utime(items[1]["image"], ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))  # the image was replaced
    cached_dataset(items, train_transform(32), cache_dir=cache)[1]
    assert loads["n"] == 5


def test_disk_cached_items_invert(items, tmp_path):
    pre = XRayPreprocessd("image", 32)
    cached_dataset(items, pre, cache_dir=tmp_path / "c")[0]
    item = cached_dataset(items, pre, cache_dir=tmp_path / "c")[0]
    out = Invertd("pred", pre, orig_keys="image", nearest_interp=False)({"image": item["image"], "pred": item["image"]})
    assert tuple(out["pred"].shape) == (1, 36, 40)


def test_flatten_keeps_random_compositions_nested():
    pre = XRayPreprocessd("image", 32)
    one_of = OneOf([RandFlipd("image", prob=1.0, spatial_axis=0), RandFlipd("image", prob=1.0, spatial_axis=1)])
    flat = flatten_transforms([pre, one_of])
    assert flat.transforms[: len(pre.transforms)] == tuple(pre.transforms)
    assert flat.transforms[-1] is one_of


def test_cache_dir_naming_a_file(items, tmp_path):
    file = tmp_path / "f.txt"
    file.write_text("x")
    with pytest.raises(ConfigError, match=r"f\.txt: `cache_dir` names a file"):
        cached_dataset(items, train_transform(), cache_dir=file)


BUNDLES = Path(__file__).resolve().parents[2] / "bundles"


@pytest.mark.parametrize("bundle", ["pix2pix_cxr", "r2c_gan_cxr", "migan_ct", "drai_cxr", "diffusionxray_drr"])
def test_every_train_config_caches_through_the_factory(bundle):
    config = json.loads((BUNDLES / bundle / "configs" / "train.json").read_text())
    assert config["cache_dir"] is None
    blocks = [v for part in ("train", "validate") for k, v in config[part].items() if k.endswith("dataset")]
    assert len(blocks) >= 2
    for block in blocks:
        assert block["_target_"] == "monai_xrgan.data.cached_dataset" and block["cache_dir"] == "@cache_dir"
