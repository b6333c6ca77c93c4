"""How alike are pix2pix's changes across patients? Mean pairwise correlation of ``output − input`` over the test
pairs, for the generator and for the true change ``target − input``, and the mean ``|change|`` of each.

A normal radiograph does not say where a patient's COVID-19 opacities will be, so a deterministic generator trained
with L1 tends to add the same (average) change to every image: a correlation well above the target's, and a weaker
change, are that signature. Reads a ``reproduce`` run of ``pix2pix_cxr`` (its demo data and one seed's
``generated_test`` outputs):

    python benchmarks/pix2pix_change_diversity.py --report bundles/pix2pix_cxr/eval/report --seed 0
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
from PIL import Image

#: postfix of the generated test images (``inference.json``'s ``SaveXRayd``)
GENERATED_POSTFIX = "covid_synthetic"


def load_grey(path: Path) -> np.ndarray:
    """An 8-bit grey image on [0, 1]."""
    return np.asarray(Image.open(path).convert("L"), dtype=np.float32) / 255.0


def mean_pairwise_correlation(changes: np.ndarray) -> float:
    """Mean Pearson correlation over all pairs of rows of ``changes`` (one flattened change map per row)."""
    corr = np.corrcoef(changes)
    n = len(changes)
    return float((corr.sum() - n) / (n * (n - 1)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--report", default="bundles/pix2pix_cxr/eval/report", help="a reproduce report folder")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    report = Path(args.report)
    data = report / "data"
    generated = report / f"seed_{args.seed}" / "main" / "eval" / "generated_test"
    pairs = json.loads((data / "datalist.json").read_text(encoding="utf-8"))["test"]
    inputs = [load_grey(data / p["image"]) for p in pairs]
    outputs = [load_grey(generated / f"{Path(p['image']).stem}_{GENERATED_POSTFIX}.png") for p in pairs]
    targets = [load_grey(data / p["target"]) for p in pairs]
    for name, images in (("pix2pix", outputs), ("target", targets)):
        changes = np.stack([(y - x).ravel() for x, y in zip(inputs, images)])
        print(
            f"{name:>8s}: mean pairwise correlation of (image - input) {mean_pairwise_correlation(changes):.3f}, "
            f"mean |image - input| {np.abs(changes).mean():.4f} ({len(pairs)} test pairs, seed {args.seed})"
        )


if __name__ == "__main__":
    main()
