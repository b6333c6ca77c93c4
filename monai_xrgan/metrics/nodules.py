"""Nodule detection at known positions: is a nodule still found by a matched filter after restoration?

The detector is a matched filter for a bright blob of the nodule's size, a difference of Gaussians (sigma ``s =
max(r / 2, 0.5)`` pixels minus ``3 s``, ``r`` the nodule radius), applied to the difference between the image with
the nodule and the same patient's image without it (both restored the same way): its peak within ``max(r, 1)``
pixels of the labelled centre is the nodule's ``signal``. A restored nodule counts as found when it keeps at least
``fraction`` of the signal it had in the input pair (:func:`nodules_found`). The difference removes the anatomy
around the nodule, which at demo sizes is as bright and as large as the nodule itself. Positions are fractions of the
image size in MONAI's ``(x, y)`` order, as for :func:`~monai_xrgan.metrics.cnr.lesion_cnr`.
"""

from __future__ import annotations

import numpy as np
import torch
from monai.networks.layers import gaussian_1d, separable_filtering

from monai_xrgan.utils.errors import ConfigError

__all__ = ["FOUND_FRACTION", "matched_filter_signal", "nodules_found"]

#: a restored nodule is found when it keeps at least this fraction of its input matched-filter signal
FOUND_FRACTION = 0.5


def _blur(image: torch.Tensor, sigma: float) -> torch.Tensor:
    """``(1, 1, W, H)`` image blurred by a Gaussian of ``sigma`` pixels (reflect padding)."""
    kernel = gaussian_1d(torch.tensor(sigma), truncated=3.0).to(image)
    return separable_filtering(image, [kernel, kernel], mode="reflect")


def matched_filter_signal(with_nodule: torch.Tensor, without: torch.Tensor, lesions: torch.Tensor) -> torch.Tensor:
    """Matched-filter signal of each labelled nodule (see the module docstring).

    Args:
        with_nodule: ``(B, C, W, H)`` images with the nodule (first channel used).
        without: the same images without it.
        lesions: ``(B, 3)`` nodule centre ``x, y`` and radius ``r`` as fractions of the image width/height.

    Returns:
        ``(B,)`` signals, in the images' grey units.
    """
    if with_nodule.shape != without.shape or with_nodule.ndim != 4:
        raise ConfigError(f"matched_filter_signal needs two (B, C, W, H) images of one shape, got "
                          f"{tuple(with_nodule.shape)} and {tuple(without.shape)}.")  # fmt: skip
    if lesions.ndim != 2 or lesions.shape != (with_nodule.shape[0], 3):
        raise ConfigError(f"matched_filter_signal needs lesions (B, 3) as (x, y, radius) fractions, got "
                          f"{tuple(lesions.shape)} for {with_nodule.shape[0]} images.")  # fmt: skip
    _, _, w, h = with_nodule.shape
    xs = torch.arange(w, dtype=torch.float32)[:, None]
    ys = torch.arange(h, dtype=torch.float32)[None, :]
    difference = (with_nodule[:, :1] - without[:, :1]).float().cpu()
    signals = []
    for image, (fx, fy, fr) in zip(difference, lesions.float().cpu().tolist()):
        sigma = max(fr * w / 2.0, 0.5)
        response = (_blur(image[None], sigma) - _blur(image[None], 3 * sigma))[0, 0]
        near = torch.sqrt((xs - (fx * w - 0.5)) ** 2 + (ys - (fy * h - 0.5)) ** 2) <= max(fr * w, 1.0)
        signals.append(response[near].max())
    return torch.stack(signals)


def nodules_found(restored: np.ndarray, reference: np.ndarray, fraction: float = FOUND_FRACTION) -> np.ndarray:
    """Which nodules are found after restoration: ``restored >= fraction * reference`` where the nodule had a
    positive ``reference`` signal (the input pair's); ``False`` elsewhere."""
    restored, reference = np.asarray(restored, dtype=float), np.asarray(reference, dtype=float)
    return (reference > 0) & (restored >= fraction * reference)
