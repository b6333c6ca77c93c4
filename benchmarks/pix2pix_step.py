"""Time one pix2pix training iteration: the bundle's ``Pix2PixTrainer`` vs a plain PyTorch loop, side by side.

Both run the same networks (reference ``unet_256`` generator and 70x70 PatchGAN, 1 channel) on the same batch with
the same algorithm (G forward, D step on real/fake pairs, G step with D frozen). On a GPU the trainer is also timed
with bfloat16 autocast, channels-last and ``torch.compile``. Everything is measured in one run and printed as ratios
to the plain fp32 loop; medians over ``--iters`` iterations after ``--warmup``.

    python benchmarks/pix2pix_step.py                  # CPU, 256x256, batch 1
    python benchmarks/pix2pix_step.py --device cuda --batch 8
"""

from __future__ import annotations

import argparse
import math
import statistics
import time
from collections.abc import Callable

import torch
import torch.nn.functional as F
from ignite.engine import Events
from monai.networks.nets import PatchDiscriminator

from monai_xrgan.engines import Pix2PixTrainer
from monai_xrgan.losses import GANLoss
from monai_xrgan.networks import Pix2PixUNet


def make_networks(size: int, device: torch.device) -> tuple[torch.nn.Module, torch.nn.Module]:
    torch.manual_seed(0)
    generator = Pix2PixUNet(1, 1, num_downs=int(math.log2(size)))
    discriminator = PatchDiscriminator(
        spatial_dims=2, num_layers_d=3, channels=64, in_channels=2, out_channels=1, norm="BATCH", bias=False, padding=1
    )
    return generator.to(device), discriminator.to(device)


def adam(net: torch.nn.Module) -> torch.optim.Optimizer:
    return torch.optim.Adam(net.parameters(), lr=2e-4, betas=(0.5, 0.999))


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def time_plain_loop(batch: dict, size: int, device: torch.device, warmup: int, iters: int) -> list[float]:
    """The algorithm written as a bare loop, the way the reference implementation does it."""
    generator, discriminator = make_networks(size, device)
    g_opt, d_opt, gan = adam(generator), adam(discriminator), GANLoss("vanilla")
    a, b = batch["image"], batch["target"]
    times = []
    for i in range(warmup + iters):
        sync(device)
        start = time.perf_counter()
        fake = generator(a)
        for p in discriminator.parameters():
            p.requires_grad_(True)
        d_opt.zero_grad(set_to_none=True)
        loss_d = 0.5 * (gan(discriminator(torch.cat([a, fake.detach()], 1))[-1], False)
                        + gan(discriminator(torch.cat([a, b], 1))[-1], True))  # fmt: skip
        loss_d.backward()
        d_opt.step()
        for p in discriminator.parameters():
            p.requires_grad_(False)
        g_opt.zero_grad(set_to_none=True)
        loss_g = gan(discriminator(torch.cat([a, fake], 1))[-1], True) + 100.0 * F.l1_loss(fake, b)
        loss_g.backward()
        g_opt.step()
        sync(device)
        if i >= warmup:
            times.append(time.perf_counter() - start)
    return times


def time_trainer(batch: dict, size: int, device: torch.device, warmup: int, iters: int, **options) -> list[float]:
    """The bundle's trainer (Ignite engine, MONAI handlers-ready) on the same batch, repeated."""
    generator, discriminator = make_networks(size, device)
    loader = [batch] * (warmup + iters)
    trainer = Pix2PixTrainer(
        generator=generator, discriminator=discriminator, g_optimizer=adam(generator),
        d_optimizer=adam(discriminator), device=device, max_epochs=1, train_data_loader=loader, **options,
    )  # fmt: skip
    times: list[float] = []
    starts: list[float] = []

    @trainer.on(Events.ITERATION_STARTED)
    def _start(engine):
        sync(device)
        starts.append(time.perf_counter())

    @trainer.on(Events.ITERATION_COMPLETED)
    def _stop(engine):
        sync(device)
        if engine.state.iteration > warmup:
            times.append(time.perf_counter() - starts[-1])

    trainer.run()
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--batch", type=int, default=1)
    parser.add_argument("--iters", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    args = parser.parse_args()
    device = torch.device(args.device)
    g = torch.Generator().manual_seed(0)
    # the batch is already on the device for both, so that only the training step itself is compared
    batch = {
        k: (torch.rand(args.batch, 1, args.size, args.size, generator=g) * 2 - 1).to(device)
        for k in ("image", "target")
    }

    runs: dict[str, Callable[[], list[float]]] = {
        "plain PyTorch loop, fp32": lambda: time_plain_loop(batch, args.size, device, args.warmup, args.iters),
        "Pix2PixTrainer, fp32": lambda: time_trainer(batch, args.size, device, args.warmup, args.iters),
    }
    if device.type == "cuda":
        compile_warmup = max(args.warmup, 5)
        runs.update({
            "Pix2PixTrainer, bf16 autocast": lambda: time_trainer(
                batch, args.size, device, args.warmup, args.iters, amp=True),
            "Pix2PixTrainer, bf16 + channels_last": lambda: time_trainer(
                batch, args.size, device, args.warmup, args.iters, amp=True, channels_last=True),
            "Pix2PixTrainer, bf16 + channels_last + compile": lambda: time_trainer(
                batch, args.size, device, compile_warmup, args.iters, amp=True, channels_last=True, compile=True),
        })  # fmt: skip

    name = torch.cuda.get_device_name(device) if device.type == "cuda" else f"CPU, {torch.get_num_threads()} threads"
    print(f"pix2pix training iteration, {args.size}x{args.size}, batch {args.batch}, {name}, torch {torch.__version__}")
    medians = {}
    for label, run in runs.items():
        medians[label] = statistics.median(run())
    reference = medians["plain PyTorch loop, fp32"]
    print(f"{'variant':48s} {'median s/iter':>14s} {'images/s':>9s} {'vs plain fp32':>14s}")
    for label, seconds in medians.items():
        print(f"{label:48s} {seconds:14.4f} {args.batch / seconds:9.2f} {seconds / reference:13.2f}x")


if __name__ == "__main__":
    main()
