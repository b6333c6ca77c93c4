"""Small utilities: user-facing errors, distributed-process helpers."""

from monai_xrgan.utils.checks import require_file, require_flag
from monai_xrgan.utils.distributed import is_main_process, unwrap
from monai_xrgan.utils.errors import ConfigError, InputFileError, MissingInputError, UserInputError, install_error_hook

__all__ = [
    "UserInputError",
    "InputFileError",
    "MissingInputError",
    "ConfigError",
    "install_error_hook",
    "require_file",
    "require_flag",
    "is_main_process",
    "unwrap",
]
