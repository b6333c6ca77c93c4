"""Small utilities: user-facing errors."""

from monai_xrgan.utils.errors import (
    ConfigError,
    InputFileError,
    MissingInputError,
    UserInputError,
    install_error_hook,
    require_file,
    require_flag,
)

__all__ = [
    "UserInputError",
    "InputFileError",
    "MissingInputError",
    "ConfigError",
    "install_error_hook",
    "require_file",
    "require_flag",
]
