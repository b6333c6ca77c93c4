"""User-facing errors: one line that names the file or config key and says how to fix it."""

from __future__ import annotations

import logging
import os
import re
import sys
from pathlib import Path
from types import TracebackType

from monai.apps.utils import get_logger

__all__ = [
    "UserInputError",
    "InputFileError",
    "MissingInputError",
    "ConfigError",
    "find_user_error",
    "one_line",
    "install_error_hook",
]


#: set to 1 to see the full traceback of a user error
TRACEBACK_ENV = "MONAI_XRGAN_TRACEBACK"
_TERMINATING = re.compile(r"(Engine|Current) run is terminating due to exception")
#: loggers that MONAI gives their own handler (``monai.apps.utils.get_logger``), so root-handler filters miss them
_OWN_HANDLER_LOGGERS = ("monai.handlers.StatsHandler",)


class UserInputError(Exception):
    """Marker base of errors caused by the user's data or configuration, not by a bug."""


class InputFileError(UserInputError, ValueError):
    """An input file exists but cannot be used (not an image, corrupt, wrong shape...)."""


class MissingInputError(UserInputError, FileNotFoundError):
    """An input file or folder named by the user does not exist."""


class ConfigError(UserInputError, ValueError):
    """A configuration value or a datalist entry is invalid."""


def one_line(err: BaseException, limit: int = 200) -> str:
    """``"Type: message"`` of an exception on one line, shortened to ``limit`` characters (for wrapping it)."""
    text = " ".join(f"{type(err).__name__}: {err}".split())
    return text if len(text) <= limit else f"{text[:limit]}…"


def find_user_error(exc: BaseException | None) -> UserInputError | None:
    """The first :class:`UserInputError` in the cause/context chain of ``exc`` (MONAI wraps errors raised inside
    transforms and config expressions in ``RuntimeError`` s)."""
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        if isinstance(exc, UserInputError):
            return exc
        seen.add(id(exc))
        exc = exc.__cause__ or exc.__context__
    return None


def _error_hook(exc_type: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
    user_error = find_user_error(exc)
    if user_error is None or os.environ.get(TRACEBACK_ENV):
        sys.__excepthook__(exc_type, exc, tb)
        return
    print(f"error: {user_error}  (set MONAI_XRGAN_TRACEBACK=1 for the full traceback)", file=sys.stderr)


class _HideUserErrorTracebacks(logging.Filter):
    """Drop log records that would print a user error's traceback (MONAI's ``StatsHandler.exception_raised``) and
    Ignite's "Engine run is terminating due to exception" line: the error hook prints the one line instead."""

    def filter(self, record: logging.LogRecord) -> bool:
        if os.environ.get(TRACEBACK_ENV):
            return True
        if record.exc_info and find_user_error(record.exc_info[1]) is not None:
            return False
        return not _TERMINATING.match(record.getMessage())


def install_error_hook() -> None:
    """Make a user error end a bundle run in one line (no traceback unless ``MONAI_XRGAN_TRACEBACK=1``).

    Called from the bundles' ``initialize`` step; programs that import the package are not affected otherwise. It
    replaces ``sys.excepthook``, filters the engines' logged tracebacks of user errors out of the root logger's
    handlers (and MONAI's ``StatsHandler`` logger), re-enables this package's loggers, and, in
    ``python -m monai.bundle run``, checks the command-line overrides
    (:func:`monai_xrgan.utils.overrides.check_overrides`: unknown keys, bad sizes, epochs, learning rates, devices).
    """
    sys.excepthook = _error_hook
    # made as MONAI makes them (a stdout handler, no propagation): a plain getLogger first would leave them without one
    own_handler_loggers = [get_logger(name) for name in _OWN_HANDLER_LOGGERS]
    for filterer in (*logging.getLogger().handlers, *own_handler_loggers):
        if not any(isinstance(f, _HideUserErrorTracebacks) for f in filterer.filters):
            filterer.addFilter(_HideUserErrorTracebacks())
    for name, package_logger in logging.Logger.manager.loggerDict.items():
        if name.startswith("monai_xrgan") and isinstance(package_logger, logging.Logger):
            package_logger.disabled = False  # the bundle's logging.conf (fileConfig) disables loggers made before it
    if Path(sys.argv[0]).parent.parent.name == "monai" and "run" in sys.argv:  # python -m monai.bundle run
        from monai_xrgan.utils.overrides import check_overrides, command_line_overrides

        overrides = command_line_overrides(sys.argv)
        if overrides.get("config_file"):
            check_overrides(overrides["config_file"], overrides)
