"""User-facing config checks of monai_xrgan.utils.errors."""

from __future__ import annotations

import pytest

from monai_xrgan.utils import ConfigError, require_flag


@pytest.mark.parametrize("value", [True, False])
def test_require_flag_returns_a_bool(value):
    assert require_flag(value, "amp") is value


@pytest.mark.parametrize("value", ["false", "true", 0, None])
def test_require_flag_names_the_key_and_the_fix(value):
    with pytest.raises(ConfigError, match=r"config `amp` must be true or false.*--amp True or --amp False"):
        require_flag(value, "amp")
