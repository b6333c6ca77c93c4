"""Multi-network trainer base: the one place that knows about devices, AMP, ``torch.compile`` and DDP."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any

import torch
from monai.engines import Trainer
from monai.engines.utils import IterationEvents, default_metric_cmp_fn
from monai.handlers import LrScheduleHandler
from torch import nn
from torch.nn.parallel import DistributedDataParallel
from torch.optim import Optimizer
from torch.optim.lr_scheduler import LRScheduler
from torch.utils.data import DataLoader

from monai_xrgan.engines.utils import PrepareBatchDict
from monai_xrgan.utils.checks import check_choice, require_flag
from monai_xrgan.utils.distributed import unwrap

__all__ = ["GeneratorDiscriminatorTrainer", "MultiNetworkTrainer"]

_AMP_DTYPES = {"bfloat16": torch.bfloat16, "float16": torch.float16}
#: MONAI's iteration events, fired in this order after each training step (as ``SupervisedTrainer`` does)
_STEP_EVENTS = (
    IterationEvents.FORWARD_COMPLETED,
    IterationEvents.LOSS_COMPLETED,
    IterationEvents.BACKWARD_COMPLETED,
    IterationEvents.MODEL_COMPLETED,
)


class MultiNetworkTrainer(Trainer):
    """A :class:`monai.engines.Trainer` over named networks and optimisers, for GANs and other multi-network methods.

    A template method: :meth:`_iteration` moves the batch to the device (:meth:`batch`), puts the networks in train
    mode, runs :meth:`train_step`, the one method a subclass implements with the helpers below, stores its dict in
    ``engine.state.output`` and fires MONAI's ``IterationEvents`` (``FORWARD_COMPLETED``, ``LOSS_COMPLETED``,
    ``BACKWARD_COMPLETED``, ``MODEL_COMPLETED``), so that ``postprocessing``, ``decollate`` and handlers attached to
    those events run as with ``SupervisedTrainer``. The step returns detached losses under names starting with
    ``loss`` plus the images handlers may show, so MONAI/Ignite handlers (``StatsHandler``,
    ``TensorBoardStatsHandler``, ``ValidationHandler``, ...) work unchanged.

    Args:
        device: device to train on.
        max_epochs: number of epochs.
        train_data_loader: loader of dictionary batches.
        networks: the networks by name, already on ``device`` (they may be ``DistributedDataParallel``-wrapped).
        optimizers: an optimiser per network name (or any name a subclass uses).
        lr_schedulers: optional epoch-level learning-rate schedulers by name, stepped after every epoch and saved
            in checkpoints; ``None`` entries are dropped.
        epoch_length: iterations per epoch, default ``len(train_data_loader)``.
        non_blocking: non-blocking host-to-device copies.
        prepare_batch: turns a loader batch into a dict of tensors on the device, default
            :class:`PrepareBatchDict` (every tensor of the batch).
        key_train_metric, additional_metrics, metric_cmp_fn, train_handlers, event_names, event_to_attr,
            iteration_update, postprocessing: as in :class:`monai.engines.Trainer`.
        amp: mixed precision (autocast) for forward passes.
        amp_dtype: ``"bfloat16"`` (default, no loss scaling needed) or ``"float16"`` (with a ``GradScaler``).
        compile: wrap the networks with ``torch.compile`` for forward passes (weights stay shared).
        compile_kwargs: arguments of ``torch.compile``.
        channels_last: use the channels-last memory format for networks and image batches (faster convolutions
            on GPUs).
        decollate: decollate outputs after each iteration (off: GAN outputs are dicts of losses and images, which
            handlers read batched; on, the output becomes a list of per-image dicts with the losses repeated).
    """

    def __init__(
        self,
        device: str | torch.device,
        max_epochs: int,
        train_data_loader: Iterable | DataLoader,
        networks: Mapping[str, nn.Module],
        optimizers: Mapping[str, Optimizer],
        lr_schedulers: Mapping[str, LRScheduler] | None = None,
        epoch_length: int | None = None,
        non_blocking: bool = False,
        prepare_batch: Callable | None = None,
        iteration_update: Callable | None = None,
        postprocessing: Callable | None = None,
        key_train_metric: dict | None = None,
        additional_metrics: dict | None = None,
        metric_cmp_fn: Callable = default_metric_cmp_fn,
        train_handlers: Sequence | None = None,
        amp: bool = False,
        amp_dtype: str = "bfloat16",
        compile: bool = False,
        compile_kwargs: dict | None = None,
        channels_last: bool = False,
        event_names: list | None = None,
        event_to_attr: dict | None = None,
        decollate: bool = False,
    ) -> None:
        for key, flag in (("amp", amp), ("compile", compile), ("channels_last", channels_last)):
            require_flag(flag, key)
        check_choice("amp_dtype", amp_dtype, tuple(_AMP_DTYPES))
        if not networks:
            raise ValueError("networks must name at least one network.")
        super().__init__(
            device=device,
            max_epochs=max_epochs,
            data_loader=train_data_loader,
            epoch_length=epoch_length,
            non_blocking=non_blocking,
            prepare_batch=prepare_batch or PrepareBatchDict(),
            iteration_update=iteration_update,
            postprocessing=postprocessing,
            key_metric=key_train_metric,
            additional_metrics=additional_metrics,
            metric_cmp_fn=metric_cmp_fn,
            handlers=None,
            amp=amp,
            event_names=event_names,
            event_to_attr=event_to_attr,
            decollate=decollate,
        )
        self.amp_dtype = _AMP_DTYPES[amp_dtype]
        self.channels_last = channels_last
        self.compile = compile
        self.raw_networks = {name: unwrap(net) for name, net in networks.items()}
        if channels_last:
            for module in self.raw_networks.values():
                module.to(memory_format=torch.channels_last)
        self.networks = {
            name: torch.compile(net, **(compile_kwargs or {})) if compile else net for name, net in networks.items()
        }
        self._ddp = {name: net for name, net in networks.items() if isinstance(net, DistributedDataParallel)}
        self.optimizers = dict(optimizers)
        self.lr_schedulers = {k: v for k, v in (lr_schedulers or {}).items() if v is not None}
        self.scaler = torch.amp.GradScaler(self.state.device.type, enabled=amp and self.amp_dtype == torch.float16)
        for scheduler in self.lr_schedulers.values():
            LrScheduleHandler(scheduler, print_lr=False).attach(self)
        # user handlers last, so that the learning rates are stepped before checkpoints are written
        if train_handlers is not None:
            self._register_handlers(train_handlers)

    # ----------------------------------------------------------------------------------------- running
    def run(self) -> None:  # type: ignore[override]
        """Train from the current state (resumed state included)."""
        # skip `Trainer.run`, which would replace our scaler with a float16 CUDA GradScaler
        super(Trainer, self).run()

    def _iteration(self, engine: MultiNetworkTrainer, batchdata: Any) -> dict[str, Any]:
        """Prepare the batch, run :meth:`train_step` in train mode and fire MONAI's iteration events."""
        batch = engine.batch(batchdata)
        engine.set_train_mode(True)
        engine.state.output = engine.train_step(batch)
        for event in _STEP_EVENTS:
            engine.fire_event(event)
        return engine.state.output  # decollated / post-processed by the MODEL_COMPLETED handlers

    def train_step(self, batch: dict[str, torch.Tensor]) -> dict[str, Any]:
        """One training iteration on ``batch`` (tensors on the device): the optimisation steps of the method, with
        the helpers below; returns the detached ``loss*`` values and the images handlers may show."""
        raise NotImplementedError(f"{type(self).__name__} must implement train_step(batch) -> dict.")

    # ------------------------------------------------------------------------------- helpers for train_step
    def autocast(self) -> contextlib.AbstractContextManager:
        """Autocast context for forward passes (a no-op when ``amp`` is off)."""
        return torch.autocast(self.state.device.type, dtype=self.amp_dtype, enabled=self.amp)

    def batch(self, batchdata: Any) -> dict[str, torch.Tensor]:
        """Move ``batchdata`` to the device (channels-last images when enabled)."""
        batch = self.prepare_batch(batchdata, self.state.device, self.non_blocking)
        if self.channels_last:
            batch = {
                k: v.contiguous(memory_format=torch.channels_last) if isinstance(v, torch.Tensor) and v.ndim == 4 else v
                for k, v in batch.items()
            }
        return batch

    @contextlib.contextmanager
    def frozen(self, *names: str) -> Iterator[None]:
        """Freeze the named networks (no parameter gradients, no DDP gradient sync) inside the block.

        Used for the generator step of a GAN, where the discriminator is only a fixed critic.
        """
        params = [p for name in names for p in self.raw_networks[name].parameters() if p.requires_grad]
        for p in params:
            p.requires_grad_(False)
        try:
            with contextlib.ExitStack() as stack:
                for name in names:
                    if name in self._ddp:
                        stack.enter_context(self._ddp[name].no_sync())
                yield
        finally:
            for p in params:
                p.requires_grad_(True)

    def optimize(self, loss: torch.Tensor, *optimizer_names: str) -> None:
        """Zero the gradients of the named optimisers, back-propagate ``loss`` and step them (with loss scaling)."""
        optimizers = [self.optimizers[name] for name in optimizer_names]
        for optimizer in optimizers:
            optimizer.zero_grad(set_to_none=True)
        self.scaler.scale(loss).backward()
        for optimizer in optimizers:
            self.scaler.step(optimizer)
        self.scaler.update()

    def set_train_mode(self, train: bool = True) -> None:
        """Put every network in train (or eval) mode; a no-op when they already are (``Module.train`` walks every
        submodule, which costs more per iteration than a small GPU step)."""
        for module in self.raw_networks.values():
            if module.training != train:
                module.train(train)

    # ------------------------------------------------------------------------------------------- state
    def checkpoint_objects(self) -> dict[str, Any]:
        """Everything a resumable checkpoint holds: engine state, networks, optimisers, schedulers and scaler."""
        objects: dict[str, Any] = {"trainer": self}
        objects.update({f"network_{name}": module for name, module in self.raw_networks.items()})
        objects.update({f"optimizer_{name}": opt for name, opt in self.optimizers.items()})
        objects.update({f"lr_scheduler_{name}": sch for name, sch in self.lr_schedulers.items()})
        objects["grad_scaler"] = self.scaler
        return objects


class GeneratorDiscriminatorTrainer(MultiNetworkTrainer):
    """A :class:`MultiNetworkTrainer` of one ``"generator"`` against one ``"discriminator"``, each with its optimiser
    and optional epoch-level learning-rate scheduler (saved under those names); the base of pix2pix and StarGAN.

    Args:
        generator, discriminator: the two networks.
        g_optimizer, d_optimizer: optimisers of the two networks.
        g_lr_scheduler, d_lr_scheduler: optional epoch-level schedulers of the two optimisers.
        kwargs: the other :class:`MultiNetworkTrainer` arguments (``device``, ``max_epochs``, ``train_data_loader``,
            ``train_handlers``, ``amp``, ...).
    """

    def __init__(
        self,
        generator: nn.Module,
        discriminator: nn.Module,
        g_optimizer: Optimizer,
        d_optimizer: Optimizer,
        g_lr_scheduler: LRScheduler | None = None,
        d_lr_scheduler: LRScheduler | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            networks={"generator": generator, "discriminator": discriminator},
            optimizers={"generator": g_optimizer, "discriminator": d_optimizer},
            lr_schedulers={"generator": g_lr_scheduler, "discriminator": d_lr_scheduler},
            **kwargs,
        )
