"""Probe R2C-GAN generators at initialisation on the demo test split, side by side in one run: the reference's
output form (``tanh``) vs the identity start (``residual_output``), and the reference's max-pooled classification
branch vs average pooling.

For each generator form: PSNR / SSIM of the untrained generator's output vs the clean originals (next to the
degraded input's, the no-restoration floor); for each pooling: the share of pooled features above 0.99 and the mean
and spread (sd across images) of P(COVID-19). Means over ``--inits`` random initialisations.

    python benchmarks/r2c_gan_init_probe.py --data bundles/r2c_gan_cxr/data/demo   # the demo data (64²)
    python benchmarks/r2c_gan_init_probe.py --data DIR --base_channels 64
"""

from __future__ import annotations

import argparse
import statistics

import torch
from monai.metrics import PSNRMetric, SSIMMetric

from monai_xrgan.data import load_datalist
from monai_xrgan.demo.datasets import ensure_demo_data
from monai_xrgan.networks.r2c import r2c_generator
from monai_xrgan.transforms import XRayPreprocessd


def load_test(data: str, size: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The degraded test images and their clean originals on [-1, 1], ``(N, 1, size, size)`` each."""
    ensure_demo_data(data, "r2c_gan", datalist=f"{data}/datalist.json", size=size, seed=0)
    items = load_datalist(f"{data}/datalist.json", "test", data, keys=["image", "hq"])
    prep = XRayPreprocessd(keys=["image", "hq"], spatial_size=size, keep_dicom_tags=False)
    loaded = [prep(item) for item in items]
    return torch.stack([d["image"].as_tensor() for d in loaded]), torch.stack([d["hq"].as_tensor() for d in loaded])


def similarity(pred: torch.Tensor, target: torch.Tensor) -> tuple[float, float]:
    """Mean PSNR and SSIM on [0, 1] intensities (as the bundle's evaluator)."""
    p, t = ((pred + 1) / 2).clamp(0, 1), (target + 1) / 2
    psnr = PSNRMetric(max_val=1.0)(p, t).mean().item()
    ssim = SSIMMetric(spatial_dims=2, data_range=1.0)(p, t).mean().item()
    return psnr, ssim


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", default="bundles/r2c_gan_cxr/data/demo")
    parser.add_argument("--size", type=int, default=64)
    parser.add_argument("--base_channels", type=int, default=16)
    parser.add_argument("--inits", type=int, default=3)
    args = parser.parse_args()
    degraded, clean = load_test(args.data, args.size)
    print(f"R2C-GAN generators at initialisation, {len(degraded)} demo test images, {args.size}², "
          f"base_channels {args.base_channels}, mean over {args.inits} initialisations\n")  # fmt: skip
    psnr, ssim = similarity(degraded, clean)
    print(f"{'output form':40s} {'PSNR dB':>8s} {'SSIM':>6s}\n{'degraded input (no restoration)':40s} "
          f"{psnr:8.2f} {ssim:6.3f}")  # fmt: skip
    for name, residual in (("reference: tanh output", False), ("identity start: clamp(x + r)", True)):
        scores = []
        for seed in range(args.inits):
            torch.manual_seed(seed)
            net = r2c_generator(base_channels=args.base_channels, residual_output=residual).eval()
            with torch.no_grad():
                scores.append(similarity(net(degraded), clean))
        print(f"{name:40s} {statistics.mean(s[0] for s in scores):8.2f} {statistics.mean(s[1] for s in scores):6.3f}")
    print(f"\n{'classification branch':40s} {'>0.99':>6s} {'P(covid)':>9s} {'sd':>9s}")
    for pooling in ("max", "avg"):
        saturated, means, spreads = [], [], []
        for seed in range(args.inits):
            torch.manual_seed(seed)
            net = r2c_generator(base_channels=args.base_channels, head_pooling=pooling).eval()
            with torch.no_grad():
                pooled = net.head[:2](net.encoder(degraded))
                p = net(degraded, return_probs=True)[1][:, 1]
            saturated.append((pooled.abs() > 0.99).float().mean().item())
            means.append(p.mean().item())
            spreads.append(p.std().item())
        print(f"{pooling + ' pooling':40s} {statistics.mean(saturated):6.1%} {statistics.mean(means):9.4f} "
              f"{statistics.mean(spreads):9.2e}")  # fmt: skip


if __name__ == "__main__":
    main()
