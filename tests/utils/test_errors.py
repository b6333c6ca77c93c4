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


@pytest.fixture()
def root_stream(monkeypatch):
    """A root-logger handler writing to a string, and the error hook installed (restored afterwards)."""
    import io
    import logging
    import sys

    from monai_xrgan.utils import install_error_hook

    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    root = logging.getLogger()
    root.addHandler(handler)
    monkeypatch.setattr(sys, "excepthook", sys.excepthook)
    monkeypatch.delenv("MONAI_XRGAN_TRACEBACK", raising=False)
    install_error_hook()
    yield stream
    root.removeHandler(handler)


def test_logged_tracebacks_of_user_errors_are_dropped(root_stream, monkeypatch):
    import logging

    log = logging.getLogger("ignite.engine.engine.SomeTrainer")
    try:
        raise RuntimeError("wrapped") from ConfigError("--max_epoch: did you mean --max_epochs?")
    except RuntimeError:
        log.exception("Exception: wrapped")
    log.error("Current run is terminating due to exception: wrapped")
    try:
        raise ZeroDivisionError("a bug")
    except ZeroDivisionError:
        log.exception("bug")
    text = root_stream.getvalue()
    assert "wrapped" not in text and "bug" in text and "ZeroDivisionError" in text  # bugs keep their traceback
    monkeypatch.setenv("MONAI_XRGAN_TRACEBACK", "1")
    log.error("Current run is terminating due to exception: shown on request")
    assert "shown on request" in root_stream.getvalue()


def test_stats_handler_still_prints_after_the_hook(root_stream):
    import logging

    from monai.handlers import StatsHandler

    logger = StatsHandler().logger  # MONAI gives it its own stdout handler; the hook must not leave it without one
    record = logger.makeRecord(logger.name, logging.INFO, __file__, 1, "Epoch: 1/1, Iter: 1/4", (), None)
    assert logger.handlers and logger.filter(record) and logger.isEnabledFor(logging.INFO)
