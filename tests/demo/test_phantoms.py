"""Tests of the synthetic chest radiograph phantoms (monai_xrgan.demo.phantoms)."""

from __future__ import annotations

import time

import numpy as np
import pytest
from PIL import Image

from monai_xrgan.demo import phantoms
from monai_xrgan.demo.phantoms import (
    FINDINGS,
    Acquisition,
    Anatomy,
    lung_mask,
    make_montage,
    render_chest_xray,
    sample_acquisition,
    sample_anatomy,
    synthetic_chest_xray,
)

SHARP = Acquisition(noise=0.01, blur=0.0)


def _dilate(mask: np.ndarray, radius: int) -> np.ndarray:
    """Square dilation by ``radius`` pixels."""
    out = mask.copy()
    padded = np.pad(mask, radius)
    n, m = mask.shape
    for dr in range(2 * radius + 1):
        for dc in range(2 * radius + 1):
            out |= padded[dr : dr + n, dc : dc + m]
    return out


def test_deterministic_per_seed_and_different_between_seeds():
    first = synthetic_chest_xray(3, 64, "covid_severe")
    phantoms._anatomy_layers.cache_clear()  # redraw the patient from scratch, not from the per-patient cache
    again = synthetic_chest_xray(3, 64, "covid_severe")
    np.testing.assert_array_equal(first, again)
    assert np.abs(first - synthetic_chest_xray(4, 64, "covid_severe")).mean() > 0.01
    rng_a, rng_b = np.random.default_rng(7), np.random.default_rng(7)
    assert sample_anatomy(rng_a) == sample_anatomy(rng_b)
    assert sample_acquisition(rng_a) == sample_acquisition(rng_b)


@pytest.mark.parametrize("finding", FINDINGS)
def test_range_dtype_shape_small(finding):
    image = synthetic_chest_xray(1, 64, finding)
    assert image.shape == (64, 64) and image.dtype == np.float32
    assert 0.0 <= image.min() and image.max() <= 1.0 and image.std() > 0.1


def test_large_image_matches_small_one():
    big = synthetic_chest_xray(2, 1024)
    assert big.shape == (1024, 1024) and big.dtype == np.float32
    assert 0.0 <= big.min() and big.max() <= 1.0
    # same patient at every size: the 1024 image block-averaged to 64 is close to the 64 image
    small = big.reshape(64, 16, 64, 16).mean(axis=(1, 3))
    assert np.abs(small - synthetic_chest_xray(2, 64)).mean() < 0.03


def test_frontal_orientation():
    """Heart towards the image right (patient's left), right hemidiaphragm (image left) higher, dark lungs."""
    anatomy = Anatomy()
    image = render_chest_xray(anatomy, 256, acquisition=SHARP)
    mask = lung_mask(anatomy, 256)
    assert mask[:, :128].any() and mask[:, 128:].any()
    rows = np.arange(256)[:, None]
    # lowest lung row in the columns of each dome peak (the posterior recess is included on both sides)
    right_dome = (rows * mask[:, 70:74]).max()
    left_dome = (rows * mask[:, 182:186]).max()
    assert right_dome < left_dome
    assert image[mask].mean() < 0.4 < image[200:240, 110:146].mean()  # lungs darker than the abdomen
    # the heart region right of the spine is brighter than its mirror image in the right lung
    assert image[140:170, 150:180].mean() > image[140:170, 76:106].mean() + 0.2


def test_pair_differs_only_inside_the_lungs():
    rng = np.random.default_rng(11)
    anatomy, acquisition = sample_anatomy(rng), sample_acquisition(rng)
    normal = render_chest_xray(anatomy, 128, "normal", acquisition, np.random.default_rng(1))
    covid = render_chest_xray(anatomy, 128, "covid_severe", acquisition, np.random.default_rng(1))
    mask = lung_mask(anatomy, 128)
    blur_reach = int(np.ceil(3 * acquisition.blur * 128 / 256)) + 1
    outside = ~_dilate(mask, blur_reach)
    assert np.abs(covid - normal)[outside].max() == 0.0
    assert np.abs(covid - normal)[mask].mean() > 0.01


def test_covid_is_basal_and_severe_exceeds_mild():
    anatomy = Anatomy(seed=5)
    normal = render_chest_xray(anatomy, 128, "normal", SHARP)
    mild, info = render_chest_xray(anatomy, 128, "covid_mild", SHARP, np.random.default_rng(3), return_info=True)
    severe = render_chest_xray(anatomy, 128, "covid_severe", SHARP, np.random.default_rng(3))
    mask = info["lung_mask"]
    rows = np.flatnonzero(mask.any(axis=1))
    middle = (rows[0] + rows[-1]) // 2
    diff = severe - normal
    lower, upper = mask.copy(), mask.copy()
    lower[:middle], upper[middle:] = False, False
    assert diff[lower].mean() > diff[upper].mean()
    assert (severe - normal)[mask].mean() > (mild - normal)[mask].mean() > 0.0
    assert len(info["lesions"]) >= 2
    for lesion in info["lesions"]:
        row, col = lesion["center"]
        assert row > rows[0] + 0.3 * (rows[-1] - rows[0])  # lower two thirds of the lung fields


def test_viral_pneumonia_is_bilateral():
    anatomy = Anatomy(seed=6)
    normal = render_chest_xray(anatomy, 128, "normal", SHARP)
    viral = render_chest_xray(anatomy, 128, "viral_pneumonia", SHARP, np.random.default_rng(2))
    mask = lung_mask(anatomy, 128)
    diff = viral - normal
    for half in (slice(0, 64), slice(64, 128)):
        assert diff[:, half][mask[:, half]].mean() > 0.02


def test_nodule_raises_intensity_at_its_centre():
    anatomy = sample_anatomy(np.random.default_rng(9))
    normal = render_chest_xray(anatomy, 256, "normal", SHARP)
    image, info = render_chest_xray(
        anatomy, 256, "nodule", SHARP, np.random.default_rng(4), nodule_diameter_mm=20.0, return_info=True
    )
    row, col = (int(round(v)) for v in info["nodule_center"])
    assert info["lung_mask"][row, col]
    assert info["nodule_diameter_mm"] == 20.0 and info["nodule_diameter_px"] == pytest.approx(12.8)
    assert image[row, col] - normal[row, col] > 0.05
    far = np.ones_like(info["lung_mask"])
    far[max(0, row - 12) : row + 13, max(0, col - 12) : col + 13] = False
    assert np.abs(image - normal)[far].max() < 1e-3


def test_acquisition_factors_change_style():
    assert Acquisition.FACTOR_NAMES == ("exposure", "contrast", "noise", "blur")
    acq = Acquisition(exposure=1.1, contrast=0.9, noise=0.02, blur=0.5, seed=3)
    np.testing.assert_allclose(acq.factors(), [1.1, 0.9, 0.02, 0.5], rtol=1e-6)
    assert Acquisition.from_factors(acq.factors(), seed=3).factors().tolist() == acq.factors().tolist()
    anatomy = Anatomy(seed=1)
    dim = render_chest_xray(anatomy, 64, acquisition=Acquisition(exposure=0.8, noise=0.0))
    bright = render_chest_xray(anatomy, 64, acquisition=Acquisition(exposure=1.25, noise=0.0))
    assert bright.mean() > dim.mean() + 0.05
    noisy = render_chest_xray(anatomy, 64, acquisition=Acquisition(noise=0.03, blur=0.0))
    clean = render_chest_xray(anatomy, 64, acquisition=Acquisition(noise=0.0, blur=0.0))
    assert 0.005 < np.abs(noisy - clean).mean() < 0.05
    assert len(Anatomy().factors()) == len(Anatomy.FACTOR_NAMES)


@pytest.mark.parametrize(
    "kwargs, words",
    [
        ({"finding": "pneumothorax"}, ("finding", "covid_severe")),
        ({"size": 63}, ("size", "64", "1024")),
        ({"size": 1025}, ("size", "1024")),
        ({"size": 128.0}, ("size",)),
        ({"seed": -1}, ("seed",)),
    ],
)
def test_bad_arguments_raise_value_error(kwargs, words):
    args = {"seed": 0, "size": 64, "finding": "normal", **kwargs}
    with pytest.raises(ValueError) as err:
        synthetic_chest_xray(**args)
    assert all(w in str(err.value) for w in words)


def test_bad_acquisition_and_nodule_size():
    with pytest.raises(ValueError, match="Acquisition.exposure"):
        Acquisition(exposure=0.0)
    with pytest.raises(ValueError, match="Acquisition.noise"):
        Acquisition(noise=-0.1)
    with pytest.raises(ValueError, match="nodule_diameter_mm"):
        render_chest_xray(Anatomy(), 64, "nodule", nodule_diameter_mm=500.0)


def test_speed_256():
    synthetic_chest_xray(20, 256)  # warm-up (interpolation matrices)
    start = time.perf_counter()
    synthetic_chest_xray(21, 256, "covid_severe")
    assert time.perf_counter() - start < 1.0  # about 0.05 s on 2 cores; generous for loaded CI machines


def test_montage(tmp_path):
    path = make_montage(tmp_path / "montage.png", seeds=(0,), size=64)
    with Image.open(path) as image:
        assert image.mode == "L" and image.size == (5 * 64 + 4 * 4, 16 + 64)
