"""Argument validation shared by the package: each check returns the value it accepts and raises a one-line
:class:`~monai_xrgan.utils.errors.ConfigError` (or :class:`~monai_xrgan.utils.errors.MissingInputError`) naming the
option otherwise."""

from __future__ import annotations

import numbers
import os
from collections.abc import Collection
from typing import Any, TypeVar

from monai_xrgan.utils.errors import ConfigError, MissingInputError

__all__ = ["check_choice", "check_int", "check_number", "require_count", "require_file", "require_flag"]

T = TypeVar("T")


def check_int(name: str, value: Any, minimum: int = 0) -> int:
    """``value`` as an ``int`` if it is an integer (Python or NumPy; a bool is refused) >= ``minimum``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise ConfigError(f"{name} must be an integer >= {minimum}, got {value!r}.")
    return int(value)


def check_number(name: str, value: Any, minimum: float = 0.0) -> float:
    """``value`` as a ``float`` if it is a real number (a bool is refused) >= ``minimum``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not value >= minimum:
        raise ConfigError(f"{name} must be a number >= {minimum:g}, got {value!r}.")
    return float(value)


def check_choice(name: str, value: T, choices: Collection[T]) -> T:
    """``value`` if it is one of ``choices``."""
    if value not in choices:
        raise ConfigError(f"{name} must be one of {tuple(choices)}, got {value!r}.")
    return value


def require_file(path: str | os.PathLike, key: str, hint: str) -> str:
    """Return ``path`` if it is an existing file, else raise :class:`MissingInputError` naming the config ``key``."""
    if not os.path.isfile(path):
        raise MissingInputError(f"{path}: not found (config `{key}`); {hint}.")
    return str(path)


def require_flag(value: object, key: str) -> bool:
    """Return ``value`` if it is a bool, else raise :class:`ConfigError` naming the config ``key``.

    ``python -m monai.bundle run --amp true`` passes the *string* ``"true"`` (Fire reads only Python literals), and
    every non-empty string is truthy, so ``--amp false`` would silently switch AMP on without this check.
    """
    if not isinstance(value, bool):
        raise ConfigError(
            f"config `{key}` must be true or false, got {value!r}; on the command line write --{key} True or "
            f"--{key} False (capitalised)."
        )
    return value


def require_count(value: object, key: str) -> int:
    """Return ``value`` if it is an integer >= 0 (a bool is refused), else raise :class:`ConfigError` naming ``key``."""
    return check_int(key, value, 0)
