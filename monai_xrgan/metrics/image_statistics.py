"""Distances between two sets of images that need no feature network: their grey-level histograms and their
radially averaged power spectra (how much detail at every spatial frequency), e.g. of generated LQ radiographs and
real DRRs. Both are 0 for identical sets; both compare sets, not pairs, so the images need not show the same patient.

* :func:`histogram_distance`: the 1-D Wasserstein (earth mover's) distance between the pooled grey levels of the
  two sets, in intensity units: a global brightness or contrast change moves it, blur of a flat-histogram image
  hardly does.
* :func:`power_spectrum_distance`: the RMS difference of the log10 mean radially averaged power spectra, in
  decades: blur (loss of high frequencies) or added noise (gain of them) moves it, a grey-level shift does not.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from monai_xrgan.utils.errors import ConfigError

__all__ = ["histogram_distance", "radial_power_spectrum", "power_spectrum_distance"]


def _images(images: torch.Tensor, name: str) -> torch.Tensor:
    """``images`` as a float64 ``(N, X, Y)`` stack of single-channel 2-D images."""
    images = torch.as_tensor(images)
    if images.ndim == 4 and images.shape[1] == 1:
        images = images[:, 0]
    if images.ndim != 3 or images.shape[0] == 0 or min(images.shape[1:]) < 2:
        raise ConfigError(
            f"{name} must be a non-empty (N, X, Y) or (N, 1, X, Y) image stack, got {tuple(images.shape)}."
        )
    return images.double()


def histogram_distance(
    images_a: torch.Tensor, images_b: torch.Tensor, value_range: Sequence[float] = (-1.0, 1.0), bins: int = 256
) -> float:
    """Wasserstein-1 distance between the grey-level distributions of two image sets (all pixels pooled).

    ``W1 = sum_k |CDF_a(k) - CDF_b(k)| * bin_width`` over ``bins`` equal bins of ``value_range`` (values outside are
    clipped into the end bins), in the units of ``value_range``.
    """
    low, high = float(value_range[0]), float(value_range[1])
    if not high > low or bins < 2:
        raise ConfigError(f"value_range must be (low, high) with high > low and bins >= 2, got {value_range}, {bins}.")
    cdfs = []
    for images, name in ((images_a, "images_a"), (images_b, "images_b")):
        values = _images(images, name).clamp(low, high).flatten()
        histogram = torch.histc(values, bins=bins, min=low, max=high)
        cdfs.append(histogram.cumsum(0) / histogram.sum())
    return float((cdfs[0] - cdfs[1]).abs().sum() * (high - low) / bins)


def radial_power_spectrum(images: torch.Tensor) -> torch.Tensor:
    """Mean over ``images`` ``(N, X, Y)`` of the radially averaged power spectrum ``|FFT|²`` (each image's mean is
    removed first); entry ``r`` averages the frequencies at integer radius ``r`` (cycles per image side, square
    images assumed: radius in frequency-index units), ``r = 1 ... min(X, Y) // 2``."""
    images = _images(images, "images")
    size_x, size_y = images.shape[1:]
    power = torch.fft.fft2(images - images.mean(dim=(1, 2), keepdim=True)).abs().square().mean(0)
    fx = torch.fft.fftfreq(size_x, d=1.0 / size_x, dtype=torch.float64)
    fy = torch.fft.fftfreq(size_y, d=1.0 / size_y, dtype=torch.float64)
    radius = torch.sqrt(fx[:, None].square() + fy[None, :].square()).round().long().flatten()
    sums = torch.bincount(radius, weights=power.flatten())
    counts = torch.bincount(radius).clamp(min=1)
    return (sums / counts)[1 : min(size_x, size_y) // 2 + 1]  # radius 0 (the removed mean) and the corners dropped


def power_spectrum_distance(images_a: torch.Tensor, images_b: torch.Tensor, eps: float = 1e-12) -> float:
    """RMS over radii of ``log10 P_a(r) - log10 P_b(r)`` (:func:`radial_power_spectrum` of each set), in decades.

    The two sets must have the same image size.
    """
    a, b = _images(images_a, "images_a"), _images(images_b, "images_b")
    if a.shape[1:] != b.shape[1:]:
        raise ConfigError(
            f"both image sets need the same image size, got {tuple(a.shape[1:])} and {tuple(b.shape[1:])}."
        )
    log_a, log_b = (torch.log10(radial_power_spectrum(x) + eps) for x in (a, b))
    return float((log_a - log_b).square().mean().sqrt())
