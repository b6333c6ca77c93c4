"""Time one DRAI training iteration (``DRAITrainer``) at the spec's image size, variants side by side.

All variants run the bundle's networks (DCGAN generator, encoder and joint discriminator at ``--base-channels``,
content/style codes of 16) on the same batch of ``--batch`` images of ``--size``² with 3 classes: the bundle's
default DRAI step (adversarial inference + class supervision + latent reconstruction + gradient reversal + swap +
transformation consistency), the step without the transformation-consistency term, without the swap term, and the
one-latent ablation; on a GPU also the default step with bfloat16 autocast, channels-last and ``torch.compile``.
The variants take turns iteration by iteration (a machine shared with other jobs then slows them alike); medians
over ``--iters`` rounds after ``--warmup``, printed as ratios to the default fp32 step.

    python benchmarks/drai_step.py                      # CPU, 64x64, batch 32
    python benchmarks/drai_step.py --device cuda --batch 128 --size 128
"""

from __future__ import annotations

import argparse
import statistics
import time
from typing import Any

import torch

from monai_xrgan.engines.drai import DRAITrainer
from monai_xrgan.networks.drai import (
    DRAIDiscriminator,
    DRAIEncoder,
    DRAIGenerator,
    DRAIStyleClassifier,
)
from monai_xrgan.transforms import RandomStyleTransform


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def make_trainer(batch: dict, args: argparse.Namespace, style_dim: int = 16, **options: Any) -> DRAITrainer:
    """A ``DRAITrainer`` of the bundle's networks and default loss terms (``options`` change them)."""
    torch.manual_seed(0)
    dims = {"num_classes": 3, "content_dim": 16 if style_dim else 32, "style_dim": style_dim, "image_size": args.size}
    nets = [
        DRAIGenerator(**dims, base_channels=args.base_channels),
        DRAIEncoder(**dims, base_channels=args.base_channels),
        DRAIDiscriminator(**dims, base_channels=args.base_channels),
        DRAIStyleClassifier(16, 3),
    ]
    nets = [n.to(args.device) for n in nets]
    opts = [torch.optim.Adam(n.parameters(), lr=2e-4, betas=(0.5, 0.999)) for n in nets]
    options = {"lambda_transform": 1.0, "style_transform": RandomStyleTransform(), **options}  # the bundle's default
    return DRAITrainer(
        *nets[:3], *opts[:3], style_classifier=nets[3], h_optimizer=opts[3],
        device=args.device, max_epochs=1, train_data_loader=[batch], **options,
    )  # fmt: skip


def interleaved_medians(trainers: dict[str, DRAITrainer], batch: dict, args: argparse.Namespace) -> dict[str, float]:
    """Median seconds of one ``_iteration`` of each trainer, the trainers taking turns."""
    device = torch.device(args.device)
    times: dict[str, list[float]] = {label: [] for label in trainers}
    warmup = max(args.warmup, 5) if any(t.compile for t in trainers.values()) else args.warmup
    for step in range(warmup + args.iters):
        for label, trainer in trainers.items():
            trainer.state.iteration = step + 1
            sync(device)
            start = time.perf_counter()
            trainer._iteration(trainer, batch)
            sync(device)
            if step >= warmup:
                times[label].append(time.perf_counter() - start)
    return {label: statistics.median(t) for label, t in times.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=64)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--base-channels", type=int, default=32)
    parser.add_argument("--iters", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    args = parser.parse_args()
    device = torch.device(args.device)
    g = torch.Generator().manual_seed(0)
    # the batch is already on the device for every variant, so that only the training step itself is compared
    batch = {
        "image": (torch.rand(args.batch, 1, args.size, args.size, generator=g) * 2 - 1).to(device),
        "label": torch.arange(args.batch, device=device) % 3,
    }
    variants = {
        "DRAI, fp32": {},
        "without transformation consistency, fp32": {"lambda_transform": 0.0},
        "without swap regulariser, fp32": {"lambda_swap": 0.0},
        "one latent (ablation), fp32": {"style_dim": 0},
    }
    if device.type == "cuda":
        variants["DRAI, bf16 autocast"] = {"amp": True}
        variants["DRAI, bf16 + channels_last"] = {"amp": True, "channels_last": True}
        variants["DRAI, bf16 + channels_last + compile"] = {"amp": True, "channels_last": True, "compile": True}

    name = torch.cuda.get_device_name(device) if device.type == "cuda" else f"CPU, {torch.get_num_threads()} threads"
    print(
        f"DRAI training iteration, {args.size}x{args.size}, batch {args.batch}, base channels {args.base_channels}, "
        f"{name}, torch {torch.__version__}"
    )
    medians = interleaved_medians({k: make_trainer(batch, args, **v) for k, v in variants.items()}, batch, args)
    reference = medians["DRAI, fp32"]
    print(f"{'variant':42s} {'median s/iter':>14s} {'images/s':>9s} {'vs DRAI fp32':>13s}")
    for label, seconds in medians.items():
        print(f"{label:42s} {seconds:14.4f} {args.batch / seconds:9.2f} {seconds / reference:12.2f}x")


if __name__ == "__main__":
    main()
