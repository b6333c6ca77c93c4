"""Diffusion training forward (concatenated condition) and sampling (DDPM, DDIM, SDEdit) with MONAI's parts."""

from __future__ import annotations

import time

import pytest
import torch
from ignite.engine import Events
from monai.engines import SupervisedEvaluator, SupervisedTrainer
from monai.engines.utils import DiffusionPrepareBatch
from monai.networks.nets import DiffusionModelUNet
from monai.networks.schedulers import DDIMScheduler, DDPMScheduler

from monai_xrgan.engines import ConcatDiffusionInferer, DiffusionSampler
from monai_xrgan.engines.diffusion import SamplingTime
from monai_xrgan.utils.errors import ConfigError


def _unet(in_channels: int) -> DiffusionModelUNet:
    torch.manual_seed(0)
    return DiffusionModelUNet(spatial_dims=2, in_channels=in_channels, out_channels=1, channels=(8, 16),
                              attention_levels=(False, False), num_res_blocks=1, norm_num_groups=8).eval()  # fmt: skip


class _Recorder(torch.nn.Module):
    """Wraps a network and records the inputs of its calls."""

    def __init__(self, net: torch.nn.Module) -> None:
        super().__init__()
        self.net, self.calls = net, []

    def forward(self, x, timesteps, context=None):
        self.calls.append((x.shape, timesteps.clone()))
        return self.net(x, timesteps)


def test_concat_inferer_feeds_noisy_image_and_condition():
    net = _Recorder(_unet(2))
    scheduler = DDPMScheduler(1000)
    hq, lq, noise = torch.rand(2, 1, 16, 16), torch.rand(2, 1, 16, 16), torch.randn(2, 1, 16, 16)
    t = torch.tensor([10, 900])
    out = ConcatDiffusionInferer(scheduler)(hq, net, noise, t, condition=lq)
    assert out.shape == (2, 1, 16, 16) and net.calls[0][0] == (2, 2, 16, 16)
    expected = net.net(torch.cat([scheduler.add_noise(hq, noise, t), lq], 1), t)
    torch.testing.assert_close(out, expected)
    unconditional = ConcatDiffusionInferer(scheduler)(hq, _Recorder(_unet(1)), noise, t)
    assert unconditional.shape == (2, 1, 16, 16)


def test_supervised_trainer_with_diffusion_prepare_batch_learns():
    net = _unet(2).train()
    data = [{"image": torch.rand(2, 1, 16, 16) * 2 - 1, "lq": torch.rand(2, 1, 16, 16) * 2 - 1}] * 4
    trainer = SupervisedTrainer(
        device="cpu", max_epochs=3, train_data_loader=data, network=net,
        optimizer=torch.optim.Adam(net.parameters(), 1e-3), loss_function=torch.nn.MSELoss(),
        inferer=ConcatDiffusionInferer(DDPMScheduler(1000)), prepare_batch=DiffusionPrepareBatch(1000, condition_name="lq"),
        decollate=False,
    )  # fmt: skip
    losses = []
    trainer.add_event_handler(Events.ITERATION_COMPLETED, lambda e: losses.append(e.state.output["loss"].item()))
    trainer.run()
    assert len(losses) == 12 and sum(losses[-3:]) < sum(losses[:3])


@pytest.mark.parametrize("scheduler", [DDIMScheduler(1000), DDPMScheduler(1000)], ids=["ddim", "ddpm"])
def test_sampler_runs_the_requested_steps_with_the_condition(scheduler):
    net = _Recorder(_unet(2))
    lq = torch.rand(3, 1, 16, 16) * 2 - 1
    sampler = DiffusionSampler(scheduler, num_inference_steps=5, seed=7)
    first = sampler(lq, net)
    assert first.shape == lq.shape and len(net.calls) == 5
    assert all(shape == (3, 2, 16, 16) for shape, _ in net.calls)
    scheduler.set_timesteps(5)
    assert [int(t) for _, t in net.calls] == scheduler.timesteps.tolist()
    torch.testing.assert_close(sampler(lq, net), first)  # seeded: the same restoration every time
    assert not torch.equal(DiffusionSampler(scheduler, 5, seed=8)(lq, net), first)


def test_sdedit_starts_from_the_noised_input_and_keeps_it_at_low_strength():
    net = _Recorder(_unet(1))
    image = torch.rand(2, 1, 16, 16) * 2 - 1
    sampler = DiffusionSampler(DDIMScheduler(1000), num_inference_steps=50, conditional=False, strength=0.1)
    out = sampler(image, net)
    schedule = DDIMScheduler(1000)
    schedule.set_timesteps(50)
    assert [int(t) for _, t in net.calls] == [t for t in schedule.timesteps.tolist() if t < 100]
    full = DiffusionSampler(DDIMScheduler(1000), num_inference_steps=5, conditional=False)(image, _unet(1))
    assert (out - image).abs().mean() < (full - image).abs().mean()


def test_sampler_options_are_checked():
    with pytest.raises(ConfigError, match="num_inference_steps"):
        DiffusionSampler(DDIMScheduler(1000), num_inference_steps=0)
    with pytest.raises(ConfigError, match="strength"):
        DiffusionSampler(DDIMScheduler(1000), strength=1.5)
    with pytest.raises(ConfigError, match="leaves no step"):
        DiffusionSampler(DDIMScheduler(1000), num_inference_steps=2, conditional=False, strength=0.0001)(
            torch.zeros(1, 1, 8, 8), _unet(1)
        )


class _Slow(torch.nn.Module):
    """Returns zeros after sleeping ``seconds`` per call."""

    def __init__(self, seconds: float) -> None:
        super().__init__()
        self.seconds = seconds

    def forward(self, x, timesteps, context=None):
        time.sleep(self.seconds)
        return torch.zeros_like(x[:, :1])


@pytest.mark.parametrize("decollate", [True, False])
def test_sampling_time_is_seconds_of_sampling_per_image(decollate):
    sampler = DiffusionSampler(DDIMScheduler(1000), num_inference_steps=3)
    data = [{"image": torch.zeros(2, 1, 8, 8), "label": torch.zeros(2, 1)},
            {"image": torch.zeros(1, 1, 8, 8), "label": torch.zeros(1, 1)}]  # fmt: skip
    evaluator = SupervisedEvaluator(
        device="cpu", val_data_loader=data, network=_Slow(0.02), inferer=sampler, decollate=decollate,
        key_val_metric={"seconds_per_image": SamplingTime(sampler)},
    )  # fmt: skip
    start = time.perf_counter()
    evaluator.run()
    per_image = evaluator.state.metrics["seconds_per_image"]
    assert 2 * 3 * 0.02 / 3 <= per_image <= (time.perf_counter() - start) / 3  # 2 batches x 3 steps, 3 images
