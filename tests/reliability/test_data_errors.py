"""Bad data stops the run in one line, in every loader thread and worker, or is skipped and counted (issue 18,
case 2)."""

from __future__ import annotations

import logging

import numpy as np
import pytest
from monai.data import CacheDataset, Dataset
from monai.transforms import Compose, EnsureChannelFirstd, LoadImaged, RandFlipd

from monai_xrgan.data.loaders import BadImageError, GuardedDataLoader
from monai_xrgan.io.xray import write_png
from monai_xrgan.transforms import XRayPreprocessd


@pytest.fixture()
def items(tmp_path):
    """Six 16² PNG items; item 2 is a corrupt file and item 4 a folder."""
    out = []
    for i in range(6):
        path = tmp_path / f"img{i}.png"
        if i == 2:
            path.write_bytes(b"\x89PNG\r\n\x1a\n truncated")
        elif i == 4:
            path.mkdir()
        else:
            write_png(path, np.full((16, 16), i / 6, dtype=np.float32))
        out.append({"image": str(path)})
    return out


def transform():
    return Compose([LoadImaged("image", image_only=True), EnsureChannelFirstd("image"), RandFlipd("image", prob=0.5)])


@pytest.mark.parametrize("num_workers", [0, 2])
def test_bad_image_stops_the_epoch_naming_file_item_and_split(items, num_workers):
    loader = GuardedDataLoader(Dataset(items, transform()), split="training", batch_size=2, num_workers=num_workers)
    with pytest.raises(BadImageError, match=r"img2\.png \(training\[2\]\): .*skip_bad_images True") as err:
        list(loader)
    assert "\n" not in str(err.value)


def test_folder_in_a_split_stops_the_run(items):
    loader = GuardedDataLoader(Dataset(items[3:], transform()), split="validation", batch_size=1)
    with pytest.raises(BadImageError, match=r"img4\.png \(validation\[1\]\)"):
        list(loader)


def test_skip_bad_images_logs_and_counts_each_skip(items, caplog):
    loader = GuardedDataLoader(Dataset(items, transform()), split="training", batch_size=2, skip_bad_images=True)
    with caplog.at_level(logging.WARNING):
        batches = list(loader)
    assert sum(len(b["image"]) for b in batches) == 4
    assert [item.index for item in loader.skipped] == [2, 4]
    assert "skipped 2 of 6 training items this epoch" in caplog.text
    assert "img2.png (training[2])" in caplog.text and "img4.png (training[4])" in caplog.text


def test_error_of_the_loader_thread_reaches_the_main_thread(items):
    def broken_collate(batch):
        raise RuntimeError("collate failed")

    loader = GuardedDataLoader(Dataset(items[:2], transform()), batch_size=2, collate_fn=broken_collate)
    with pytest.raises(RuntimeError, match="collate failed"):
        list(loader)


def test_good_data_passes_unchanged_with_a_cache(items):
    good = [items[i] for i in (0, 1, 3)]
    loader = GuardedDataLoader(CacheDataset(good, transform(), progress=False), batch_size=3)
    (batch,) = list(loader)
    assert batch["image"].shape == (3, 1, 16, 16)
    assert loader.dataset.data == good  # the wrapped dataset's attributes stay reachable


def test_a_runtime_filled_cache_reports_bad_items_through_the_loader(items):
    """``CacheDataset(runtime_cache=True)`` fills the cache inside the loader, so bad items are named and skippable
    (a cache filled at construction raises before any loader exists)."""
    dataset = CacheDataset(items, transform(), runtime_cache=True, progress=False)
    with pytest.raises(BadImageError, match=r"img2\.png \(training\[2\]\)"):
        list(GuardedDataLoader(dataset, batch_size=2))
    skipping = GuardedDataLoader(dataset, batch_size=2, skip_bad_images=True)
    assert sum(len(b["image"]) for b in skipping) == 4 and len(skipping.skipped) == 2


def test_a_2x1000_radiograph_stops_the_run_naming_it(tmp_path):
    # issue 18, case 8: the resize of a 2×1000 image fails (no output pixels on the short side); the loader names it
    write_png(tmp_path / "ok.png", np.full((80, 90), 0.5, dtype=np.float32))
    write_png(tmp_path / "thin.png", np.full((2, 1000), 0.5, dtype=np.float32))
    items = [{"image": str(tmp_path / name)} for name in ("ok.png", "thin.png")]
    loader = GuardedDataLoader(Dataset(items, XRayPreprocessd(keys="image", spatial_size=64)), split="training")
    with pytest.raises(BadImageError, match=r"thin\.png \(training\[1\]\): .*skip_bad_images True") as err:
        list(loader)
    assert "\n" not in str(err.value)
