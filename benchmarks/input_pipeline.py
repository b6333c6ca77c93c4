"""Time the input pipeline of a 2k radiograph: ``XRayPreprocessd`` vs plain pydicom + an area resize, side by side.

``plain``: ``pydicom.dcmread`` + ``pixel_array`` + ``apply_modality_lut`` + ``apply_voi_lut`` + a torch area resize
to the model size (the floor: no inversion, no checks, no metadata). ``xray_preprocessd``: the bundles' preprocessing
(decode, LUTs, MONOCHROME1 inversion, checks, MetaTensor metadata, antialiased resize, pad, model range).
``monai_resized``: the same with MONAI's Gaussian anti-aliased :class:`~monai.transforms.Resized` (the pipeline before
:class:`~monai_xrgan.transforms.xray.AntialiasedResized`). One thread; medians over ``--repeats`` interleaved runs;
ratios to ``plain`` printed from this one run.

The image is pydicom-data's ``RG1_UNCR.dcm`` (a real 1955 x 1841 15-bit MONOCHROME1 CR chest radiograph) when the
package is installed (``pip install pydicom-data``), otherwise a synthetic 2048 x 2048 15-bit MONOCHROME1 CR with a
rescale and a window written to a temporary folder.

    python benchmarks/input_pipeline.py [--size 128] [--repeats 7]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pydicom
import torch
from monai.transforms import Compose, Resized, SpatialPadd
from pydicom.pixels import apply_modality_lut, apply_voi_lut

from monai_xrgan.io.xray import write_dicom
from monai_xrgan.transforms.xray import LoadXRayd, XRayPreprocessd, XRayToModelRanged


def radiograph(folder: Path) -> tuple[str, str]:
    """A 2k MONOCHROME1 CR file and what it is."""
    try:
        from pydicom.data import get_testdata_file

        path = get_testdata_file("RG1_UNCR.dcm", download=False)
    except Exception:  # pydicom-data missing or an old pydicom
        path = None
    if path:
        return str(path), "pydicom-data RG1_UNCR.dcm (real CR, 1955 x 1841, 15 bits, MONOCHROME1)"
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[0:2048, 0:2048] / 2048.0
    image = np.clip(0.5 + 0.3 * np.sin(6 * xx) * np.cos(4 * yy) + 0.02 * rng.standard_normal((2048, 2048)), 0, 1)
    path = write_dicom(
        folder / "cr_2k.dcm",
        image,
        bits_stored=15,
        photometric="MONOCHROME1",
        rescale=(0.5, 10.0),
        window=(8000, 12000),
    )
    return str(path), "synthetic CR (2048 x 2048, 15 bits, MONOCHROME1, rescale + window)"


def plain(path: str, size: int) -> torch.Tensor:
    ds = pydicom.dcmread(path)
    arr = apply_voi_lut(apply_modality_lut(ds.pixel_array, ds), ds)
    img = torch.from_numpy(np.asarray(arr, dtype=np.float32))[None, None]
    scale = size / max(img.shape[2:])
    out_size = tuple(int(round(s * scale)) for s in img.shape[2:])
    return torch.nn.functional.interpolate(img, size=out_size, mode="area")[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", type=int, default=128, help="model input side")
    parser.add_argument("--repeats", type=int, default=7, help="timed runs of each pipeline (interleaved)")
    args = parser.parse_args()
    torch.set_num_threads(1)
    with tempfile.TemporaryDirectory() as tmp:
        path, what = radiograph(Path(tmp))
        ours = XRayPreprocessd("image", spatial_size=args.size, keep_dicom_tags=False)
        old = Compose(
            [
                LoadXRayd("image", keep_dicom_tags=False),
                Resized("image", args.size, size_mode="longest", mode="bilinear", anti_aliasing=True),
                SpatialPadd("image", (args.size, args.size), method="symmetric"),
                XRayToModelRanged("image"),
            ]
        )
        pipelines: dict[str, Callable[[], object]] = {
            "plain": lambda: plain(path, args.size),
            "xray_preprocessd": lambda: ours({"image": path}),
            "monai_resized": lambda: old({"image": path}),
        }
        times: dict[str, list[float]] = {name: [] for name in pipelines}
        for fn in pipelines.values():  # warm-up: imports, decoder plugins, allocator
            fn()
        for _ in range(args.repeats):
            for name, fn in pipelines.items():
                start = time.perf_counter()
                fn()
                times[name].append(time.perf_counter() - start)
        a = ours({"image": path})["image"]
        b = old({"image": path})["image"]
        diff = ((a - b).abs() / 2).as_tensor()  # model range [-1, 1] -> [0, 1] units
    base = statistics.median(times["plain"])
    print(f"image: {what}; model size {args.size}; 1 thread; medians of {args.repeats} runs")
    for name, values in times.items():
        median = statistics.median(values)
        print(f"{name:>18}: {median * 1000:8.1f} ms   ratio to plain {median / base:5.2f}")
    print(
        f"xray_preprocessd vs monai_resized: mean |diff| {float(diff.mean()):.4f}, max {float(diff.max()):.4f} ([0, 1])"
    )


if __name__ == "__main__":
    main()
