"""Lesion contrast-to-noise ratio at known positions."""

from __future__ import annotations

import pytest
import torch

from monai_xrgan.metrics import LesionCNRMetric, lesion_cnr
from monai_xrgan.utils.errors import ConfigError


def _images(contrast: float, noise: float = 0.1, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """Two 64^2 noisy images with a disc of radius 6 px at x=20, y=40 in the first one only."""
    images = noise * torch.randn(2, 1, 64, 64, generator=torch.Generator().manual_seed(seed))
    x = torch.arange(64, dtype=torch.float32)[:, None] + 0.5
    y = torch.arange(64, dtype=torch.float32)[None, :] + 0.5
    images[0, 0] += contrast * (((x - 20) ** 2 + (y - 40) ** 2) <= 36).float()
    lesions = torch.tensor([[20 / 64, 40 / 64, 6 / 64]] * 2)
    return images, lesions


def test_cnr_is_contrast_over_background_noise():
    images, lesions = _images(contrast=1.0, noise=0.1)
    cnr = lesion_cnr(images, lesions)
    assert cnr.shape == (2, 1)
    assert cnr[0, 0].item() == pytest.approx(10.0, rel=0.25)  # 1.0 / 0.1
    assert abs(cnr[1, 0].item()) < 1.0  # nothing there
    dark = lesion_cnr(-images, lesions)
    assert dark[0, 0].item() == pytest.approx(-cnr[0, 0].item())


def test_cnr_follows_the_position():
    images, lesions = _images(contrast=1.0)
    moved = lesions.clone()
    moved[:, 0] = 44 / 64
    assert lesion_cnr(images, moved)[0, 0].item() < 1.0


def test_metric_aggregates_and_skips_flat_backgrounds():
    images, lesions = _images(contrast=1.0)
    metric = LesionCNRMetric()
    metric(y_pred=images, y=lesions)
    metric(y_pred=torch.zeros(1, 1, 64, 64), y=lesions[:1])  # flat: NaN, left out of the mean
    expected = lesion_cnr(images, lesions).mean()
    assert metric.aggregate().item() == pytest.approx(expected.item())


def test_bad_shapes_are_named():
    with pytest.raises(ConfigError, match=r"lesions \(B, 3\)"):
        lesion_cnr(torch.zeros(1, 1, 8, 8), torch.zeros(1, 2))
    with pytest.raises(ConfigError, match="ring"):
        lesion_cnr(torch.zeros(1, 1, 8, 8), torch.zeros(1, 3), ring=(2.0, 1.0))


def test_background_ring_of_a_pixel_sized_lesion_leaves_the_core_out():
    """A lesion of radius 0.5 px: the core is its 1-pixel minimum disc (5 pixels), the ring must start outside it."""
    images = 0.1 * torch.randn(1, 1, 32, 32, generator=torch.Generator().manual_seed(0))
    x = torch.arange(32, dtype=torch.float32)[:, None]
    y = torch.arange(32, dtype=torch.float32)[None, :]
    images[0, 0] += (((x - 15) ** 2 + (y - 15) ** 2) <= 1).float()
    cnr = lesion_cnr(images, torch.tensor([[15.5 / 32, 15.5 / 32, 0.5 / 32]]))
    assert cnr.item() == pytest.approx(10.0, rel=0.3)  # 1.0 / 0.1, not diluted by core pixels counted as background
