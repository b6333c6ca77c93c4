"""DRRs on analytic phantoms: path lengths, Beer-Lambert, geometry, nodule insertion and its projected label."""

from __future__ import annotations

import math
import time

import numpy as np
import pytest
import torch
from monai.data import MetaTensor

from monai_xrgan.transforms.drr import (
    DRRLayout,
    ProjectDRR,
    ProjectDRRd,
    RandInsertNoduled,
    hu_to_attenuation,
    insert_random_nodule,
    lung_mask_from_hu,
    water_attenuation,
)
from monai_xrgan.utils.errors import ConfigError, InputFileError


def _cube(n: int = 32, side: int = 16, hu: float = 0.0, background: float = -1000.0) -> torch.Tensor:
    volume = torch.full((n, n, n), background)
    lo = (n - side) // 2
    volume[lo : lo + side, lo : lo + side, lo : lo + side] = hu
    return volume


def _thorax(n: int = 48) -> torch.Tensor:
    """Soft-tissue box with two air-filled 'lungs' inside, in air."""
    volume = torch.full((n, n, n), -1000.0)
    volume[4:-4, 4:-4, 4:-4] = 40.0
    volume[8 : n // 2 - 2, 10:-10, 8:-8] = -850.0
    volume[n // 2 + 2 : -8, 10:-10, 8:-8] = -850.0
    return volume


def test_water_attenuation_and_hu_mapping():
    assert water_attenuation(60.0) == pytest.approx(0.02059, rel=1e-3)  # 0.2059 cm^2/g -> 1/mm
    assert water_attenuation(70.0) < water_attenuation(60.0) < water_attenuation(50.0)
    mu = hu_to_attenuation(torch.tensor([-1000.0, -2000.0, 0.0, 1000.0]), 0.02)
    torch.testing.assert_close(mu, torch.tensor([0.0, 0.0, 0.02, 0.04]))
    with pytest.raises(ConfigError, match="energy_kev"):
        water_attenuation(5.0)


def test_uniform_cube_projects_to_its_path_length():
    mu, spacing = 0.02, (2.0, 1.5, 2.0)
    drr = ProjectDRR(mu_water=mu, normalize=False)(_cube(hu=0.0), spacing)
    assert drr.shape == (1, 32, 32)
    inside, outside = drr[0, 16, 16].item(), drr[0, 1, 1].item()
    assert inside == pytest.approx(mu * 16 * spacing[1], rel=1e-5)  # 16 voxels x 1.5 mm of water
    assert outside == 0.0
    hits = drr[0] > 0
    assert hits.sum().item() == 16 * 16  # the cube's (X, Z) footprint
    bone = ProjectDRR(mu_water=mu, normalize=False)(_cube(hu=1000.0), spacing)
    assert bone[0, 16, 16].item() == pytest.approx(2 * inside, rel=1e-5)  # mu doubles at +1000 HU


def test_transmission_mapping_is_beer_lambert():
    spacing = (1.0, 1.0, 1.0)
    p = ProjectDRR(mu_water=0.02, normalize=False)(_cube(), spacing)
    one_minus_i = ProjectDRR(mu_water=0.02, mapping="transmission", normalize=False)(_cube(), spacing)
    torch.testing.assert_close(one_minus_i, 1.0 - torch.exp(-p))


def test_geometry_head_up_aspect_and_pixel_spacing():
    volume = torch.full((20, 10, 40), -1000.0)
    volume[2, :, 35] = 0.0  # patient's right (low X), near the head (high Z)
    drr = ProjectDRR(mu_water=0.02, spatial_size=None, normalize=False)(volume, (2.0, 1.0, 1.0))
    assert drr.shape == (1, 20, 40)
    x, y = np.unravel_index(int(drr[0].argmax()), drr.shape[1:])
    assert (x, y) == (2, 40 - 1 - 35)  # x follows X, the head is at the top (small y)
    square = ProjectDRR(mu_water=0.02, spatial_size=32)(
        MetaTensor(volume[None], affine=torch.diag(torch.tensor([2.0, 1.0, 1.0, 1.0])))
    )
    assert square.shape == (1, 32, 32) and float(square.min()) == 0.0 and float(square.max()) == 1.0
    torch.testing.assert_close(
        square.affine[:2, :2].diag(), torch.tensor([1.25, 1.25], dtype=torch.float64)
    )  # 40 mm / 32


def test_layout_maps_voxels_to_pixels():
    layout = DRRLayout.of((64, 64, 32), (1.0, 1.0, 2.0), 32)
    assert layout.size == (32, 32) and layout.pad == (0, 0)
    x, y = layout.to_pixel((31.5, 0, 15.5))  # the volume centre
    assert (x, y) == pytest.approx((15.5, 15.5))
    assert layout.to_pixels(10.0) == pytest.approx(5.0)


def test_nodule_raises_attenuation_where_it_is():
    volume = _thorax()
    spacing = (4.0, 4.0, 4.0)
    out, label = insert_random_nodule(volume, spacing, np.random.default_rng(3), diameter_mm=(16.0, 20.0),
                                      pleura_distance_mm=4.0)  # fmt: skip
    i, j, k = (int(c) for c in label["center_voxel"])
    assert lung_mask_from_hu(volume)[i, j, k]
    assert out[i, j, k] == pytest.approx(label["density_hu"], abs=60.0)
    assert -100.0 <= label["density_hu"] <= 100.0 and 16.0 <= label["diameter_mm"] <= 20.0
    changed = np.argwhere(np.abs(out - volume.numpy()) > 1.0)
    assert np.all(np.linalg.norm((changed - [i, j, k]) * 4.0, axis=1) <= label["diameter_mm"] / 2 * 1.4 + 12.0)

    data = {"ct": MetaTensor(torch.from_numpy(out)[None], affine=torch.diag(torch.tensor([*spacing, 1.0]))),
            "nodule_center_voxel": torch.tensor(label["center_voxel"]),
            "nodule_diameter_mm": label["diameter_mm"]}  # fmt: skip
    projector = ProjectDRRd("ct", mu_water=0.02, spatial_size=48, normalize=False)
    with_nodule = projector(data)
    without = projector({"ct": MetaTensor(volume[None], affine=torch.diag(torch.tensor([*spacing, 1.0])))})["ct"]
    difference = (with_nodule["ct"] - without)[0]
    peak = np.unravel_index(int(difference.argmax()), difference.shape)
    cx, cy = with_nodule["nodule_center"].tolist()
    assert abs(peak[0] - cx) <= 1.0 and abs(peak[1] - cy) <= 1.0
    assert with_nodule["nodule_diameter"].item() == pytest.approx(label["diameter_mm"] / 4.0, rel=1e-5)
    assert float(difference.min()) >= -1e-5  # a nodule only adds attenuation


def test_rand_insert_noduled_is_seeded_and_checks_its_inputs():
    volume = MetaTensor(_thorax()[None], affine=torch.diag(torch.tensor([4.0, 4.0, 4.0, 1.0])))
    transform = RandInsertNoduled("ct", diameter_mm=10.0, pleura_distance_mm=2.0)
    a = transform.set_random_state(seed=1)({"ct": volume})
    b = transform.set_random_state(seed=1)({"ct": volume})
    torch.testing.assert_close(a["nodule_center_voxel"], b["nodule_center_voxel"])
    assert a["ct"].shape == (1, 48, 48, 48) and a["nodule_diameter_mm"] == 10.0
    with pytest.raises(InputFileError, match="no lung region"):
        insert_random_nodule(torch.zeros(16, 16, 16), (1.0, 1.0, 1.0), np.random.default_rng(0))
    with pytest.raises(ConfigError, match="spacing"):
        ProjectDRR()(torch.zeros(8, 8, 8))
    with pytest.raises(ConfigError, match="mapping"):
        ProjectDRR(mapping="linear")


def test_projection_time_of_a_256_cube_on_cpu():
    """Measured, not asserted against a bound (shared CI machines): a 256^3 volume projects with one reduction."""
    volume = torch.randn(256, 256, 256) * 100.0 - 500.0
    projector = ProjectDRR(spatial_size=256)
    projector(volume, (1.5, 1.5, 1.5))
    start = time.perf_counter()
    drr = projector(volume, (1.5, 1.5, 1.5))
    elapsed = time.perf_counter() - start
    print(f"256^3 DRR projection: {elapsed * 1000:.1f} ms")
    assert drr.shape == (1, 256, 256) and math.isfinite(elapsed)
