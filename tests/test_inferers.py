from __future__ import annotations

import pytest
import torch

from monai_xrgan.inferers import AxialSliceInferer
from monai_xrgan.utils.errors import ConfigError


def _negate(x: torch.Tensor) -> torch.Tensor:
    assert x.ndim == 4  # the network sees 2-D slices
    return -x


def test_every_slice_or_selected_slices():
    volume = torch.rand(1, 1, 8, 8, 5)
    torch.testing.assert_close(AxialSliceInferer([8, 8], sw_batch_size=2)(volume, _negate), -volume)
    out = AxialSliceInferer([8, 8], slices=[1, -1])(volume, _negate)
    torch.testing.assert_close(out[..., [1, 4]], -volume[..., [1, 4]])
    torch.testing.assert_close(out[..., [0, 2, 3]], volume[..., [0, 2, 3]])
    torch.testing.assert_close(AxialSliceInferer([8, 8], slices=2)(volume, _negate)[..., 2], -volume[..., 2])


def test_bad_slices():
    with pytest.raises(ConfigError, match="slices must be null"):
        AxialSliceInferer([8, 8], slices="all")
    with pytest.raises(ConfigError, match="outside the volume's 5 axial slices"):
        AxialSliceInferer([8, 8], slices=[5])(torch.rand(1, 1, 8, 8, 5), _negate)
