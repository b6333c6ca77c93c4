"""Histogram and power-spectrum distances between image sets (monai_xrgan.metrics.image_statistics)."""

from __future__ import annotations

import pytest
import torch
from monai.transforms import GaussianSmooth

from monai_xrgan.metrics.image_statistics import histogram_distance, power_spectrum_distance, radial_power_spectrum
from monai_xrgan.utils.errors import ConfigError


def _textured(n: int = 6, size: int = 32, seed: int = 0) -> torch.Tensor:
    """Smooth-ish random images in [-0.8, 0.8] with detail at every frequency."""
    noise = torch.randn(n, size, size, generator=torch.Generator().manual_seed(seed))
    smooth = torch.stack([GaussianSmooth(1.0)(x[None])[0] for x in noise])
    return (0.5 * smooth + 0.1 * noise).clamp(-0.8, 0.8)


def test_identical_sets_have_zero_distances():
    images = _textured()
    assert histogram_distance(images, images.clone()) == pytest.approx(0.0, abs=1e-12)
    assert power_spectrum_distance(images, images.clone()) == pytest.approx(0.0, abs=1e-12)
    assert histogram_distance(images[:, None], images) == pytest.approx(0.0, abs=1e-12)  # (N, 1, X, Y) as well


def test_histogram_distance_is_the_grey_level_shift_and_ignores_order():
    images = _textured()
    assert histogram_distance(images, images + 0.1, bins=400) == pytest.approx(0.1, abs=0.01)
    assert histogram_distance(images, images.flip(0).transpose(1, 2)) == pytest.approx(0.0, abs=1e-12)
    assert histogram_distance(images, images * 0.5) > histogram_distance(images, images * 0.9) > 0.0


def test_blur_moves_the_power_spectrum_more_than_slight_noise_and_a_grey_shift_does_not():
    images = _textured()
    blurred = torch.stack([GaussianSmooth(1.5)(x[None])[0] for x in images])
    noisier = images + 0.01 * torch.randn(images.shape, generator=torch.Generator().manual_seed(1))
    blur, noise = power_spectrum_distance(images, blurred), power_spectrum_distance(images, noisier)
    assert blur > 0.5 > noise > 0.0
    assert power_spectrum_distance(images, images + 0.3) == pytest.approx(0.0, abs=1e-6)


def test_radial_power_spectrum_of_white_noise_is_flat_and_of_blur_falls():
    noise = torch.randn(64, 32, 32, generator=torch.Generator().manual_seed(2))
    spectrum = radial_power_spectrum(noise)
    assert spectrum.shape == (16,)
    assert torch.allclose(spectrum, torch.full_like(spectrum, 32 * 32), rtol=0.15)  # E|FFT|² = N σ²
    blurred = radial_power_spectrum(torch.stack([GaussianSmooth(1.5)(x[None])[0] for x in noise]))
    assert blurred[-1] < 0.01 * blurred[0]


def test_bad_inputs_are_refused_in_one_line():
    images = _textured()
    with pytest.raises(ConfigError, match="same image size"):
        power_spectrum_distance(images, images[:, :16, :16])
    with pytest.raises(ConfigError, match=r"\(N, X, Y\)"):
        histogram_distance(images[0], images)
    with pytest.raises(ConfigError, match="value_range"):
        histogram_distance(images, images, value_range=(1.0, -1.0))
