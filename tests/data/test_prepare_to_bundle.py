"""One command from a dataset folder to a training run: a COVID-19 Radiography Database tree (phantom radiographs in
the later release's layout) → ``monai_xrgan.data.prepare`` → ``drai_cxr`` / ``pix2pix_cxr`` train.json with
``--dataset_dir``, ``--datalist`` and ``--cache_dir`` (the disk cache written once, read by the second run)."""

from __future__ import annotations

import pytest

from monai_xrgan.data.prepare.__main__ import main
from monai_xrgan.demo.phantoms import synthetic_chest_xray
from monai_xrgan.io.xray import write_png

from helpers.bundles import TINY, run_bundle

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def radiography_db(tmp_path_factory):
    root = tmp_path_factory.mktemp("db") / "COVID-19_Radiography_Dataset"
    for folder, finding, n in (
        ("Normal", "normal", 6),
        ("Viral Pneumonia", "viral_pneumonia", 4),
        ("COVID", "covid_mild", 4),
    ):
        for i in range(n):
            write_png(root / folder / "images" / f"{folder}-{i + 1}.png", synthetic_chest_xray(i, 80, finding))
    return root


@pytest.mark.parametrize("bundle", ["drai_cxr", "pix2pix_cxr"])
def test_prepared_datalist_trains_and_is_cached(radiography_db, tmp_path, bundle):
    datalist = tmp_path / f"{bundle}.json"
    args = ["covid19_radiography", "--root", radiography_db, "--out", datalist, "--bundle", bundle, "--val", 0.25]
    assert main([str(a) for a in args]) == 0
    cache = tmp_path / "cache"
    common = ["--dataset_dir", radiography_db, "--datalist", datalist, "--cache_dir", cache, *TINY[bundle].overrides]
    run_bundle(bundle, ["train.json"], ["--bundle_root", tmp_path / "run1", *common])
    files = sorted(cache.iterdir())
    assert files and all(f.suffix == ".pt" for f in files)
    mtimes = [f.stat().st_mtime_ns for f in files]
    run_bundle(bundle, ["train.json"], ["--bundle_root", tmp_path / "run2", *common])
    assert sorted(cache.iterdir()) == files and [f.stat().st_mtime_ns for f in files] == mtimes  # read, not rewritten
