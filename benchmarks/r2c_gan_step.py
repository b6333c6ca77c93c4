"""Time R2C-GAN training, side by side in one run: the operational model vs the CNN baseline, and the fused
operational layer vs a naive loop over the powers.

1. One ``R2CGANTrainer`` iteration (6 generator and 2 discriminator passes in the G step, 4 discriminator passes in
   the D step, both optimiser steps) at ``--size`` (256² by default, the paper's crop), batch ``--batch``, 1 grey
   channel: the operational variant (``q = 3``, the paper's model) vs the ``"convolutional"`` CycleGAN ResNet /
   PatchGAN baseline.
2. The heaviest operational layer of the generator (``Oper2d`` 128 -> 128 channels, 3x3, ``q = 3``, on the
   ``size / 2`` feature map), forward + backward: the fused convolution over ``[x, x^2, x^3]`` vs the reference's
   ``q`` separate convolutions of ``x^i`` added up.

Variants are timed in turns (A, B, A, B, ...) so that on a shared machine both see the same load; medians over
``--iters`` rounds after ``--warmup``; ratios are to the first row of each table.

    python benchmarks/r2c_gan_step.py                     # CPU, 256x256, batch 1
    python benchmarks/r2c_gan_step.py --threads 1         # steadier on a loaded machine
    python benchmarks/r2c_gan_step.py --device cuda --batch 4
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import torch
import torch.nn.functional as F

from monai_xrgan.engines import R2CGANTrainer
from monai_xrgan.networks.operational import Oper2d
from monai_xrgan.networks.r2c import r2c_discriminator, r2c_generator


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def make_trainer(variant: str, batch: dict, device: torch.device) -> R2CGANTrainer:
    """An ``R2CGANTrainer`` of one variant (reference widths, 1 channel) whose loaders yield ``batch``."""
    torch.manual_seed(0)
    nets = [r2c_generator(variant).to(device), r2c_generator(variant).to(device),
            r2c_discriminator(variant).to(device), r2c_discriminator(variant).to(device)]  # fmt: skip
    g_opt = torch.optim.Adam([*nets[0].parameters(), *nets[1].parameters()], 2e-4, betas=(0.5, 0.999))
    d_opt = torch.optim.Adam([*nets[2].parameters(), *nets[3].parameters()], 2e-4, betas=(0.5, 0.999))
    lq, hq = [{"lq": batch["lq"], "label": batch["label"]}], [{"hq": batch["hq"], "label": batch["label"]}]
    return R2CGANTrainer(lq, hq, *nets, g_opt, d_opt, device=device, max_epochs=1)


def interleaved_medians(steps: dict[str, Callable[[], object]], device: torch.device, warmup: int, iters: int) -> dict:
    """Median seconds of each step, timed in turns (A, B, A, B, ...) so that both see the same machine load."""
    times: dict[str, list[float]] = {label: [] for label in steps}
    for i in range(warmup + iters):
        for label, step in steps.items():
            sync(device)
            start = time.perf_counter()
            step()
            sync(device)
            if i >= warmup:
                times[label].append(time.perf_counter() - start)
    return {label: statistics.median(t) for label, t in times.items()}


def report(title: str, medians: dict[str, float]) -> None:
    reference = next(iter(medians.values()))
    print(f"\n{title}")
    print(f"{'variant':56s} {'median s':>10s} {'vs first row':>13s}")
    for label, seconds in medians.items():
        print(f"{label:56s} {seconds:10.4f} {seconds / reference:12.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--batch", type=int, default=1)
    parser.add_argument("--iters", type=int, default=5)
    parser.add_argument("--warmup", type=int, default=1)
    parser.add_argument("--threads", type=int, default=None, help="CPU threads (default: torch's)")
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    g = torch.Generator().manual_seed(0)
    image = lambda: (torch.rand(args.batch, 1, args.size, args.size, generator=g) * 2 - 1).to(device)  # noqa: E731
    batch = {"lq": image(), "hq": image(), "label": (torch.arange(args.batch) % 2).to(device)}
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else f"CPU, {torch.get_num_threads()} threads"
    print(f"R2C-GAN, {args.size}x{args.size}, batch {args.batch}, {name}, torch {torch.__version__}")

    trainers = {
        "operational (q = 3), one R2CGANTrainer iteration": make_trainer("operational", batch, device),
        "convolutional CNN baseline, one R2CGANTrainer iteration": make_trainer("convolutional", batch, device),
    }
    steps = {label: (lambda t=t: t._iteration(t, t.data_loader[0])) for label, t in trainers.items()}
    report(
        "training iteration (G step + D step, batch on the device)",
        interleaved_medians(steps, device, args.warmup, args.iters),
    )

    layer = Oper2d(128, 128, 3, padding=1, q=3, bias=False).to(device)
    x = (torch.rand(args.batch, 128, args.size // 2, args.size // 2, generator=g) * 2 - 1).to(device).requires_grad_()

    def naive() -> torch.Tensor:  # the reference: q convolutions of x^i, added
        return sum(F.conv2d(x ** (i + 1), layer.weight[:, i], None, 1, 1) for i in range(layer.q))

    layers = {
        "fused: one convolution over [x, x^2, x^3]": lambda: layer(x).sum().backward(),
        "naive: 3 convolutions of x^i, summed": lambda: naive().sum().backward(),
    }
    side = args.size // 2
    report(
        f"Oper2d 128->128, 3x3, q=3 on {side}x{side}, forward + backward",
        interleaved_medians(layers, device, args.warmup, 3 * args.iters),
    )


if __name__ == "__main__":
    main()
