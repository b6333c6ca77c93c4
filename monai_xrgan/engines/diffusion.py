"""Diffusion inferers: concatenated-condition training forward and reverse-process sampling (DDPM / DDIM / SDEdit).

Training needs no trainer subclass: MONAI's ``SupervisedTrainer`` with ``DiffusionPrepareBatch`` (noise, random
timesteps and, for a conditional model, the condition image) and :class:`ConcatDiffusionInferer` is the DDPM
algorithm (Ho et al. 2020, epsilon prediction, MSE loss). :class:`DiffusionSampler` is the inferer evaluators and
inference configs run: ``sampler(inputs, network)`` returns samples shaped like ``inputs``; :class:`SamplingTime` is the
evaluator metric of its wall-clock seconds per image.
"""

from __future__ import annotations

import time
from typing import Any

import torch
from ignite.exceptions import NotComputableError
from ignite.metrics import Metric
from monai.data import MetaTensor
from monai.inferers import DiffusionInferer, Inferer
from monai.networks.schedulers import Scheduler
from monai.utils import convert_to_dst_type
from torch import nn

from monai_xrgan.utils.errors import ConfigError

__all__ = ["ConcatDiffusionInferer", "DiffusionSampler", "SamplingTime"]


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
      image at every step; sampling starts from Gaussian noise (restoration, DiffusionXRay stage 2).
    * ``conditional=False`` and ``strength < 1``: SDEdit (Meng et al. 2022): ``inputs`` is noised to the timestep
      ``strength * num_train_timesteps`` and denoised by the unconditional model, which keeps its layout and gives it
      the style the model learnt (DiffusionXRay stage 1, DDPM-LQ).
    * ``conditional=False`` and ``strength == 1``: unconditional sampling; ``inputs`` only gives the shape.

    Args:
        scheduler: a ``DDPMScheduler`` or ``DDIMScheduler`` with the training's ``num_train_timesteps`` and beta
            schedule; its timesteps are set here.
        num_inference_steps: reverse steps over the whole schedule (DDPM: up to ``num_train_timesteps``; DDIM: e.g. 50).
        conditional: concatenate ``inputs`` as the condition.
        strength: fraction of the schedule to run (1: from pure noise).
        seed: seed of the starting noise (and of the DDPM step noise), so that a sampler gives the same images for
            the same inputs every time; ``None`` uses the global random state.

    ``last_seconds`` holds the wall-clock time of the latest call (CUDA synchronised), which :class:`SamplingTime`
    reads.
    """

    def __init__(
        self,
        scheduler: Scheduler,
        num_inference_steps: int = 50,
        conditional: bool = True,
        strength: float = 1.0,
        seed: int | None = 0,
    ) -> None:
        super().__init__()
        if isinstance(num_inference_steps, bool) or not 1 <= int(num_inference_steps) <= scheduler.num_train_timesteps:
            raise ConfigError(
                f"num_inference_steps must be an integer in [1, {scheduler.num_train_timesteps}] (the scheduler's "
                f"num_train_timesteps), got {num_inference_steps!r}."
            )
        if not 0.0 < float(strength) <= 1.0:
            raise ConfigError(f"strength must be in (0, 1], got {strength!r}.")
        self.scheduler = scheduler
        self.num_inference_steps = int(num_inference_steps)
        self.conditional = conditional
        self.strength = float(strength)
        self.seed = seed
        self.inferer = DiffusionInferer(scheduler)
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

    @torch.no_grad()
    def __call__(self, inputs: torch.Tensor, network: Any, *args: Any, **kwargs: Any) -> torch.Tensor:
        x = inputs.as_tensor() if isinstance(inputs, MetaTensor) else inputs
        x = x.float()
        start_time = time.perf_counter()
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
            out = self.inferer.sample(
                input_noise=start,
                diffusion_model=network,
                scheduler=self.scheduler,
                conditioning=x if self.conditional else None,
                mode="concat" if self.conditional else "crossattn",
                verbose=False,
            )
        if out.device.type == "cuda":
            torch.cuda.synchronize(out.device)
        self.last_seconds = time.perf_counter() - start_time
        return convert_to_dst_type(out, inputs)[0]  # a MetaTensor input's metadata, for Invertd


class SamplingTime(Metric):
    """Ignite metric of an evaluator that samples with ``sampler``: wall-clock seconds of sampling per image.

    Each iteration adds the sampler's ``last_seconds`` and the number of images under ``pred_key`` of the engine
    output (decollated or not); data loading, metrics and handlers are not counted.

    Args:
        sampler: the evaluator's inferer.
        pred_key: output key of the sampled images.
    """

    def __init__(self, sampler: DiffusionSampler, pred_key: str = "pred") -> None:
        self.sampler, self.pred_key = sampler, pred_key
        super().__init__(output_transform=self._num_images)

    def _num_images(self, output: Any) -> int:
        return len(output) if isinstance(output, list) else len(output[self.pred_key])

    def reset(self) -> None:
        self._seconds, self._images = 0.0, 0

    def update(self, output: int) -> None:
        self._seconds += self.sampler.last_seconds
        self._images += output

    def compute(self) -> float:
        if not self._images:
            raise NotComputableError("SamplingTime needs at least one sampled batch.")
        return self._seconds / self._images
