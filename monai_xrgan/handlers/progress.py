"""Progress display: a progress bar in a terminal, plain log lines elsewhere."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Mapping
from typing import Any

import torch
from ignite.engine import Engine
from ignite.handlers import ProgressBar

__all__ = ["is_interactive", "loss_items", "TerminalProgressBar"]


def is_interactive() -> bool:
    """Whether progress goes to a terminal (stderr is a TTY and not on CI)."""
    return sys.stderr.isatty() and not os.environ.get("CI")


def loss_items(output: Any) -> dict[str, Any]:
    """The ``loss*`` entries of a trainer output (a dict, or MONAI's decollated list of dicts), as floats."""
    if isinstance(output, list):
        output = output[0] if output else {}
    if not isinstance(output, Mapping):
        return {"loss": output}
    return {
        k: float(v.detach()) if isinstance(v, torch.Tensor) else float(v)
        for k, v in output.items()
        if k.startswith("loss")
    }


class TerminalProgressBar:
    """An ignite ``ProgressBar`` (epoch, iterations, losses) shown only when :func:`is_interactive`.

    Use it beside a ``StatsHandler`` whose ``iteration_log`` is ``not is_interactive()``: a person at a terminal
    sees a bar, logs and CI see one line per iteration.

    Args:
        output_transform: maps ``engine.state.output`` to the values shown, default :func:`loss_items`.
        force: attach even when not interactive (for tests).
    """

    def __init__(self, output_transform: Callable[[Any], Any] = loss_items, force: bool = False) -> None:
        self.output_transform = output_transform
        self.force = force

    def attach(self, engine: Engine) -> None:
        if self.force or is_interactive():
            ProgressBar(persist=True).attach(engine, output_transform=self.output_transform)
