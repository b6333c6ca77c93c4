"""Diffusion inferers: the training forward with a concatenated condition (:class:`ConcatDiffusionInferer`) and the
reverse process, DDPM / DDIM / SDEdit (:class:`DiffusionSampler`), that evaluators and inference configs run:
``sampler(inputs, network)`` returns images shaped like ``inputs`` (LQ added back and clamped for a residual model).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import torch
from monai.data import MetaTensor
from monai.inferers import DiffusionInferer, Inferer
from monai.networks.schedulers import DDIMScheduler, DDPMScheduler, Scheduler
from monai.networks.schedulers.ddpm import DDPMPredictionType
from monai.utils import convert_to_dst_type
from torch import nn

from monai_xrgan.utils.checks import check_choice
from monai_xrgan.utils.errors import ConfigError

__all__ = ["PREDICTION_TYPES", "ConcatDiffusionInferer", "DiffusionSampler"]

#: what the network predicts: the noise, the clean (residual) image x0, or the velocity (Salimans & Ho 2022)
PREDICTION_TYPES = tuple(t.value for t in DDPMPredictionType)


class ConcatDiffusionInferer(DiffusionInferer):
    """:class:`monai.inferers.DiffusionInferer` whose condition (if any) is concatenated to the noisy image as input
    channels (``mode="concat"``), so ``SupervisedTrainer`` + ``DiffusionPrepareBatch(condition_name=...)`` train a
    conditional model without passing ``mode`` through the engine; without a condition it is unconditional."""

    def __call__(  # type: ignore[override]
        self,
        inputs: torch.Tensor,
        diffusion_model: nn.Module,
        noise: torch.Tensor,
        timesteps: torch.Tensor,
        condition: torch.Tensor | None = None,
        mode: str = "concat",
        seg: torch.Tensor | None = None,
    ) -> torch.Tensor:
        if condition is None:
            noisy = self.scheduler.add_noise(original_samples=inputs, noise=noise, timesteps=timesteps)
            return diffusion_model(x=noisy, timesteps=timesteps, context=None)
        return super().__call__(inputs, diffusion_model, noise, timesteps, condition, mode, seg)


class DiffusionSampler(Inferer):
    """Run the reverse diffusion process: ``sampler(inputs, network)`` returns images shaped like ``inputs``.

    * ``conditional=True``: ``inputs`` is the condition (e.g. the low-quality radiograph), concatenated to the noisy
      image at every step; sampling starts from Gaussian noise (restoration, DiffusionXRay stage 2). With
      ``residual`` the model generates ``HQ - LQ`` and the sampler returns ``clamp(inputs + residual, *value_range)``.
    * ``conditional=False`` and ``strength < 1``: SDEdit (Meng et al. 2022): ``inputs`` is noised to the timestep
      ``strength * num_train_timesteps`` and denoised by the unconditional model, which keeps its layout and gives it
      the style the model learnt (DiffusionXRay stage 1, DDPM-LQ).
    * ``conditional=False`` and ``strength == 1``: unconditional sampling; ``inputs`` only gives the shape.

    Refused with a one-line error: a ``DDPMScheduler`` with ``num_inference_steps`` other than its
    ``num_train_timesteps`` (MONAI's DDPM step assumes the previous timestep is ``t - 1``), more steps than training
    steps, and a ``prediction_type`` of the model that differs from the scheduler's.

    Args:
        scheduler: a ``DDPMScheduler`` or ``DDIMScheduler`` with the training's ``num_train_timesteps``, beta
            schedule and ``prediction_type``; its timesteps are set here.
        num_inference_steps: reverse steps over the whole schedule (DDPM: ``num_train_timesteps``; DDIM: e.g. 50).
        conditional: concatenate ``inputs`` as the condition.
        strength: fraction of the schedule to run (1: from pure noise).
        seed: seed of the starting noise (and of the DDPM / DDIM ``eta > 0`` step noise), so that a sampler gives the
            same images for the same inputs every time; ``None`` uses the global random state.
        prediction_type: what the model was trained to predict (one of :data:`PREDICTION_TYPES`); ``None``: the
            scheduler's.
        residual: the model generates the residual ``HQ - LQ`` (needs ``conditional``).
        eta: DDIM step noise (0: deterministic DDIM, 1: DDPM-like); DDIM only.
        value_range: the range the returned images are clamped to (residual models).

    ``last_seconds`` holds the time of the latest call, which :class:`~monai_xrgan.metrics.SamplingTime` reads:
    synchronised wall-clock time on CUDA, the process's CPU time on a CPU (other jobs sharing the cores do not change
    it, so DDPM / DDIM ratios from separate runs compare).
    """

    def __init__(
        self,
        scheduler: Scheduler,
        num_inference_steps: int = 50,
        conditional: bool = True,
        strength: float = 1.0,
        seed: int | None = 0,
        prediction_type: str | None = None,
        residual: bool = False,
        eta: float = 0.0,
        value_range: Sequence[float] = (-1.0, 1.0),
    ) -> None:
        super().__init__()
        train_steps = scheduler.num_train_timesteps
        if isinstance(num_inference_steps, bool) or not 1 <= int(num_inference_steps) <= train_steps:
            raise ConfigError(
                f"num_inference_steps must be an integer in [1, {train_steps}] (the training's num_train_timesteps), "
                f"got {num_inference_steps!r}; lower `num_inference_steps`."
            )
        if isinstance(scheduler, DDPMScheduler) and int(num_inference_steps) != train_steps:
            raise ConfigError(
                f"DDPM sampling needs num_inference_steps == num_train_timesteps ({train_steps}), got "
                f"{num_inference_steps}; set `num_inference_steps` to {train_steps} or use `sampler` 'ddim'."
            )
        if (
            prediction_type is not None
            and check_choice("prediction_type", prediction_type, PREDICTION_TYPES) != scheduler.prediction_type
        ):
            raise ConfigError(
                f"the model predicts {prediction_type!r} but the sampling scheduler steps with "
                f"{scheduler.prediction_type!r}; give both schedulers `prediction_type` @prediction_type."
            )
        if not 0.0 < float(strength) <= 1.0:
            raise ConfigError(f"strength must be in (0, 1], got {strength!r}.")
        if residual and not conditional:
            raise ConfigError("residual sampling adds the condition back: set `conditional` True or `residual` False.")
        if float(eta) < 0.0 or (float(eta) > 0.0 and not isinstance(scheduler, DDIMScheduler)):
            raise ConfigError(f"eta must be >= 0 and is a DDIM option, got {eta!r} for {type(scheduler).__name__}.")
        self.scheduler = scheduler
        self.num_inference_steps = int(num_inference_steps)
        self.conditional = conditional
        self.strength = float(strength)
        self.seed = seed
        self.residual = bool(residual)
        self.eta = float(eta)
        self.value_range = (float(value_range[0]), float(value_range[1]))
        self.last_seconds = 0.0

    def _timesteps(self, device: torch.device) -> torch.Tensor:
        self.scheduler.set_timesteps(self.num_inference_steps, device=device)
        timesteps = self.scheduler.timesteps
        if self.strength < 1.0:
            timesteps = timesteps[timesteps < round(self.strength * self.scheduler.num_train_timesteps)]
            if not len(timesteps):
                raise ConfigError(
                    f"strength {self.strength} leaves no step of the {self.num_inference_steps}-step schedule; raise "
                    "strength or num_inference_steps."
                )
            self.scheduler.timesteps = timesteps
        return timesteps

    def _reverse(self, start: torch.Tensor, condition: torch.Tensor | None, network: Any,
                 timesteps: torch.Tensor) -> torch.Tensor:  # fmt: skip
        """The reverse loop (``DiffusionInferer.sample`` cannot pass DDIM's ``eta``)."""
        image = start
        step_kwargs = {"eta": self.eta} if isinstance(self.scheduler, DDIMScheduler) else {}
        for t in timesteps:
            model_input = image if condition is None else torch.cat([image, condition], dim=1)
            output = network(model_input, timesteps=t.reshape(1).expand(image.shape[0]).to(image.device))
            image, _ = self.scheduler.step(output, int(t), image, **step_kwargs)
        return image

    @torch.no_grad()
    def __call__(self, inputs: torch.Tensor, network: Any, *args: Any, **kwargs: Any) -> torch.Tensor:
        x = inputs.as_tensor() if isinstance(inputs, MetaTensor) else inputs
        x = x.float()
        clock = time.perf_counter if x.device.type == "cuda" else time.process_time
        start_time = clock()
        timesteps = self._timesteps(x.device)
        fork = torch.random.fork_rng(
            devices=[x.device] if x.device.type == "cuda" else [], enabled=self.seed is not None
        )
        with fork:
            if self.seed is not None:
                torch.manual_seed(self.seed)
            noise = torch.randn_like(x)
            start = noise
            if self.strength < 1.0:
                start = self.scheduler.add_noise(original_samples=x, noise=noise, timesteps=timesteps[:1].long())
            out = self._reverse(start, x if self.conditional else None, network, timesteps)
        if self.residual:
            out = (x + out).clamp(*self.value_range)
        if out.device.type == "cuda":
            torch.cuda.synchronize(out.device)
        self.last_seconds = clock() - start_time
        return convert_to_dst_type(out, inputs)[0]  # a MetaTensor input's metadata, for Invertd
