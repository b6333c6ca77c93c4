from __future__ import annotations

import json
from collections import Counter

import numpy as np
import pytest
import torch

from monai_xrgan.data import load_datalist
from monai_xrgan.demo.datasets import make_demo_dataset
from monai_xrgan.demo.tasks import migan
from monai_xrgan.transforms import LoadCTSliced
from monai_xrgan.transforms.ct import lung_slice_indices
from monai_xrgan.utils.errors import ConfigError

TINY = {"size": 32, "num_train": 2, "num_train_mild": 1, "num_val": 1, "num_test": 1}


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    root = tmp_path_factory.mktemp("migan_demo")
    return root, json.loads(make_demo_dataset("migan", root, **TINY).read_text())


def test_slice_level_lists_with_domains_and_a_scarce_key_domain(demo):
    root, datalist = demo
    assert datalist["domains"] == ["normal", "viral_pneumonia", "covid_mild"]
    volumes = {
        split: {item["image"] for item in datalist[split]} for split in ("training", "validation", "test_slices")
    }
    assert len(volumes["training"]) == 5 and not volumes["training"] & (volumes["validation"] | volumes["test_slices"])
    assert {item["image"] for item in datalist["test"]} == volumes["test_slices"]
    counts = {d: len({i["image"] for i in datalist["training"] if i["domain"] == d}) for d in range(3)}
    assert counts == {0: 2, 1: 2, 2: 1}
    items = load_datalist(root / "datalist.json", "training", root, keys=["image", "slice", "domain"])
    loader = LoadCTSliced("image")
    for item in items[:3]:
        lungs = lung_slice_indices(loader.loader.volume(item["image"]))
        assert item["slice"] in lungs and item["image"].endswith(".nii.gz")
    assert loader(items[0])["image"].shape == (1, 32, 32)


def test_deterministic_and_dicom_series(demo, tmp_path):
    _, datalist = demo
    again = json.loads(make_demo_dataset("migan", tmp_path / "again", **TINY).read_text())
    assert again == datalist
    dicom = json.loads(make_demo_dataset("migan", tmp_path / "dicom", format="dicom", **TINY).read_text())
    first = dicom["training"][0]
    assert (tmp_path / "dicom" / first["image"]).is_dir()
    nifti = LoadCTSliced("image")({**datalist["training"][0], "image": str(demo[0] / datalist["training"][0]["image"])})
    series = LoadCTSliced("image")({**first, "image": str(tmp_path / "dicom" / first["image"])})
    torch.testing.assert_close(series["image"].as_tensor(), nifti["image"].as_tensor(), atol=1.0, rtol=0)


def test_four_domains_and_bad_options(tmp_path):
    datalist = json.loads(make_demo_dataset("migan", tmp_path, num_domains=4, **TINY).read_text())
    assert datalist["domains"][-1] == "covid_severe" and {i["domain"] for i in datalist["test"]} == {0, 1, 2, 3}
    with pytest.raises(ConfigError, match="num_domains must be 3 or 4"):
        make_demo_dataset("migan", tmp_path / "bad", num_domains=5, size=32)
    with pytest.raises(ConfigError, match="slice_step must be an integer >= 0"):
        make_demo_dataset("migan", tmp_path / "bad", slice_step=-1, size=32)
    with pytest.raises(ConfigError, match="min_finding_fraction must be in \\[0, 1\\)"):
        make_demo_dataset("migan", tmp_path / "bad", min_finding_fraction=1.5, size=32)


def test_finding_fraction_per_axial_slice():
    lung = np.zeros((4, 4, 3), dtype=bool)
    lung[:, :, 1:] = True
    lesion = np.zeros_like(lung)
    lesion[:2, :2, 2] = True
    np.testing.assert_allclose(migan._finding_fractions({"lung_mask": lung, "lesion_mask": lesion}), [0, 0, 0.25])


def test_defaults_give_three_test_patients_per_domain_and_two_scarce_training_patients(tmp_path, monkeypatch):
    """The experiment's demo (task defaults): counts of patients per split and domain, one slice every ~12.5 mm."""
    lungs = list(range(4, 28))  # what lung_slice_indices finds in a 32-voxel phantom (rendering is skipped here)
    fractions = np.where(np.arange(32) < 10, 0.2, 0.0)  # a finding in slices 0-9 only, in any domain

    def fake_volume(writer, relative, seed, finding):
        return f"{relative}.nii.gz", lungs, fractions

    monkeypatch.setattr(migan, "_write_volume", fake_volume)
    datalist = json.loads(make_demo_dataset("migan", tmp_path, size=32).read_text())
    assert Counter(i["domain"] for i in datalist["test"]) == {0: 3, 1: 3, 2: 3}  # test volumes
    training = Counter(i["domain"] for i in datalist["training"])  # slices: every lung slice at 32 voxels
    shown = [k for k in lungs if k < 10]  # a patient with a finding: only the slices that show it
    assert training == {0: 4 * len(lungs), 1: 4 * len(shown), 2: 2 * len(shown)}
    every = json.loads(make_demo_dataset("migan", tmp_path / "all", size=32, min_finding_fraction=0.0).read_text())
    assert Counter(i["domain"] for i in every["training"]) == {0: 4 * len(lungs), 1: 4 * len(lungs), 2: 2 * len(lungs)}
    assert [migan.auto_slice_step(size) for size in (32, 48, 64, 128, 256)] == [1, 1, 2, 4, 8]
