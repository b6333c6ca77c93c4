"""Diffusion training forward (concatenated condition) and sampling (DDPM, DDIM, SDEdit) with MONAI's parts."""

from __future__ import annotations

import time

import pytest
import torch
from ignite.engine import Events
from monai.engines import SupervisedEvaluator, SupervisedTrainer
from monai.engines.utils import DiffusionPrepareBatch
from monai.metrics import PSNRMetric
from monai.networks.layers import GaussianFilter
from monai.networks.nets import DiffusionModelUNet
from monai.networks.schedulers import DDIMScheduler, DDPMScheduler
from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn

from monai_xrgan.engines import EMATrainer, RestorationPrepareBatch
from monai_xrgan.inferers import ConcatDiffusionInferer, DiffusionSampler
from monai_xrgan.metrics import SamplingTime
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
        inferer=ConcatDiffusionInferer(DDPMScheduler(1000)),
        prepare_batch=DiffusionPrepareBatch(1000, condition_name="lq"),
        decollate=False,
    )  # fmt: skip
    losses = []
    trainer.add_event_handler(Events.ITERATION_COMPLETED, lambda e: losses.append(e.state.output["loss"].item()))
    trainer.run()
    assert len(losses) == 12 and sum(losses[-3:]) < sum(losses[:3])


@pytest.mark.parametrize("scheduler", [DDIMScheduler(1000), DDPMScheduler(5)], ids=["ddim", "ddpm"])
def test_sampler_runs_the_requested_steps_with_the_condition(scheduler):
    net = _Recorder(_unet(2))
    lq = torch.rand(3, 1, 16, 16) * 2 - 1
    sampler = DiffusionSampler(scheduler, num_inference_steps=5, seed=7)
    first = sampler(lq, net)
    assert first.shape == lq.shape and len(net.calls) == 5
    assert all(shape == (3, 2, 16, 16) for shape, _ in net.calls)
    scheduler.set_timesteps(5)
    assert [int(t[0]) for _, t in net.calls] == scheduler.timesteps.tolist()
    torch.testing.assert_close(sampler(lq, net), first)  # seeded: the same restoration every time
    assert not torch.equal(DiffusionSampler(scheduler, 5, seed=8)(lq, net), first)


def test_sdedit_starts_from_the_noised_input_and_keeps_it_at_low_strength():
    net = _Recorder(_unet(1))
    image = torch.rand(2, 1, 16, 16) * 2 - 1
    sampler = DiffusionSampler(DDIMScheduler(1000), num_inference_steps=50, conditional=False, strength=0.1)
    out = sampler(image, net)
    schedule = DDIMScheduler(1000)
    schedule.set_timesteps(50)
    assert [int(t[0]) for _, t in net.calls] == [t for t in schedule.timesteps.tolist() if t < 100]
    full = DiffusionSampler(DDIMScheduler(1000), num_inference_steps=5, conditional=False)(image, _unet(1))
    assert (out - image).abs().mean() < (full - image).abs().mean()


def test_sampler_options_are_checked():
    with pytest.raises(ConfigError, match="num_inference_steps"):
        DiffusionSampler(DDIMScheduler(1000), num_inference_steps=0)
    with pytest.raises(ConfigError, match="lower `num_inference_steps`"):  # DDIM: at most the training steps
        DiffusionSampler(DDIMScheduler(100), num_inference_steps=200)
    with pytest.raises(ConfigError, match="DDPM sampling needs num_inference_steps == num_train_timesteps"):
        DiffusionSampler(DDPMScheduler(1000), num_inference_steps=50)  # MONAI's DDPM step assumes t - 1
    with pytest.raises(ConfigError, match="prediction_type"):
        DiffusionSampler(DDIMScheduler(1000, prediction_type="epsilon"), prediction_type="sample")
    with pytest.raises(ConfigError, match="eta"):
        DiffusionSampler(DDPMScheduler(10), num_inference_steps=10, eta=1.0)
    with pytest.raises(ConfigError, match="residual"):
        DiffusionSampler(DDIMScheduler(1000), conditional=False, residual=True)
    with pytest.raises(ConfigError, match="strength"):
        DiffusionSampler(DDIMScheduler(1000), strength=1.5)
    with pytest.raises(ConfigError, match="leaves no step"):
        DiffusionSampler(DDIMScheduler(1000), num_inference_steps=2, conditional=False, strength=0.0001)(
            torch.zeros(1, 1, 8, 8), _unet(1)
        )


class _Timed(torch.nn.Module):
    """Returns zeros after ``seconds`` per call: of CPU work (``busy``) or of sleep (no CPU time)."""

    def __init__(self, seconds: float, busy: bool) -> None:
        super().__init__()
        self.seconds, self.busy = seconds, busy

    def forward(self, x, timesteps, context=None):
        if self.busy:
            end = time.process_time() + self.seconds
            while time.process_time() < end:
                pass
        else:
            time.sleep(self.seconds)
        return torch.zeros_like(x[:, :1])


def _seconds_per_image(network: torch.nn.Module, decollate: bool) -> tuple[float, float]:
    """``SamplingTime`` of a 3-step sampler over 2 batches (3 images), and the wall-clock seconds of the run."""
    sampler = DiffusionSampler(DDIMScheduler(1000), num_inference_steps=3)
    data = [{"image": torch.zeros(2, 1, 8, 8), "label": torch.zeros(2, 1)},
            {"image": torch.zeros(1, 1, 8, 8), "label": torch.zeros(1, 1)}]  # fmt: skip
    evaluator = SupervisedEvaluator(
        device="cpu", val_data_loader=data, network=network, inferer=sampler, decollate=decollate,
        key_val_metric={"seconds_per_image": SamplingTime(sampler)},
    )  # fmt: skip
    start = time.perf_counter()
    evaluator.run()
    return evaluator.state.metrics["seconds_per_image"], time.perf_counter() - start


@pytest.mark.parametrize("decollate", [True, False])
def test_sampling_time_is_seconds_of_sampling_per_image(decollate):
    per_image, wall = _seconds_per_image(_Timed(0.02, busy=True), decollate)
    assert 2 * 3 * 0.02 / 3 <= per_image <= wall / 3  # 2 batches x 3 steps, 3 images


def test_sampling_time_on_a_cpu_counts_cpu_time_not_waiting():
    # on a CPU the clock is the process's CPU time, so cores taken by other jobs do not inflate it
    per_image, wall = _seconds_per_image(_Timed(0.05, busy=False), decollate=True)
    assert wall >= 2 * 3 * 0.05 and per_image < 0.05


class _Zero(torch.nn.Module):
    """Predicts zero: for a residual ``sample`` model, "no restoration needed"."""

    def forward(self, x, timesteps, context=None):
        return torch.zeros_like(x[:, :1])


@pytest.mark.parametrize(
    "scheduler, steps",
    [(DDIMScheduler(1000, prediction_type="sample"), 50), (DDPMScheduler(20, prediction_type="sample"), 20)],
    ids=["ddim", "ddpm"],
)
def test_residual_sampling_returns_the_lq_input_when_the_model_predicts_zero_residual(scheduler, steps):
    lq = torch.rand(2, 1, 8, 8) * 2 - 1
    out = DiffusionSampler(scheduler, steps, prediction_type="sample", residual=True)(lq, _Zero())
    torch.testing.assert_close(out, lq, rtol=0, atol=1e-6)
    clamped = DiffusionSampler(scheduler, steps, prediction_type="sample", residual=True)(lq * 3, _Zero())
    assert clamped.min() >= -1 and clamped.max() <= 1  # LQ + residual is clamped to the model range


@pytest.mark.parametrize("prediction_type", ["sample", "epsilon", "v_prediction"])
def test_restoration_batch_diffuses_the_residual_with_the_configured_target(prediction_type):
    scheduler = DDPMScheduler(1000, prediction_type=prediction_type)
    hq, lq = torch.rand(3, 1, 8, 8), torch.rand(3, 1, 8, 8)
    prepare = RestorationPrepareBatch(1000, scheduler, prediction_type, image_key="hq", condition_name="lq",
                                      residual=True)  # fmt: skip
    images, target, args, kwargs = prepare({"hq": hq, "lq": lq}, "cpu")
    torch.testing.assert_close(images, hq - lq)
    torch.testing.assert_close(kwargs["condition"], lq)
    expected = {
        "sample": hq - lq,
        "epsilon": kwargs["noise"],
        "v_prediction": scheduler.get_velocity(hq - lq, kwargs["noise"], kwargs["timesteps"]),
    }[prediction_type]
    torch.testing.assert_close(target, expected)
    assert args == () and kwargs["timesteps"].shape == (3,)
    plain, *_ = RestorationPrepareBatch(1000, scheduler, prediction_type, image_key="hq")({"hq": hq}, "cpu")
    torch.testing.assert_close(plain, hq)


def test_restoration_batch_options_are_checked():
    with pytest.raises(ConfigError, match="scheduler#prediction_type"):
        RestorationPrepareBatch(1000, DDPMScheduler(1000), "sample")
    with pytest.raises(ConfigError, match="condition_name"):
        RestorationPrepareBatch(1000, DDPMScheduler(1000), "epsilon", residual=True)
    with pytest.raises(ConfigError, match="prediction_type must be one of"):
        RestorationPrepareBatch(1000, DDPMScheduler(1000), "noise")
    with pytest.raises(ConfigError, match="'lq'"):
        RestorationPrepareBatch(1000, DDPMScheduler(1000), condition_name="lq")(
            {"image": torch.zeros(1, 1, 4, 4)}, "cpu"
        )


def _pairs(count: int, size: int = 16) -> list[dict[str, torch.Tensor]]:
    """Smooth random HQ images and their blurred, flatter LQ partners in [-1, 1]."""
    torch.manual_seed(3)
    hq = GaussianFilter(2, 1.0)(torch.rand(count, 1, size, size)) * 4 - 2
    hq = hq.clamp(-1, 1)
    lq = 0.7 * GaussianFilter(2, 1.5)(hq)
    return [{"hq": hq[i : i + 1], "lq": lq[i : i + 1]} for i in range(count)]


def test_tiny_residual_model_overfits_four_pairs_above_the_lq_input():
    torch.manual_seed(0)
    net = _unet(2).train()
    scheduler = DDPMScheduler(1000, prediction_type="sample")
    data = _pairs(4)
    batch = [{k: torch.cat([d[k] for d in data]) for k in ("hq", "lq")}]
    ema = AveragedModel(net, multi_avg_fn=get_ema_multi_avg_fn(0.9), use_buffers=True)
    trainer = EMATrainer(
        device="cpu", max_epochs=60, train_data_loader=batch, network=net, ema=ema,
        optimizer=torch.optim.Adam(net.parameters(), 3e-3), loss_function=torch.nn.MSELoss(),
        inferer=ConcatDiffusionInferer(scheduler),
        prepare_batch=RestorationPrepareBatch(1000, scheduler, "sample", "hq", "lq", residual=True), decollate=False,
    )  # fmt: skip
    trainer.run()
    sampler = DiffusionSampler(DDIMScheduler(1000, prediction_type="sample"), 10, prediction_type="sample",
                               residual=True)  # fmt: skip
    restored = sampler(batch[0]["lq"], ema.module.eval())
    psnr = PSNRMetric(2.0)
    assert psnr(restored, batch[0]["hq"]).mean() > psnr(batch[0]["lq"], batch[0]["hq"]).mean() + 3.0  # dB


def test_ema_trainer_averages_exports_and_starts_from_the_average():
    net = _unet(2).train()
    ema = AveragedModel(net, multi_avg_fn=get_ema_multi_avg_fn(0.5), use_buffers=True)
    start = {k: torch.full_like(v, 0.01) if v.is_floating_point() else v for k, v in ema.module.state_dict().items()}
    ema.module.load_state_dict(start)  # e.g. fine-tuning weights loaded into the exported "ema" network
    scheduler = DDPMScheduler(1000, prediction_type="sample")
    trainer = EMATrainer(
        device="cpu", max_epochs=1, train_data_loader=[{k: v for k, v in _pairs(1)[0].items()}] * 3, network=net,
        ema=ema, optimizer=torch.optim.SGD(net.parameters(), 0.1), loss_function=torch.nn.MSELoss(),
        inferer=ConcatDiffusionInferer(scheduler),
        prepare_batch=RestorationPrepareBatch(1000, scheduler, "sample", "hq", "lq", residual=True), decollate=False,
    )  # fmt: skip
    later = {k: torch.full_like(v, 0.02) if v.is_floating_point() else v for k, v in start.items()}
    # a handler attached after the trainer's (the bundle's pretrained_ckpt loader) loads the "ema" weights at STARTED
    trainer.add_event_handler(Events.STARTED, lambda e: ema.module.load_state_dict(later))
    seen = []
    trainer.add_event_handler(
        Events.ITERATION_STARTED(once=1), lambda e: seen.append(net.conv_in.conv.weight.detach().clone())
    )
    trainer.run()
    assert torch.all(seen[0] == 0.02)  # the network started from the average's weights, as loaded at STARTED
    assert set(trainer.raw_networks) == {"network", "ema"} and trainer.checkpoint_objects()["ema"] is ema
    assert int(ema.n_averaged) == 3
    assert not torch.equal(ema.module.conv_in.conv.weight, net.conv_in.conv.weight)  # an average, not a copy
    with pytest.raises(ConfigError, match="AveragedModel"):
        EMATrainer(device="cpu", max_epochs=1, train_data_loader=[], network=net, ema=net,
                   optimizer=torch.optim.SGD(net.parameters(), 0.1), loss_function=torch.nn.MSELoss())  # fmt: skip
