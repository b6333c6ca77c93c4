"""Time one StarGAN / MI-GAN training iteration (``n_critic`` discriminator steps + 1 generator step), side by side.

All variants use the reference networks (StarGAN generator and discriminator, 1 channel, 3 domains) at the spec's
128x128 on the same batch: a plain PyTorch loop of the reference algorithm (WGAN-GP, domain classification, cycle
reconstruction), the bundle's ``StarGANTrainer`` with the same algorithm (plain StarGAN), and the trainer with
MI-GAN's key migration branch and every key-domain term on. On a GPU the MI-GAN trainer is also timed with
bfloat16 autocast and channels-last. Medians over ``--iters`` iterations after ``--warmup``, printed as ratios to the
plain loop.

    python benchmarks/migan_step.py                  # CPU, 128x128, batch 1
    python benchmarks/migan_step.py --device cuda --batch 16
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import torch
import torch.nn.functional as F
from ignite.engine import Events

from monai_xrgan.engines import StarGANTrainer
from monai_xrgan.losses import gradient_penalty
from monai_xrgan.networks import StarGANDiscriminator, StarGANGenerator

DOMAINS, KEY = 3, 2
MIGAN = {"key_domain": KEY, "p_key": 0.5, "lambda_key": 1.0, "lambda_att": 0.1, "lambda_tv": 0.1, "lambda_fm": 1.0,
         "lambda_cp": 1.0}  # fmt: skip


def make_networks(size: int, device: torch.device, key_branch: bool) -> tuple[torch.nn.Module, torch.nn.Module]:
    torch.manual_seed(0)
    generator = StarGANGenerator(1, DOMAINS, key_domain=KEY if key_branch else None)
    return generator.to(device), StarGANDiscriminator(1, DOMAINS, image_size=size).to(device)


def adam(net: torch.nn.Module) -> torch.optim.Optimizer:
    return torch.optim.Adam(net.parameters(), lr=1e-4, betas=(0.5, 0.999))


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def time_plain_loop(
    batch: dict, size: int, device: torch.device, n_critic: int, warmup: int, iters: int
) -> list[float]:
    """The reference algorithm as a bare loop (yunjey/stargan's ``train``), one entry per n_critic D + 1 G steps."""
    g, d = make_networks(size, device, key_branch=False)
    g_opt, d_opt = adam(g), adam(d)
    x, source = batch["image"], batch["domain"]
    times = []
    for i in range(warmup + iters):
        sync(device)
        start = time.perf_counter()
        for _ in range(n_critic):
            target = source[torch.randperm(len(source), device=device)]
            with torch.no_grad():
                fake = g(x, target)
            score_real, logits = d(x)
            loss_d = -score_real.mean() + d(fake)[0].mean() + F.cross_entropy(logits, source)
            loss_d = loss_d + 10.0 * gradient_penalty(lambda images: d(images)[0], x, fake)
            d_opt.zero_grad(set_to_none=True)
            loss_d.backward()
            d_opt.step()
        fake = g(x, target)
        score_fake, logits = d(fake)
        loss_g = -score_fake.mean() + F.cross_entropy(logits, target) + 10.0 * F.l1_loss(g(fake, source), x)
        g_opt.zero_grad(set_to_none=True)
        loss_g.backward()
        g_opt.step()
        sync(device)
        if i >= warmup:
            times.append(time.perf_counter() - start)
    return times


def time_trainer(
    batch: dict, size: int, device: torch.device, n_critic: int, warmup: int, iters: int, key_branch: bool, **options
) -> list[float]:
    """The bundle's trainer on the same batch, timed over every block of ``n_critic`` iterations."""
    g, d = make_networks(size, device, key_branch)
    loader = [batch] * (n_critic * (warmup + iters))
    extra = MIGAN if key_branch else {}
    trainer = StarGANTrainer(
        generator=g, discriminator=d, g_optimizer=adam(g), d_optimizer=adam(d), n_critic=n_critic,
        device=device, max_epochs=1, train_data_loader=loader, **extra, **options,
    )  # fmt: skip
    times: list[float] = []
    starts: list[float] = []

    @trainer.on(Events.ITERATION_STARTED)
    def _start(engine):
        if (engine.state.iteration - 1) % n_critic == 0:
            sync(device)
            starts.append(time.perf_counter())

    @trainer.on(Events.ITERATION_COMPLETED(every=n_critic))
    def _stop(engine):
        sync(device)
        if engine.state.iteration > warmup * n_critic:
            times.append(time.perf_counter() - starts[-1])

    trainer.run()
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=128)
    parser.add_argument("--batch", type=int, default=1)
    parser.add_argument("--n_critic", type=int, default=5)
    parser.add_argument("--iters", type=int, default=3)
    parser.add_argument("--warmup", type=int, default=1)
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    args = parser.parse_args()
    device = torch.device(args.device)
    g = torch.Generator().manual_seed(0)
    # the batch is already on the device for every variant, so that only the training step itself is compared
    batch = {
        "image": (torch.rand(args.batch, 1, args.size, args.size, generator=g) * 2 - 1).to(device),
        "domain": (torch.arange(args.batch) % DOMAINS).to(device),
    }
    common = (batch, args.size, device, args.n_critic, args.warmup, args.iters)
    runs: dict[str, Callable[[], list[float]]] = {
        "plain PyTorch loop (StarGAN), fp32": lambda: time_plain_loop(*common),
        "StarGANTrainer, plain StarGAN, fp32": lambda: time_trainer(*common, key_branch=False),
        "StarGANTrainer, MI-GAN (key branch), fp32": lambda: time_trainer(*common, key_branch=True),
    }
    if device.type == "cuda":
        runs.update({
            "StarGANTrainer, MI-GAN, bf16 autocast": lambda: time_trainer(*common, key_branch=True, amp=True),
            "StarGANTrainer, MI-GAN, bf16 + channels_last": lambda: time_trainer(
                *common, key_branch=True, amp=True, channels_last=True),
        })  # fmt: skip

    name = torch.cuda.get_device_name(device) if device.type == "cuda" else f"CPU, {torch.get_num_threads()} threads"
    print(
        f"MI-GAN training iteration ({args.n_critic} D steps + 1 G step), {args.size}x{args.size}, batch {args.batch}, "
        f"{name}, torch {torch.__version__}"
    )
    medians = {label: statistics.median(run()) for label, run in runs.items()}
    reference = medians["plain PyTorch loop (StarGAN), fp32"]
    print(f"{'variant':48s} {'median s/iter':>14s} {'vs plain loop':>14s}")
    for label, seconds in medians.items():
        print(f"{label:48s} {seconds:14.3f} {seconds / reference:13.2f}x")


if __name__ == "__main__":
    main()
