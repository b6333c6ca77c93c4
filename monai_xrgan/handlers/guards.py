"""Stop training with a clear error when a loss stops being finite."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from ignite.engine import Engine, Events

from monai_xrgan.handlers.progress import loss_items
from monai_xrgan.utils.errors import UserInputError

__all__ = ["StopOnNonFiniteLoss", "TrainingDivergedError"]


class TrainingDivergedError(UserInputError, FloatingPointError):
    """A loss became NaN or infinite."""


class StopOnNonFiniteLoss:
    """Raise :class:`TrainingDivergedError` as soon as a loss is NaN/inf.

    Like ignite's ``TerminateOnNan``, but it raises instead of ending the run quietly, so the command fails with a
    message, and no checkpoint of the diverged state is written (the last epoch checkpoint stays the newest).

    Args:
        output_transform: maps ``engine.state.output`` to ``{name: loss}``; default every ``loss*`` entry.
    """

    def __init__(self, output_transform: Callable[[Any], dict[str, Any]] = loss_items) -> None:
        self.output_transform = output_transform

    def attach(self, engine: Engine) -> None:
        engine.add_event_handler(Events.ITERATION_COMPLETED, self)

    def __call__(self, engine: Engine) -> None:
        for name, value in self.output_transform(engine.state.output).items():
            value = float(value)
            if not math.isfinite(value):
                raise TrainingDivergedError(
                    f"{name} became {value} at epoch {engine.state.epoch}, iteration {engine.state.iteration}; "
                    "training stopped and the last epoch checkpoint was kept. Lower the learning rate, turn off "
                    "`amp`, or check the input data for NaNs, then re-run to resume from that checkpoint."
                )
