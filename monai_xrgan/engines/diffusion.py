"""Residual conditional diffusion training (DiffusionXRay stage 2).

Training needs no loss of its own: MONAI's ``SupervisedTrainer`` with :class:`RestorationPrepareBatch` (the diffused
image, noise, random timesteps, the condition and the target of the configured ``prediction_type``) and
:class:`~monai_xrgan.inferers.ConcatDiffusionInferer` is the algorithm; :class:`EMATrainer` adds an exponential
moving average of the weights (``torch.optim.swa_utils.AveragedModel``) that validation, inference and export use.
With ``residual=True`` the model diffuses ``HQ - LQ``, so a model that predicts a zero residual returns its LQ input:
restoration starts at the no-restoration floor. Sampling is :class:`~monai_xrgan.inferers.DiffusionSampler`, its
time per image :class:`~monai_xrgan.metrics.SamplingTime`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
from ignite.engine import Events
from monai.engines import SupervisedTrainer
from monai.engines.utils import DiffusionPrepareBatch
from monai.networks.schedulers import Scheduler
from monai.networks.schedulers.ddpm import DDPMPredictionType
from torch import nn
from torch.optim.swa_utils import AveragedModel

from monai_xrgan.utils.checks import check_choice
from monai_xrgan.utils.distributed import unwrap
from monai_xrgan.utils.errors import ConfigError

__all__ = ["EMATrainer", "RestorationPrepareBatch"]

#: what the network predicts: the noise, the clean (residual) image x0, or the velocity (Salimans & Ho 2022)
_PREDICTION_TYPES = tuple(t.value for t in DDPMPredictionType)


class RestorationPrepareBatch(DiffusionPrepareBatch):
    """``DiffusionPrepareBatch`` of one training batch: the diffused image, its noise, random timesteps, the condition
    and the target of ``prediction_type``, as ``SupervisedTrainer`` +
    :class:`~monai_xrgan.inferers.ConcatDiffusionInferer` expect.

    The diffused image ``x0`` is ``batch[image_key] - batch[condition_name]`` with ``residual`` (the restoration
    residual HQ - LQ), else ``batch[image_key]``; the target is the noise (``"epsilon"``), ``x0`` (``"sample"``) or
    the velocity ``sqrt(a) * noise - sqrt(1 - a) * x0`` (``"v_prediction"``, from ``scheduler``).

    Args:
        num_train_timesteps: timesteps are drawn uniformly from ``[0, num_train_timesteps)``.
        scheduler: the training scheduler (its ``prediction_type`` must be ``prediction_type``).
        prediction_type: ``"epsilon"``, ``"sample"`` or ``"v_prediction"``.
        image_key: batch key of the image to generate (e.g. ``"hq"``).
        condition_name: batch key of the concatenated condition (e.g. ``"lq"``), ``None`` for an unconditional model.
        residual: diffuse ``image - condition`` (needs ``condition_name``).
    """

    def __init__(
        self,
        num_train_timesteps: int,
        scheduler: Scheduler,
        prediction_type: str = "epsilon",
        image_key: str = "image",
        condition_name: str | None = None,
        residual: bool = False,
    ) -> None:
        super().__init__(num_train_timesteps, condition_name)
        self.prediction_type = check_choice("prediction_type", prediction_type, _PREDICTION_TYPES)
        if getattr(scheduler, "prediction_type", prediction_type) != prediction_type:
            raise ConfigError(
                f"prediction_type {prediction_type!r} differs from the training scheduler's "
                f"{scheduler.prediction_type!r}; set `scheduler#prediction_type` to `@prediction_type`."
            )
        if residual and condition_name is None:
            raise ConfigError("residual diffusion needs the condition (HQ - LQ): set `condition_name`, e.g. 'lq'.")
        self.scheduler, self.image_key, self.residual = scheduler, image_key, bool(residual)

    def get_target(self, images: torch.Tensor, noise: torch.Tensor, timesteps: torch.Tensor) -> torch.Tensor:
        if self.prediction_type == "sample":
            return images
        if self.prediction_type == "v_prediction":
            return self.scheduler.get_velocity(images, noise, timesteps)
        return noise

    def __call__(  # type: ignore[override]
        self,
        batchdata: Mapping[str, Any],
        device: str | torch.device | None = None,
        non_blocking: bool = False,
        **kwargs: Any,
    ) -> tuple[torch.Tensor, torch.Tensor, tuple, dict[str, torch.Tensor]]:
        for key in (self.image_key, self.condition_name):
            if key is not None and key not in batchdata:
                raise ConfigError(f"training batch has no key {key!r} (keys: {sorted(batchdata)}); check the datalist.")
        images = torch.as_tensor(batchdata[self.image_key]).to(device, non_blocking=non_blocking, **kwargs)
        infer_kwargs: dict[str, torch.Tensor] = {}
        if self.condition_name is not None:
            condition = torch.as_tensor(batchdata[self.condition_name]).to(device, non_blocking=non_blocking, **kwargs)
            infer_kwargs["condition"] = condition
            if self.residual:
                images = images - condition
        noise = self.get_noise(images)
        timesteps = self.get_timesteps(images)
        infer_kwargs.update(noise=noise, timesteps=timesteps)
        return images, self.get_target(images, noise, timesteps), (), infer_kwargs


class EMATrainer(SupervisedTrainer):
    """``SupervisedTrainer`` that updates an exponential moving average of its network after every iteration.

    ``ema`` is a ``torch.optim.swa_utils.AveragedModel`` of the network (e.g. with ``multi_avg_fn=
    get_ema_multi_avg_fn(decay)``); its ``module`` is the network that validation, inference and export use, named
    ``"ema"`` among :attr:`raw_networks` (the bundle's ``TrainingCheckpointer`` exports it as ``models/model.pt``) and
    saved with the training state, so a resumed run continues its average. A fresh run (nothing averaged yet) starts
    the network from the average's weights, so fine-tuning weights loaded into ``"ema"`` are trained on.
    """

    def __init__(self, *args: Any, ema: AveragedModel, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not isinstance(ema, AveragedModel):
            raise ConfigError(
                f"EMATrainer.ema must be a torch.optim.swa_utils.AveragedModel, got {type(ema).__name__}."
            )
        self.ema = ema
        # at the first iteration, not at STARTED: handlers attached later (the pretrained_ckpt loader) run at STARTED
        self.add_event_handler(Events.ITERATION_STARTED, self._start_from_average)
        self.add_event_handler(Events.ITERATION_COMPLETED, self._update_average)

    @property
    def raw_networks(self) -> dict[str, nn.Module]:
        return {"network": unwrap(self.network), "ema": self.ema.module}

    def checkpoint_objects(self) -> dict[str, Any]:
        return {"trainer": self, "network_network": unwrap(self.network), "optimizer_network": self.optimizer,
                "ema": self.ema}  # fmt: skip

    def _start_from_average(self, engine: Any) -> None:
        if int(self.ema.n_averaged) == 0:  # fresh run: the average holds the initial (or fine-tuning) weights
            unwrap(self.network).load_state_dict(self.ema.module.state_dict())

    def _update_average(self, engine: Any) -> None:
        self.ema.update_parameters(unwrap(self.network))
