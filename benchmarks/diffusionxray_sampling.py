"""DiffusionXRay timings in one run, one trained model: DDPM-1000 vs DDIM-50 (eta 0 and 1) restoration time ratios and
PSNR / SSIM differences, and the DRR projection time of a 256^3 and a 512x512x300 CT.

Every sampler is the bundle's ``inferer`` of ``configs/inference.json`` (its ``prediction_type``, ``residual`` and
schedule; ``--sampler``, ``--num_inference_steps`` and ``--eta`` set per row) around the ``network_def`` loaded from
``--ckpt``; all restore the same LQ images of the datalist's ``--split`` from the same seeded starting noise. Scores are
against the HQ images on [0, 1]. DRR times are the median of ``--repeats`` ``ProjectDRR`` runs (256^2 output).

    python benchmarks/diffusionxray_sampling.py --ckpt bundles/diffusionxray_drr/models/model.pt \\
        --dataset_dir bundles/diffusionxray_drr/data/demo
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import torch
from monai.bundle import ConfigParser
from monai.metrics import PSNRMetric, SSIMMetric

from monai_xrgan.data import load_datalist
from monai_xrgan.transforms import XRayPreprocessd
from monai_xrgan.transforms.drr import ProjectDRR
from monai_xrgan.utils.weights import load_network_weights

BUNDLE = Path(__file__).resolve().parents[1] / "bundles" / "diffusionxray_drr"
#: (row name, sampler, steps, eta)
SAMPLERS = [("DDPM-1000", "ddpm", 1000, 0.0), ("DDIM-50 eta 0", "ddim", 50, 0.0), ("DDIM-50 eta 1", "ddim", 50, 1.0)]


def bundle_parts(ckpt: str, image_size: int | None, device: torch.device) -> tuple[ConfigParser, torch.nn.Module]:
    """The inference config (for samplers) and its ``network_def`` with the trained weights."""
    parser = ConfigParser()
    parser.read_config(str(BUNDLE / "configs" / "inference.json"))
    if image_size is not None:
        parser["image_size"] = image_size
    net = parser.get_parsed_content("network_def")
    load_network_weights(net, ckpt, name="model")
    return parser, net.to(device).eval()


def sampler(parser: ConfigParser, name: str, steps: int, eta: float):
    parser.update({"sampler": name, "num_inference_steps": steps, "eta": eta})
    return parser.get_parsed_content("inferer", lazy=False)


def scores(restored: torch.Tensor, hq: torch.Tensor) -> tuple[float, float]:
    pred, target = ((restored + 1) / 2).clamp(0, 1), (hq + 1) / 2
    return PSNRMetric(1.0)(pred, target).mean().item(), SSIMMetric(2, 1.0)(pred, target).mean().item()


def drr_ms(shape: tuple[int, int, int], repeats: int) -> float:
    volume = torch.randn(*shape) * 100.0 - 500.0
    projector = ProjectDRR(spatial_size=256)
    projector(volume, (0.7, 0.7, 1.0))  # warm-up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        projector(volume, (0.7, 0.7, 1.0))
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ckpt", required=True, help="models/model.pt of a trained diffusionxray_drr bundle")
    parser.add_argument("--dataset_dir", required=True, help="dataset folder with datalist.json")
    parser.add_argument("--datalist", default=None, help="default: DATASET_DIR/datalist.json")
    parser.add_argument("--split", default="test")
    parser.add_argument("--num_images", type=int, default=4, help="restore the first N images of the split")
    parser.add_argument("--image_size", type=int, default=None, help="default: the bundle's")
    parser.add_argument("--repeats", type=int, default=3, help="DRR projection repeats")
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()
    device = torch.device(args.device)

    config, net = bundle_parts(args.ckpt, args.image_size, device)
    size = config.get_parsed_content("image_size")
    datalist = args.datalist or str(Path(args.dataset_dir) / "datalist.json")
    items = load_datalist(datalist, args.split, args.dataset_dir, keys=["lq", "hq"])[: args.num_images]
    pre = XRayPreprocessd(["lq", "hq"], spatial_size=size, keep_dicom_tags=False)
    data = [pre(item) for item in items]
    lq, hq = (torch.stack([d[k].as_tensor() for d in data]).to(device) for k in ("lq", "hq"))
    results = {}
    for row, name, steps, eta in SAMPLERS:
        inferer = sampler(config, name, steps, eta)
        start = time.perf_counter()
        restored = inferer(lq, net)
        results[row] = (time.perf_counter() - start, *scores(restored, hq))
    lq_psnr, lq_ssim = scores(lq, hq)

    print(f"device {device}, {torch.get_num_threads()} threads, {len(items)} images of {size}^2 ({args.split})")
    print("| sampler | time (s) | DDPM-1000 time / this | PSNR (dB) | SSIM | PSNR - DDPM-1000 | SSIM - DDPM-1000 |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    t_ref, p_ref, s_ref = results["DDPM-1000"]
    for row, (t, p, s) in results.items():
        print(f"| {row} | {t:.2f} | {t_ref / t:.1f} | {p:.2f} | {s:.4f} | {p - p_ref:+.2f} | {s - s_ref:+.4f} |")
    print(f"| LQ input (no restoration) | – | – | {lq_psnr:.2f} | {lq_ssim:.4f} | {lq_psnr - p_ref:+.2f} | "
          f"{lq_ssim - s_ref:+.4f} |")  # fmt: skip
    for shape in ((256, 256, 256), (512, 512, 300)):
        print(f"DRR projection of a {'x'.join(map(str, shape))} CT to 256^2: "
              f"median {drr_ms(shape, args.repeats):.0f} ms over {args.repeats}")  # fmt: skip


if __name__ == "__main__":
    main()
