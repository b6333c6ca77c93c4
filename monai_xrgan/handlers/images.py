"""Image grids of an evaluator's samples (condition | generated | target) to TensorBoard and PNG."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

from ignite.engine import Engine, Events
from torch.utils.tensorboard import SummaryWriter

from monai_xrgan.io.xray import write_png
from monai_xrgan.visualize import image_grid

__all__ = ["ImageGridHandler"]


class ImageGridHandler:
    """Collect the first ``num_samples`` samples of each evaluator run and save them as one grid.

    Each row is a sample, each column one of ``keys`` of the engine output (e.g. ``("image", "pred", "label")``:
    input | generated | target). The grid goes to TensorBoard (step = the trainer's epoch, which MONAI's
    ``ValidationHandler`` passes as the evaluator's epoch) and/or to a PNG file.

    Args:
        keys: output keys shown as columns, in order.
        num_samples: rows of the grid.
        value_range: intensity range of the images (``[-1, 1]`` for tanh generators).
        summary_writer: TensorBoard writer, or ``None``.
        tag: TensorBoard image tag.
        png_path: PNG file written at the end of each run, or ``None``.
    """

    def __init__(
        self,
        keys: Sequence[str] = ("image", "pred", "label"),
        num_samples: int = 4,
        value_range: Sequence[float] = (-1.0, 1.0),
        summary_writer: SummaryWriter | None = None,
        tag: str = "samples",
        png_path: str | os.PathLike | None = None,
    ) -> None:
        self.keys = tuple(keys)
        self.num_samples = num_samples
        self.value_range = tuple(value_range)
        self.summary_writer = summary_writer
        self.tag = tag
        self.png_path = png_path
        self._rows: list[list[Any]] = []

    def attach(self, engine: Engine) -> None:
        engine.add_event_handler(Events.EPOCH_STARTED, self._reset)
        engine.add_event_handler(Events.ITERATION_COMPLETED, self._collect)
        engine.add_event_handler(Events.EPOCH_COMPLETED, self._write)

    def _reset(self, engine: Engine) -> None:
        self._rows = []

    def _collect(self, engine: Engine) -> None:
        output = engine.state.output
        samples = (
            output
            if isinstance(output, list)
            else [{k: output[k][i] for k in self.keys} for i in range(len(output[self.keys[0]]))]
        )
        for sample in samples:
            if len(self._rows) >= self.num_samples:
                return
            missing = [k for k in self.keys if sample.get(k) is None]
            if missing:
                raise KeyError(
                    f"ImageGridHandler: engine output has no {missing}; set `keys` to some of {sorted(sample)}."
                )
            self._rows.append([sample[k].detach().cpu() for k in self.keys])

    def _write(self, engine: Engine) -> None:
        if not self._rows:
            return
        grid = image_grid(self._rows, self.value_range)
        if self.summary_writer is not None:
            self.summary_writer.add_image(self.tag, grid[None], global_step=engine.state.epoch, dataformats="CHW")
            self.summary_writer.flush()
        if self.png_path is not None:
            write_png(self.png_path, grid)
