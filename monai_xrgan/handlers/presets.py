"""The handler lists every bundle's training run uses, built in one place (configs call these with ``_target_``)."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

from ignite.engine import Engine
from monai.handlers import StatsHandler, TensorBoardStatsHandler, ValidationHandler
from torch.utils.tensorboard import SummaryWriter

from monai_xrgan.handlers.checkpoint import TrainingCheckpointer
from monai_xrgan.handlers.guards import StopOnNonFiniteLoss
from monai_xrgan.handlers.images import ImageGridHandler
from monai_xrgan.handlers.progress import TerminalProgressBar, is_interactive, loss_items
from monai_xrgan.utils.distributed import is_main_process

__all__ = ["attach_handlers", "is_main_process", "train_handlers", "validation_handlers"]


def attach_handlers(engine: Engine, handlers: Sequence[Any]) -> Engine:
    """Attach ``handlers`` to a built ``engine`` and return it. MONAI's ``SupervisedTrainer`` attaches its
    ``train_handlers`` before it sets ``network``, which :class:`TrainingCheckpointer` needs, so a config builds the
    trainer first and attaches :func:`train_handlers` with this."""
    for handler in handlers:
        handler.attach(engine)
    return engine


def train_handlers(
    ckpt_dir: str | os.PathLike,
    models_dir: str | os.PathLike,
    export: Mapping[str, str] | None = None,
    validator: Engine | None = None,
    val_interval: int = 1,
    summary_writer: SummaryWriter | None = None,
    key_metric: str | None = None,
    greater_is_better: bool = True,
    select: str = "best",
    resume: bool = True,
    pretrained: str | os.PathLike | None = None,
    n_saved: int = 2,
) -> list[Any]:
    """Handlers of a training run, in the order they must run at each epoch end.

    ``ValidationHandler`` (every ``val_interval`` epochs) → progress: a bar in a terminal, one log line per
    iteration elsewhere, TensorBoard losses (main process only) → :class:`StopOnNonFiniteLoss` →
    :class:`TrainingCheckpointer` (full-state checkpoints in ``ckpt_dir``, resume, best networks of ``export`` to
    ``models_dir``, fine-tuning from ``pretrained``; ``select`` ``"best"`` or ``"last"`` picks the exported
    networks); the checkpointer comes after validation so it sees this epoch's metric.
    """
    handlers: list[Any] = []
    if validator is not None:
        handlers.append(ValidationHandler(validator=validator, interval=val_interval, epoch_level=True))
    if is_main_process():
        handlers.append(
            StatsHandler(tag_name="train_loss", iteration_log=not is_interactive(), output_transform=loss_items)
        )
        handlers.append(TerminalProgressBar())
        if summary_writer is not None:
            handlers.append(TensorBoardStatsHandler(summary_writer=summary_writer, tag_name="train_loss",
                                                    output_transform=loss_items))  # fmt: skip
    handlers.append(StopOnNonFiniteLoss())
    handlers.append(
        TrainingCheckpointer(
            ckpt_dir,
            models_dir,
            export=export,
            validator=validator,
            key_metric=key_metric,
            greater_is_better=greater_is_better,
            select=select,
            n_saved=n_saved,
            resume=resume,
            pretrained=pretrained,
        )
    )
    return handlers


def validation_handlers(
    summary_writer: SummaryWriter | None = None,
    grid_keys: Sequence[str] | None = ("image", "pred", "label"),
    grid_tag: str = "validation",
    num_samples: int = 4,
    value_range: Sequence[float] = (-1.0, 1.0),
) -> list[Any]:
    """Handlers of a validator: metrics to the log and TensorBoard, and an image grid of ``grid_keys`` (columns)
    for the first ``num_samples`` samples to TensorBoard; nothing on processes other than the main one."""
    if not is_main_process():
        return []
    handlers: list[Any] = [StatsHandler(iteration_log=False)]
    if summary_writer is not None:
        handlers.append(TensorBoardStatsHandler(summary_writer=summary_writer, iteration_log=False))
        if grid_keys:
            handlers.append(ImageGridHandler(keys=grid_keys, num_samples=num_samples, value_range=value_range,
                                             summary_writer=summary_writer, tag=grid_tag))  # fmt: skip
    return handlers
