"""Matched-filter nodule detection at known positions."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from monai.networks.layers import GaussianFilter

from monai_xrgan.metrics.nodules import matched_filter_signal, nodules_found
from monai_xrgan.utils.errors import ConfigError


def _blob(size: int, x: float, y: float, r: float, contrast: float) -> torch.Tensor:
    xs = torch.arange(size, dtype=torch.float32)[:, None]
    ys = torch.arange(size, dtype=torch.float32)[None, :]
    disc = ((xs - (x * size - 0.5)) ** 2 + (ys - (y * size - 0.5)) ** 2 <= (r * size) ** 2).float()
    return contrast * disc[None, None]


def test_signal_follows_the_nodule_contrast_and_ignores_the_anatomy_around_it():
    torch.manual_seed(0)
    anatomy = GaussianFilter(2, 1.0)(torch.rand(1, 1, 32, 32)) * 2  # ribs-and-vessels-like background
    lesion = torch.tensor([[0.4, 0.6, 0.05]])
    strong = matched_filter_signal(anatomy + _blob(32, 0.4, 0.6, 0.05, 0.4), anatomy, lesion)
    weak = matched_filter_signal(anatomy + _blob(32, 0.4, 0.6, 0.05, 0.1), anatomy, lesion)
    elsewhere = matched_filter_signal(anatomy + _blob(32, 0.8, 0.2, 0.05, 0.4), anatomy, lesion)
    assert strong.item() > 0 and weak.item() == pytest.approx(strong.item() / 4, rel=1e-4)  # linear in contrast
    assert elsewhere.item() < 0.05 * strong.item()  # a nodule somewhere else is not found here


def test_found_when_half_of_the_input_signal_is_kept():
    found = nodules_found(np.array([0.6, 0.4, 1.0, 0.5]), np.array([1.0, 1.0, -0.1, 1.0]))
    assert found.tolist() == [True, False, False, True]  # a nodule without input signal cannot be found


def test_shapes_are_checked():
    with pytest.raises(ConfigError, match="one shape"):
        matched_filter_signal(torch.zeros(1, 1, 8, 8), torch.zeros(1, 1, 8, 9), torch.zeros(1, 3))
    with pytest.raises(ConfigError, match="lesions"):
        matched_filter_signal(torch.zeros(2, 1, 8, 8), torch.zeros(2, 1, 8, 8), torch.zeros(1, 3))
