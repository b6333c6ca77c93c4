import pytest

from monai_xrgan.metrics import MS_SSIM_WEIGHTS, ms_ssim_weights
from monai_xrgan.utils.errors import ConfigError


def test_all_five_scales_fit_a_large_image_and_none_fits_a_tiny_one():
    assert ms_ssim_weights(256) == pytest.approx([w / sum(MS_SSIM_WEIGHTS) for w in MS_SSIM_WEIGHTS])
    assert ms_ssim_weights(11) == [1.0]
    with pytest.raises(ConfigError, match="image_size 10 is too small for MS-SSIM"):
        ms_ssim_weights(10)
