"""Tests of the synthetic thorax CT phantoms (monai_xrgan.demo.ct_phantoms)."""

from __future__ import annotations

import time

import nibabel as nib
import numpy as np
import pytest
from PIL import Image

from monai_xrgan.demo import ct_phantoms
from monai_xrgan.demo.ct_phantoms import (
    FINDINGS,
    TISSUE_LABELS,
    Thorax,
    make_ct_montage,
    phantom_affine,
    render_ct,
    sample_thorax,
    synthetic_ct,
)
from monai_xrgan.utils.errors import ConfigError

SIZE = 64


def _interior(mask: np.ndarray) -> np.ndarray:
    """Voxels of ``mask`` whose six face neighbours are in it too (no partial volume)."""
    out = mask.copy()
    for axis in range(3):
        for shift in (1, -1):
            out &= np.roll(mask, shift, axis=axis)
    return out


@pytest.fixture(scope="module")
def volumes() -> dict[str, tuple[np.ndarray, dict]]:
    """One patient with every finding, at 64^3."""
    return {finding: synthetic_ct(7, SIZE, finding, return_info=True) for finding in FINDINGS}


def test_deterministic_per_seed_and_different_between_seeds():
    first = synthetic_ct(3, 40, "covid_severe")
    ct_phantoms._base.cache_clear()  # draw the patient again from scratch, not from the per-patient cache
    again = synthetic_ct(3, 40, "covid_severe")
    np.testing.assert_array_equal(first, again)
    assert np.abs(first - synthetic_ct(4, 40, "covid_severe")).mean() > 20.0
    rng_a, rng_b = np.random.default_rng(11), np.random.default_rng(11)
    assert sample_thorax(rng_a) == sample_thorax(rng_b)


def test_hounsfield_units_per_tissue(volumes):
    volume, info = volumes["normal"]
    assert volume.shape == (SIZE,) * 3 and volume.dtype == np.float32 and np.isfinite(volume).all()
    labels = info["labels"]
    means = {}
    for name, label in TISSUE_LABELS.items():
        core = _interior(labels == label)
        if core.sum() > 20:
            means[name] = float(volume[core].mean())
    assert abs(means["air"] + 1000) < 15
    assert -130 < means["fat"] < -70
    assert 20 < means["soft_tissue"] < 60
    assert 35 < means["blood"] < 65
    assert means["bone"] > 300
    lung = info["lung_mask"]
    assert -880 < volume[lung].mean() < -790  # aerated lung with its vessels and bronchi
    assert -940 < np.median(volume[lung]) < -840


def test_orientation_and_affine():
    volume, info = synthetic_ct(2, (64, 56, 48), return_info=True, noise_hu=0.0)
    affine = info["affine"]
    np.testing.assert_allclose(affine, phantom_affine((64, 56, 48)))
    assert nib.aff2axcodes(affine) == ("L", "P", "S")
    np.testing.assert_allclose(affine[:3, :3] @ (np.array([64, 56, 48]) - 1) / 2 + affine[:3, 3], 0, atol=1e-9)
    labels = info["labels"]
    idx = np.indices(volume.shape)
    centre = (np.array(volume.shape) - 1) / 2
    lung = info["lung_mask"]
    blood_core = _interior(labels == TISSUE_LABELS["blood"])
    assert idx[0][blood_core].mean() > centre[0]  # the heart lies towards the patient's left (+X)
    bone_mid = (labels == TISSUE_LABELS["bone"]) & (np.abs(idx[0] - centre[0]) < 3)
    assert idx[1][bone_mid].mean() > idx[1][lung].mean()  # the spine is posterior (+Y) to the lungs
    assert idx[2][lung].mean() > centre[2]  # the lungs are in the upper (+Z) half, the abdomen below
    # the right lung (X < centre) reaches less far down than the left one: the right dome is higher
    right = lung & (idx[0] < centre[0])
    left = lung & (idx[0] > centre[0])
    assert np.percentile(idx[2][right], 5) >= np.percentile(idx[2][left], 5)


def test_findings_only_change_the_lungs(volumes):
    normal, info = volumes["normal"]
    lung = info["lung_mask"]
    for finding in FINDINGS[1:]:
        volume, finding_info = volumes[finding]
        changed = volume != normal
        assert changed.any(), finding
        assert not (changed & ~lung).any(), finding
        assert finding_info["lesion_mask"].any() and not (finding_info["lesion_mask"] & ~lung).any()
        np.testing.assert_array_equal(finding_info["lung_mask"], lung)


def test_covid_is_peripheral_posterior_basal_and_severe_consolidates(volumes):
    normal, info = volumes["normal"]
    lung = info["lung_mask"]
    idx = np.indices(normal.shape)
    mild, mild_info = volumes["covid_mild"]
    severe, severe_info = volumes["covid_severe"]
    for lesions in (mild_info["lesion_mask"], severe_info["lesion_mask"]):
        assert idx[1][lesions].mean() > idx[1][lung].mean()  # posterior
        assert idx[2][lesions].mean() < idx[2][lung].mean()  # basal
    assert len(severe_info["lesions"]) > len(mild_info["lesions"]) >= 2
    assert {lesion["side"] for lesion in severe_info["lesions"]} == {"left", "right"}
    assert severe_info["lesion_mask"].sum() > 2 * mild_info["lesion_mask"].sum()
    lesion = mild_info["lesion_mask"]
    rise = mild[lesion] - normal[lesion]
    core = mild[lesion][rise >= np.percentile(rise, 75)]
    assert -700 < np.median(core) < -300  # ground glass, not consolidation
    consolidated = lambda v: ((v > -100) & (v < 60) & lung).sum()  # noqa: E731
    assert consolidated(severe) > consolidated(normal) + 50
    assert consolidated(mild) < consolidated(normal) + 20


def test_viral_pneumonia_is_diffuse_and_bilateral(volumes):
    normal, info = volumes["normal"]
    viral, _ = volumes["viral_pneumonia"]
    lung = info["lung_mask"]
    idx = np.indices(normal.shape)
    centre = (normal.shape[0] - 1) / 2
    for side in (idx[0] < centre, idx[0] > centre):
        rise = viral[lung & side] - normal[lung & side]
        assert np.median(rise) > 60  # ground glass across each lung, not a focal lesion
    assert (viral[lung] - normal[lung]).max() < 1000


@pytest.mark.parametrize("diameter, density, margin", [(12.0, 40.0, 0.5), (20.0, -60.0, 2.0)])
def test_nodule_is_configurable_and_located(diameter, density, margin):
    volume, info = synthetic_ct(
        5,
        96,
        "nodule",
        return_info=True,
        noise_hu=0.0,
        nodule_diameter_mm=diameter,
        nodule_density_hu=density,
        nodule_margin_mm=margin,
    )
    centre = np.array(info["nodule_center_voxel"])
    voxel = tuple(int(round(c)) for c in centre)
    assert info["lung_mask"][voxel]
    assert abs(volume[voxel] - density) < 60
    world = info["affine"] @ np.append(centre, 1.0)
    np.testing.assert_allclose(info["nodule_center_mm"], world[:3])
    sphere = 4 / 3 * np.pi * (diameter / 2) ** 3 / np.prod(info["spacing"])
    assert 0.4 * sphere < info["lesion_mask"].sum() < 2.0 * sphere
    assert info["nodule_diameter_mm"] == diameter and info["nodule_margin_mm"] == margin


def test_sizes_spacing_and_resolution_independence():
    small, small_info = synthetic_ct(1, 32, "covid_mild", return_info=True)
    assert small.shape == (32, 32, 32) and np.isfinite(small).all() and small_info["lung_mask"].any()
    volume, info = synthetic_ct(1, (64, 48, 40), spacing=(3.0, 3.0, 6.0), return_info=True)
    assert volume.shape == (64, 48, 40)
    np.testing.assert_allclose(np.diag(info["affine"])[:3], [-3.0, -3.0, 6.0])
    litres = lambda i: i["lung_mask"].sum() * np.prod(i["spacing"]) / 1e6  # noqa: E731
    reference = litres(synthetic_ct(1, 96, return_info=True)[1])
    assert 3.0 < reference < 6.5  # an adult's lungs
    assert abs(litres(synthetic_ct(1, 64, return_info=True)[1]) - reference) < 0.08 * reference  # same patient


def test_large_volume_once():
    start = time.perf_counter()
    volume = synthetic_ct(9, 256)
    seconds = time.perf_counter() - start
    assert volume.shape == (256,) * 3 and volume.dtype == np.float32
    assert -1100 < volume.min() and volume.max() < 1500
    assert seconds < 30, f"256^3 phantom took {seconds:.1f} s"


def test_bad_arguments_raise_config_errors():
    for shape in (16, 300, (64, 64), "64", 64.5):
        with pytest.raises(ConfigError, match="shape"):
            synthetic_ct(0, shape)
    with pytest.raises(ConfigError, match="finding"):
        synthetic_ct(0, 32, "pneumothorax")
    with pytest.raises(ConfigError, match="spacing"):
        synthetic_ct(0, 32, spacing=(1.0, 2.0))
    with pytest.raises(ConfigError, match="seed"):
        synthetic_ct(-1, 32)
    with pytest.raises(ConfigError, match="nodule"):
        synthetic_ct(0, 32, "nodule", nodule_diameter_mm=90.0)
    with pytest.raises(ConfigError, match="Thorax"):
        Thorax(body_width=3.0)
    with pytest.raises(ConfigError, match="anatomy"):
        render_ct("patient", 32)


def test_montage_command(tmp_path):
    path = make_ct_montage(tmp_path / "montage.png", seed=0, size=32)
    with Image.open(path) as image:
        assert image.size[0] > 5 * 32 and image.size[1] > 5 * 32
