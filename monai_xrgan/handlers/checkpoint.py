"""Checkpoints of a training run: atomic full-state saves, resume, best-network export and fine-tuning start."""

from __future__ import annotations

import copy
import logging
import os
import re
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import ignite.distributed as idist
import torch
from ignite.engine import Engine, Events
from ignite.handlers import Checkpoint, DiskSaver
from torch import nn
from torch.optim.lr_scheduler import LRScheduler

from monai_xrgan.utils.checks import require_flag
from monai_xrgan.utils.distributed import unwrap
from monai_xrgan.utils.errors import ConfigError, InputFileError, one_line
from monai_xrgan.utils.files import atomic_torch_save, ensure_output_dir, remove_temporaries
from monai_xrgan.utils.weights import load_network_weights

__all__ = [
    "TrainingCheckpointer",
    "KeepUntilWrittenSaver",
    "checkpoints",
    "latest_checkpoint",
    "training_objects",
    "NetworkWeightsLoader",
]

_CKPT_PATTERN = re.compile(r"^checkpoint_epoch=(\d+)\.pt$")
logger = logging.getLogger(__name__)


def checkpoints(ckpt_dir: str | os.PathLike) -> list[Path]:
    """The ``checkpoint_epoch=N.pt`` files of ``ckpt_dir``, newest (largest ``N``) first."""
    ckpt_dir = Path(ckpt_dir)
    if not ckpt_dir.is_dir():
        return []
    found = [(int(m.group(1)), ckpt_dir / f.name) for f in ckpt_dir.iterdir() if (m := _CKPT_PATTERN.match(f.name))]
    return [path for _, path in sorted(found, reverse=True)]


def latest_checkpoint(ckpt_dir: str | os.PathLike) -> Path | None:
    """The ``checkpoint_epoch=N.pt`` file with the largest ``N`` in ``ckpt_dir`` (``None`` if there is none)."""
    found = checkpoints(ckpt_dir)
    return found[0] if found else None


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


class NetworkWeightsLoader:
    """Handler that loads exported weights into networks when the engine starts, with one-line errors.

    Takes the place of MONAI's ``CheckpointLoader`` in inference and evaluation configs: a missing, truncated or
    wrong-architecture file ends in one line naming the file and the fix (see :func:`load_network_weights`) instead
    of a traceback.

    Args:
        load_path: the weights file (a bundle's ``models/model.pt``, or a full training checkpoint).
        load_dict: networks by the name their weights have in the file (``model`` for ``models/model.pt``).
        key: the config key of ``load_path``, named when the file is missing.
    """

    def __init__(
        self, load_path: str | os.PathLike, load_dict: Mapping[str, nn.Module], key: str = "ckpt_path"
    ) -> None:
        self.load_path = load_path
        self.load_dict = dict(load_dict)
        self.key = key

    def attach(self, engine: Engine) -> None:
        engine.add_event_handler(Events.STARTED, self)

    def __call__(self, engine: Engine) -> None:
        for name, network in self.load_dict.items():
            load_network_weights(unwrap(network), self.load_path, name=name, key=self.key)
        engine.logger.info(f"Loaded {', '.join(self.load_dict)} from {self.load_path}.")


class KeepUntilWrittenSaver(DiskSaver):
    """Ignite ``DiskSaver`` that removes the checkpoints Ignite drops only after the new one is completely written.

    Ignite's ``Checkpoint`` removes the oldest file *before* writing the new one, so a kill or a full disk during the
    write would leave one checkpoint fewer than ``n_saved`` (none with ``n_saved=1``). Here each write is atomic
    (temporary file, fsync, rename, see :func:`~monai_xrgan.utils.files.atomic_write`) and removals wait for it.
    """

    def __init__(self, dirname: str | os.PathLike) -> None:
        super().__init__(str(dirname), atomic=True, create_dir=True, require_empty=False)
        self._pending: list[str] = []

    def __call__(self, checkpoint: Mapping, filename: str, metadata: Mapping | None = None) -> None:
        if self.save_on_rank == idist.get_rank():
            epoch = metadata.get("priority") if metadata else None
            atomic_torch_save(checkpoint, self.dirname / filename, fault=f"checkpoint_write:{epoch}")
        pending, self._pending = self._pending, []
        for name in pending:
            if name != filename:
                super().remove(name)

    def remove(self, filename: str) -> None:
        if (self.dirname / filename).exists():
            self._pending.append(filename)


class TrainingCheckpointer:
    """Make a training run resumable, crash-safe, and export its best networks as MONAI Bundle weights.

    Attach to a trainer (after its ``ValidationHandler``). It then

    * writes the full training state (engine epoch/iteration, networks, optimisers, LR schedulers, grad scaler and
      this handler's best-metric record) to ``ckpt_dir/checkpoint_epoch=N.pt`` every ``save_interval`` epochs,
      keeping the newest ``n_saved``; each write is atomic and older files are removed only after it, so a kill at any
      moment leaves at least one intact checkpoint (:class:`KeepUntilWrittenSaver`);
    * with ``resume``, restores the newest checkpoint that loads before the first iteration, falling back to the
      previous one with a warning naming the bad file (renamed ``*.corrupt``); re-running the same command continues
      an interrupted run, and a larger ``max_epochs`` extends a finished one. The learning-rate schedules follow the
      *current* config, at the resumed epoch: schedulers keep only their position from the checkpoint, so an extended
      run continues with the schedule its new ``max_epochs`` defines and a new ``learning_rate`` applies;
    * after each validation in which ``validator``'s key metric improves, writes each network named in ``export``
      to ``models_dir/<stem>.pt`` as a plain state dict (atomically; ``models/model.pt`` is the bundle's
      ``network_def`` weights), after that epoch's checkpoint, and re-exports on resume when the checkpoint's epoch
      was the best, so ``models/`` always holds the best networks so far; without a validator, or with
      ``select="last"`` (the validator then only logs), it exports the final networks at the end;
    * with ``pretrained`` (and no checkpoint in ``ckpt_dir``), loads ``pretrained`` into the first exported network
      and ``<same folder>/<stem>.pt`` into the others when present: fine-tuning from a bundle's ``models/``.
      A ``pretrained`` beside existing checkpoints with ``resume`` is refused (it would be ignored);
    * without ``resume``, deletes the checkpoints of an earlier run when training starts (they would be resumed
      later in place of the new run's).

    Args:
        ckpt_dir: folder of the full-state checkpoints.
        models_dir: folder of the exported weights (the bundle's ``models/``).
        export: output file stem -> network name, e.g. ``{"model": "generator", "discriminator": "discriminator"}``;
            default: the trainer's first network as ``model``.
        validator: evaluator run by the trainer's ``ValidationHandler``, whose key metric selects the best epoch.
        key_metric: metric name to select on, default the validator's key metric.
        greater_is_better: whether larger values of the key metric are better.
        select: ``"best"`` (the epoch with the best key metric) or ``"last"`` (the final networks, as a reference
            implementation that keeps its last model; for metrics that do not rank the models, e.g. a GAN critic's
            score of the generator it is trained against).
        save_interval: save the full state every N epochs.
        n_saved: number of full-state checkpoints to keep (at least 2, so one survives a damaged newest file).
        resume: restore the newest intact checkpoint of ``ckpt_dir`` when there is one.
        pretrained: path of a ``model.pt`` (or of a full checkpoint) to start from (fine-tuning), or ``None``.
    """

    def __init__(
        self,
        ckpt_dir: str | os.PathLike,
        models_dir: str | os.PathLike | None = None,
        export: Mapping[str, str] | None = None,
        validator: Engine | None = None,
        key_metric: str | None = None,
        greater_is_better: bool = True,
        select: str = "best",
        save_interval: int = 1,
        n_saved: int = 2,
        resume: bool = True,
        pretrained: str | os.PathLike | None = None,
    ) -> None:
        if save_interval < 1 or n_saved < 2:
            raise ConfigError(f"save_interval must be >= 1 and n_saved >= 2, got {save_interval} and {n_saved}.")
        if select not in ("best", "last"):
            raise ConfigError(f"model selection must be 'best' or 'last', got {select!r}.")
        self.ckpt_dir = ensure_output_dir(ckpt_dir, "ckpt_dir")
        self.models_dir = ensure_output_dir(models_dir, "models_dir") if models_dir is not None else None
        self.export = dict(export) if export is not None else None
        self.validator = validator
        self.key_metric = key_metric
        self.greater_is_better = greater_is_better
        self.select = select
        self.save_interval = save_interval
        self.n_saved = n_saved
        self.resume = require_flag(resume, "resume")
        self.pretrained = pretrained
        self.best_value: float | None = None
        self.best_epoch: int | None = None
        self._networks: dict[str, nn.Module] = {}
        self._export_due: str | None = None  # reason of an export waiting for this epoch's checkpoint

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
            raise ConfigError(f"TrainingCheckpointer.export names unknown networks {unknown}; "
                              f"known: {sorted(self._networks)}.")  # fmt: skip
        objects = {**training_objects(engine), "best_model": self}
        saver = Checkpoint(
            to_save=objects,
            save_handler=KeepUntilWrittenSaver(self.ckpt_dir),
            score_function=lambda e: e.state.epoch,
            score_name="epoch",
            n_saved=self.n_saved,
            include_self=True,
        )
        found = checkpoints(self.ckpt_dir)
        if self.resume and found and self.pretrained is not None:
            raise ConfigError(
                f"pretrained_ckpt {self.pretrained} was given, but {found[0]} holds an earlier run that would be "
                "resumed instead; to fine-tune, add --resume False (the old checkpoints are deleted) or choose "
                "another --bundle_root (or ckpt_dir)."
            )
        engine.add_event_handler(Events.STARTED, self._clean_up)
        if self.resume and found:
            engine.add_event_handler(Events.STARTED, self._resume, {**objects, "checkpointer": saver})
        elif self.pretrained is not None:
            engine.add_event_handler(Events.STARTED, self._load_pretrained)
        if self.validator is not None and self.select == "best":
            engine.add_event_handler(Events.EPOCH_COMPLETED, self._select_best)
        engine.add_event_handler(Events.EPOCH_COMPLETED(every=self.save_interval), saver)
        engine.add_event_handler(Events.EPOCH_COMPLETED(every=self.save_interval), self._log_saved, saver)
        engine.add_event_handler(Events.EPOCH_COMPLETED, self._export_if_due)
        engine.add_event_handler(Events.COMPLETED, self._export_if_never_selected)

    # ------------------------------------------------------------------------------------------ resuming
    def _clean_up(self, engine: Engine) -> None:
        if idist.get_rank() != 0:
            return
        for folder in (self.ckpt_dir, self.models_dir):
            if folder is not None:
                remove_temporaries(folder)
        if not self.resume:
            stale = checkpoints(self.ckpt_dir)
            for path in stale:
                path.unlink()
            if stale:
                engine.logger.warning(f"resume is False: deleted {len(stale)} checkpoint(s) of an earlier run in "
                                      f"{self.ckpt_dir}.")  # fmt: skip

    def _intact_checkpoint(self, engine: Engine, keys: set[str]) -> tuple[Path, dict[str, Any]]:
        """The newest checkpoint that loads and holds every object; damaged newer ones are renamed ``*.corrupt``."""
        problems = []
        for path in checkpoints(self.ckpt_dir):
            try:
                state = torch.load(path, map_location=engine.state.device, weights_only=True)
                missing = sorted(keys - set(state)) if isinstance(state, Mapping) else sorted(keys)
                if missing:
                    raise ValueError(f"holds no {missing}")
            except Exception as e:  # truncated file, not a checkpoint, or one of another trainer
                problems.append(f"{path.name} ({one_line(e, 100)})")
                engine.logger.warning(f"Checkpoint {path} cannot be resumed ({one_line(e, 100)}); renamed it "
                                      f"{path.name}.corrupt and trying the previous one.")  # fmt: skip
                if idist.get_rank() == 0:
                    path.replace(path.with_name(path.name + ".corrupt"))
                continue
            return path, state
        raise InputFileError(f"{self.ckpt_dir}: no intact checkpoint to resume from ({'; '.join(problems)}); "
                             "start over with --resume False, or restore the folder from a backup.")  # fmt: skip

    def _resume(self, engine: Engine, objects: dict[str, Any]) -> None:
        schedulers = {k: v for k, v in objects.items() if isinstance(v, LRScheduler)}
        configured = {k: copy.deepcopy(sch.state_dict()) for k, sch in schedulers.items()}
        restored_lrs = {}
        max_epochs = engine.state.max_epochs
        path, state = self._intact_checkpoint(engine, set(objects))
        try:
            Checkpoint.load_objects(to_load=objects, checkpoint=state)
        except Exception as e:  # the config changed the networks / optimisers since the checkpoint was written
            raise ConfigError(f"{path}: does not fit this config ({one_line(e, 160)}); resume with the settings it "
                              "was trained with, or start over with --resume False.") from e  # fmt: skip
        if max_epochs is not None and engine.state.epoch > max_epochs:
            raise ConfigError(f"{path}: the run is at epoch {engine.state.epoch}, beyond max_epochs {max_epochs}; "
                              f"give --max_epochs above {engine.state.epoch} to extend it, or --resume False "
                              "to start over.")  # fmt: skip
        engine.state.max_epochs = max_epochs
        for key, scheduler in schedulers.items():
            restored_lrs[key] = scheduler.get_last_lr()
            _follow_configured_schedule(scheduler, configured[key])
        changed = {k: (f"{restored_lrs[k][0]:.3g}", f"{sch.get_last_lr()[0]:.3g}") for k, sch in schedulers.items()
                   if restored_lrs[k] != sch.get_last_lr()}  # fmt: skip
        engine.logger.info(f"Resumed from {path} at epoch {engine.state.epoch}/{engine.state.max_epochs}.")
        if changed:
            engine.logger.info(f"Learning rates follow this config's schedule at epoch {engine.state.epoch} "
                               f"(checkpoint -> now): {changed}.")  # fmt: skip
        if engine.state.epoch >= engine.state.max_epochs:
            engine.logger.info(f"The run finished at epoch {engine.state.epoch}; give a larger --max_epochs to "
                               "extend it.")  # fmt: skip
        if self.best_epoch is not None and self.best_epoch == engine.state.epoch:
            # this epoch's export may have been interrupted after its checkpoint was written
            self._export(engine, f"best networks of epoch {self.best_epoch} (resumed)")

    # ------------------------------------------------------------------------------------------ events
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

    def _select_best(self, engine: Engine) -> None:
        validator = self.validator
        if validator is None or validator.state.epoch != engine.state.epoch:
            return  # no validation at this epoch
        name = self.key_metric or validator.state.key_metric_name
        if name not in validator.state.metrics:
            raise ConfigError(
                f"TrainingCheckpointer.key_metric '{name}' is not computed by the validator; "
                f"available: {sorted(validator.state.metrics)}."
            )
        value = float(validator.state.metrics[name])
        best = self.best_value
        if best is None or (value > best if self.greater_is_better else value < best):
            self.best_value, self.best_epoch = value, engine.state.epoch
            self._export_due = f"best {name}={value:.4f} at epoch {engine.state.epoch}"

    def _export_if_due(self, engine: Engine) -> None:
        if self._export_due is not None:
            self._export(engine, self._export_due)
            self._export_due = None

    def _export_if_never_selected(self, engine: Engine) -> None:
        if self.best_epoch is None:
            self._export(engine, f"final networks at epoch {engine.state.epoch}")

    def _export(self, engine: Engine, reason: str) -> None:
        if self.models_dir is None or idist.get_rank() != 0:  # only rank 0 writes files
            return
        assert self.export is not None
        for stem, name in self.export.items():
            atomic_torch_save(self._networks[name].state_dict(), self.models_dir / f"{stem}.pt",
                              fault=f"export_write:{engine.state.epoch}")  # fmt: skip
        engine.logger.info(f"Exported {reason} to {self.models_dir}/{{{','.join(self.export)}}}.pt")


def _follow_configured_schedule(scheduler: LRScheduler, configured: dict[str, Any]) -> None:
    """Put ``scheduler`` (restored from a checkpoint) on the schedule of ``configured`` (its state as the current
    config built it) at the restored position, and set the optimiser's rates to match."""
    position = scheduler.last_epoch - configured["last_epoch"]
    scheduler.load_state_dict(configured)
    for group, lr, base in zip(scheduler.optimizer.param_groups, configured["_last_lr"], configured["base_lrs"]):
        group["lr"], group["initial_lr"] = lr, base
    with warnings.catch_warnings():  # "scheduler.step() before optimizer.step()": replaying the epochs already run
        warnings.simplefilter("ignore", UserWarning)
        for _ in range(position):
            scheduler.step()
