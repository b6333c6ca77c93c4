"""Report figures: curves read back from TensorBoard logs, confusion matrices, image grids, claim bars."""

from __future__ import annotations

import numpy as np
from PIL import Image
from torch.utils.tensorboard import SummaryWriter

from monai_xrgan.evaluation import figures
from monai_xrgan.evaluation.report import ClaimSpec, build_report, make_row


def _png_size(path) -> tuple[int, int]:
    with Image.open(path) as image:
        return image.size


def test_scalars_are_read_back_and_drawn(tmp_path):
    for seed in (0, 1):
        with SummaryWriter(tmp_path / f"runs{seed}") as writer:
            for step in range(5):
                writer.add_scalar("loss_g", 1.0 / (step + 1 + seed), step)
            writer.add_scalar("val_ssim", 0.5 + seed, 1)
    series = figures.read_scalars(tmp_path / "runs0")
    assert set(series) == {"loss_g", "val_ssim"}
    steps, values = series["loss_g"]
    assert steps.tolist() == [0, 1, 2, 3, 4] and np.allclose(values, [1, 1 / 2, 1 / 3, 1 / 4, 1 / 5])
    png = figures.plot_scalars({"seed 0": tmp_path / "runs0", "seed 1": tmp_path / "runs1"}, tmp_path / "curves.png")
    assert png is not None and _png_size(png)[0] > 400
    assert figures.plot_scalars({"none": tmp_path / "missing"}, tmp_path / "none.png") is None
    assert not (tmp_path / "none.png").exists()


def test_confusion_grid_and_claims(tmp_path):
    png = figures.plot_confusion({"real": [[3, 1], [0, 4]], "real+synthetic": [[4, 0], [1, 3]]}, ["normal", "covid"],
                                 tmp_path / "confusion.png")  # fmt: skip
    assert _png_size(png)[0] > _png_size(png)[1]  # two matrices side by side
    images = [np.random.rand(8, 8) for _ in range(3)]
    grid = figures.plot_image_grid({"input": images, "output": images[:2]}, tmp_path / "grid.png", rows_first=False)
    assert _png_size(grid)[1] > _png_size(grid)[0]  # three rows, two columns
    rows = [make_row("a", 0, {"m": 1.0}), make_row("b", 0, {"m": 0.0})]
    report = build_report("x", [0], rows, [ClaimSpec("a beats b", "m", "a", "b")])
    assert figures.plot_claims(report, tmp_path / "claims.png").is_file()
