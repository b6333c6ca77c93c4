"""Checkpoints of a training run: atomic full-state saves, resume, best-network export and fine-tuning start."""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import ignite.distributed as idist
import torch
from ignite.engine import Engine, Events
from ignite.handlers import Checkpoint, DiskSaver
from monai.handlers import CheckpointLoader
from torch import nn

from monai_xrgan.engines.base import unwrap
from monai_xrgan.utils.errors import ConfigError, InputFileError, MissingInputError, require_flag

__all__ = ["TrainingCheckpointer", "latest_checkpoint", "training_objects", "load_network_weights"]

_CKPT_PATTERN = re.compile(r"^checkpoint_epoch=(\d+)\.pt$")
logger = logging.getLogger(__name__)


def latest_checkpoint(ckpt_dir: str | os.PathLike) -> Path | None:
    """The ``checkpoint_epoch=N.pt`` file with the largest ``N`` in ``ckpt_dir`` (``None`` if there is none)."""
    ckpt_dir = Path(ckpt_dir)
    if not ckpt_dir.is_dir():
        return None
    found = [(int(m.group(1)), ckpt_dir / f.name) for f in ckpt_dir.iterdir() if (m := _CKPT_PATTERN.match(f.name))]
    return max(found)[1] if found else None


def training_networks(engine: Engine) -> dict[str, nn.Module]:
    """The plain networks a trainer optimises, by name (``network`` for MONAI's ``SupervisedTrainer``)."""
    if hasattr(engine, "raw_networks"):
        return dict(engine.raw_networks)
    return {"network": unwrap(engine.network)}


def training_objects(engine: Engine) -> dict[str, Any]:
    """Objects with ``state_dict``/``load_state_dict`` that make a training run resumable."""
    if hasattr(engine, "checkpoint_objects"):
        return engine.checkpoint_objects()
    objects: dict[str, Any] = {"trainer": engine, "network_network": unwrap(engine.network)}
    objects["optimizer_network"] = engine.optimizer
    return objects


def load_network_weights(network: nn.Module, path: str | os.PathLike, name: str = "network") -> None:
    """Load a state dict file into ``network`` (``weights_only``), naming mismatched keys when it does not fit."""
    path = Path(path)
    if not path.is_file():
        raise MissingInputError(f"{path}: checkpoint not found; set `pretrained_ckpt` to an existing models/model.pt.")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:
        raise InputFileError(f"{path}: not a readable PyTorch checkpoint ({type(e).__name__}: {e}).") from e
    if isinstance(state, Mapping) and name in state and isinstance(state[name], Mapping):
        state = state[name]
    own = network.state_dict()
    missing = sorted(set(own) - set(state))
    unexpected = sorted(set(state) - set(own))
    shapes = sorted(k for k in set(own) & set(state) if tuple(own[k].shape) != tuple(state[k].shape))
    if missing or unexpected or shapes:
        parts = [f"{label} {keys[:5]}{' ...' if len(keys) > 5 else ''}" for label, keys in
                 (("missing keys", missing), ("unexpected keys", unexpected), ("shape mismatch at", shapes)) if keys]
        raise ConfigError(
            f"{path}: does not fit network '{name}' ({'; '.join(parts)}); "
            "the checkpoint was made for another architecture, check the network settings of the config."
        )
    network.load_state_dict(state)


class TrainingCheckpointer:
    """Make a training run resumable and export its best networks as MONAI Bundle weights.

    Attach to a trainer (after its ``ValidationHandler``). It then

    * writes the full training state (engine epoch/iteration, networks, optimisers, LR schedulers, grad scaler and
      this handler's best-metric record) to ``ckpt_dir/checkpoint_epoch=N.pt`` every ``save_interval`` epochs,
      atomically (temporary file + rename, so an interruption never leaves a half-written checkpoint), keeping the
      newest ``n_saved``;
    * with ``resume``, restores the newest such checkpoint before the first iteration, so re-running the same
      command continues where an interrupted run stopped (a larger ``max_epochs`` extends a finished run);
    * after each validation in which ``validator``'s key metric improves, writes each network named in ``export``
      to ``models_dir/<stem>.pt`` as a plain state dict (``models/model.pt`` is the bundle's ``network_def``
      weights); without a validator it exports at the end of training;
    * with ``pretrained`` (and nothing to resume), loads ``pretrained`` into the first exported network and
      ``<same folder>/<stem>.pt`` into the others when present: fine-tuning from a bundle's ``models/``.

    Args:
        ckpt_dir: folder of the full-state checkpoints.
        models_dir: folder of the exported weights (the bundle's ``models/``).
        export: output file stem -> network name, e.g. ``{"model": "generator", "discriminator": "discriminator"}``;
            default: the trainer's first network as ``model``.
        validator: evaluator run by the trainer's ``ValidationHandler``, whose key metric selects the best epoch.
        key_metric: metric name to select on, default the validator's key metric.
        greater_is_better: whether larger values of the key metric are better.
        save_interval: save the full state every N epochs.
        n_saved: number of full-state checkpoints to keep.
        resume: restore the newest checkpoint of ``ckpt_dir`` when there is one.
        pretrained: path of a ``model.pt`` to start from (fine-tuning), or ``None``.
    """

    def __init__(
        self,
        ckpt_dir: str | os.PathLike,
        models_dir: str | os.PathLike | None = None,
        export: Mapping[str, str] | None = None,
        validator: Engine | None = None,
        key_metric: str | None = None,
        greater_is_better: bool = True,
        save_interval: int = 1,
        n_saved: int = 2,
        resume: bool = True,
        pretrained: str | os.PathLike | None = None,
    ) -> None:
        if save_interval < 1 or n_saved < 1:
            raise ConfigError(f"save_interval and n_saved must be >= 1, got {save_interval} and {n_saved}.")
        self.ckpt_dir = Path(ckpt_dir)
        self.models_dir = Path(models_dir) if models_dir is not None else None
        self.export = dict(export) if export is not None else None
        self.validator = validator
        self.key_metric = key_metric
        self.greater_is_better = greater_is_better
        self.save_interval = save_interval
        self.n_saved = n_saved
        self.resume = require_flag(resume, "resume")
        self.pretrained = pretrained
        self.best_value: float | None = None
        self.best_epoch: int | None = None
        self._networks: dict[str, nn.Module] = {}

    # best-metric record, saved inside the full-state checkpoints
    def state_dict(self) -> dict[str, Any]:
        return {"best_value": self.best_value, "best_epoch": self.best_epoch}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        self.best_value, self.best_epoch = state["best_value"], state["best_epoch"]

    def attach(self, engine: Engine) -> None:
        self._networks = training_networks(engine)
        if self.export is None:
            self.export = {"model": next(iter(self._networks))}
        unknown = sorted(set(self.export.values()) - set(self._networks))
        if unknown:
            raise ConfigError(f"TrainingCheckpointer.export names unknown networks {unknown}; known: {sorted(self._networks)}.")
        objects = {**training_objects(engine), "best_model": self}
        saver = Checkpoint(
            to_save=objects,
            save_handler=DiskSaver(str(self.ckpt_dir), atomic=True, require_empty=False),
            score_function=lambda e: e.state.epoch,
            score_name="epoch",
            n_saved=self.n_saved,
            include_self=True,
        )
        resume_from = latest_checkpoint(self.ckpt_dir) if self.resume else None
        if resume_from is not None:
            CheckpointLoader(str(resume_from), {**objects, "checkpointer": saver}, map_location=engine.state.device).attach(engine)
            engine.add_event_handler(Events.STARTED, self._log_resumed, resume_from)
        elif self.pretrained is not None:
            engine.add_event_handler(Events.STARTED, self._load_pretrained)
        if self.validator is not None:
            engine.add_event_handler(Events.EPOCH_COMPLETED, self._export_if_best)
        engine.add_event_handler(Events.COMPLETED, self._export_if_never_selected)
        engine.add_event_handler(Events.EPOCH_COMPLETED(every=self.save_interval), saver)
        engine.add_event_handler(Events.EPOCH_COMPLETED(every=self.save_interval), self._log_saved, saver)

    # ------------------------------------------------------------------------------------------ events
    def _log_resumed(self, engine: Engine, path: Path) -> None:
        engine.logger.info(f"Resumed from {path} at epoch {engine.state.epoch}/{engine.state.max_epochs}.")

    def _log_saved(self, engine: Engine, saver: Checkpoint) -> None:
        if idist.get_rank() == 0:  # only rank 0 writes files
            engine.logger.info(f"Saved checkpoint {saver.last_checkpoint} (epoch {engine.state.epoch}).")

    def _load_pretrained(self, engine: Engine) -> None:
        assert self.export is not None
        main = Path(self.pretrained)  # type: ignore[arg-type]
        for i, (stem, name) in enumerate(self.export.items()):
            path = main if i == 0 else main.parent / f"{stem}.pt"
            if i > 0 and not path.is_file():
                engine.logger.info(f"No {path.name} beside {main}: '{name}' starts from its initialisation.")
                continue
            load_network_weights(self._networks[name], path, name=name)
            engine.logger.info(f"Fine-tuning: loaded '{name}' from {path}.")

    def _export_if_best(self, engine: Engine) -> None:
        validator = self.validator
        if validator is None or validator.state.epoch != engine.state.epoch:
            return  # no validation at this epoch
        name = self.key_metric or validator.state.key_metric_name
        if name not in validator.state.metrics:
            raise ConfigError(f"TrainingCheckpointer.key_metric '{name}' is not computed by the validator; "
                              f"available: {sorted(validator.state.metrics)}.")
        value = float(validator.state.metrics[name])
        improved = self.best_value is None or (value > self.best_value if self.greater_is_better else value < self.best_value)
        if improved:
            self.best_value, self.best_epoch = value, engine.state.epoch
            self._export(engine, f"best {name}={value:.4f} at epoch {engine.state.epoch}")

    def _export_if_never_selected(self, engine: Engine) -> None:
        if self.best_epoch is None:
            self._export(engine, f"final networks at epoch {engine.state.epoch}")

    def _export(self, engine: Engine, reason: str) -> None:
        if self.models_dir is None:
            return
        assert self.export is not None
        writer = DiskSaver(str(self.models_dir), atomic=True, require_empty=False)
        for stem, name in self.export.items():
            writer(self._networks[name].state_dict(), f"{stem}.pt")
        if idist.get_rank() == 0:  # only rank 0 writes files
            engine.logger.info(f"Exported {reason} to {self.models_dir}/{{{','.join(self.export)}}}.pt")
