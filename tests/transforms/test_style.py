from __future__ import annotations

import pytest
import torch

from monai_xrgan.transforms import RandomStyleTransform
from monai_xrgan.utils.errors import ConfigError


def test_random_style_transform_changes_each_image_within_the_range():
    x = torch.rand(4, 1, 32, 32) * 2 - 1
    torch.manual_seed(0)
    y = RandomStyleTransform()(x)
    torch.manual_seed(0)
    torch.testing.assert_close(RandomStyleTransform()(x), y)  # seeded by the global torch seed
    assert y.shape == x.shape and y.min() >= -1 and y.max() <= 1
    assert all(not torch.allclose(a, b, atol=1e-3) for a, b in zip(x, y))


def test_random_style_transform_with_empty_ranges_is_the_identity():
    x = torch.rand(3, 1, 16, 16) * 2 - 1
    still = RandomStyleTransform(rotate=0, translate=0, scale=0, gamma=(1, 1), blur_sigma=0, noise_std=0)
    torch.testing.assert_close(still(x), x, atol=1e-5, rtol=0)
    blur_only = RandomStyleTransform(rotate=0, translate=0, scale=0, gamma=(1, 1), blur_sigma=2.0, noise_std=0)
    flat = torch.full((2, 1, 16, 16), 0.25)
    torch.testing.assert_close(blur_only(flat), flat)  # normalised kernels keep constant images


@pytest.mark.parametrize("kwargs", [{"rotate": -0.1}, {"gamma": (1.2, 0.8)}, {"gamma": (0.0, 1.0)}, {"noise_std": -1}])
def test_random_style_transform_rejects_bad_ranges(kwargs):
    with pytest.raises(ConfigError, match="RandomStyleTransform"):
        RandomStyleTransform(**kwargs)
