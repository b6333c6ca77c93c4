"""DiffusionXRay timings in one run: DDIM (50 steps) vs DDPM (1000 steps) restoration, and a 256^3 DRR projection.

The restoration model is the bundle's ``network_def`` (``configs/inference.json`` with the given overrides) loaded
from ``--ckpt``; both samplers restore the same LQ images of the datalist's ``--split`` from the same starting noise,
and their PSNR against the HQ images (on [0, 1]) is printed beside the time ratio. The DRR projection of a 256^3 HU
volume (``ProjectDRR``, 256^2 output) is timed as the median of ``--repeats`` runs.

    python benchmarks/diffusionxray_sampling.py --ckpt bundles/diffusionxray_drr/models/model.pt \
        --dataset_dir bundles/diffusionxray_drr/data/demo --image_size 64
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import torch
from monai.bundle import ConfigParser
from monai.metrics import PSNRMetric
from monai.networks.schedulers import DDIMScheduler, DDPMScheduler

from monai_xrgan.data import load_datalist
from monai_xrgan.engines import DiffusionSampler
from monai_xrgan.transforms import XRayPreprocessd
from monai_xrgan.transforms.drr import ProjectDRR

BUNDLE = Path(__file__).resolve().parents[1] / "bundles" / "diffusionxray_drr"


def restoration_model(ckpt: str, image_size: int, device: torch.device) -> torch.nn.Module:
    parser = ConfigParser()
    parser.read_config(str(BUNDLE / "configs" / "inference.json"))
    parser.update({"image_size": image_size})
    net = parser.get_parsed_content("network_def")
    net.load_state_dict(torch.load(ckpt, map_location="cpu", weights_only=True))
    return net.to(device).eval()


def timed_psnr(
    sampler: DiffusionSampler, net: torch.nn.Module, lq: torch.Tensor, hq: torch.Tensor
) -> tuple[float, float]:
    start = time.perf_counter()
    restored = sampler(lq, net)
    elapsed = time.perf_counter() - start
    psnr = PSNRMetric(max_val=1.0)(((restored + 1) / 2).clamp(0, 1), (hq + 1) / 2).mean().item()
    return elapsed, psnr


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ckpt", required=True, help="models/model.pt of a trained diffusionxray_drr bundle")
    parser.add_argument("--dataset_dir", required=True, help="dataset folder with datalist.json")
    parser.add_argument("--datalist", default=None, help="default: DATASET_DIR/datalist.json")
    parser.add_argument("--split", default="test")
    parser.add_argument("--num_images", type=int, default=8, help="restore the first N images of the split")
    parser.add_argument("--image_size", type=int, default=64)
    parser.add_argument("--ddim_steps", type=int, default=50)
    parser.add_argument("--ddpm_steps", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=5, help="DRR projection repeats")
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()
    device = torch.device(args.device)

    datalist = args.datalist or str(Path(args.dataset_dir) / "datalist.json")
    items = load_datalist(datalist, args.split, args.dataset_dir, keys=["lq", "hq"])[: args.num_images]
    pre = XRayPreprocessd(["lq", "hq"], spatial_size=args.image_size, keep_dicom_tags=False)
    data = [pre(item) for item in items]
    lq = torch.stack([d["lq"].as_tensor() for d in data]).to(device)
    hq = torch.stack([d["hq"].as_tensor() for d in data]).to(device)
    net = restoration_model(args.ckpt, args.image_size, device)
    ddim = DiffusionSampler(DDIMScheduler(1000, beta_start=1e-4, beta_end=0.02), args.ddim_steps, seed=0)
    ddpm = DiffusionSampler(DDPMScheduler(1000, beta_start=1e-4, beta_end=0.02), args.ddpm_steps, seed=0)
    t_ddim, psnr_ddim = timed_psnr(ddim, net, lq, hq)
    t_ddpm, psnr_ddpm = timed_psnr(ddpm, net, lq, hq)
    psnr_lq = PSNRMetric(max_val=1.0)((lq + 1) / 2, (hq + 1) / 2).mean().item()

    volume = torch.randn(256, 256, 256) * 100.0 - 500.0
    projector = ProjectDRR(spatial_size=256)
    projector(volume, (1.5, 1.5, 1.5))
    times = []
    for _ in range(args.repeats):
        start = time.perf_counter()
        projector(volume, (1.5, 1.5, 1.5))
        times.append(time.perf_counter() - start)

    print(
        f"device {device}, {torch.get_num_threads()} threads, {len(items)} images of {args.image_size}^2 ({args.split})"
    )
    print("| sampler | steps | time (s) | time / DDIM | PSNR vs HQ (dB) |")
    print("| --- | ---: | ---: | ---: | ---: |")
    print(f"| DDIM | {args.ddim_steps} | {t_ddim:.2f} | 1.00 | {psnr_ddim:.2f} |")
    print(f"| DDPM | {args.ddpm_steps} | {t_ddpm:.2f} | {t_ddpm / t_ddim:.1f} | {psnr_ddpm:.2f} |")
    print(f"| (LQ input, no restoration) | – | – | – | {psnr_lq:.2f} |")
    print(f"PSNR DDPM - DDIM: {psnr_ddpm - psnr_ddim:+.2f} dB; DDPM/DDIM time ratio {t_ddpm / t_ddim:.1f}")
    print(
        f"DRR projection of a 256^3 volume to 256^2: median {statistics.median(times) * 1000:.1f} ms over {args.repeats}"
    )


if __name__ == "__main__":
    main()
