"""Image grids for TensorBoard and PNG reports."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

__all__ = ["to_display", "image_grid"]


def to_display(image: torch.Tensor | np.ndarray, value_range: Sequence[float] = (-1.0, 1.0)) -> np.ndarray:
    """A channel-first image in MONAI's ``(C, x, y)`` axis order as a viewer's ``(rows, columns)`` array in ``[0, 1]``.

    Only the first channel is shown; MONAI's readers put the column axis first, so the image is transposed.
    """
    array = image.detach().float().cpu().numpy() if isinstance(image, torch.Tensor) else np.asarray(image, np.float32)
    if array.ndim != 3:
        raise ValueError(f"expected a channel-first 2-D image (C, x, y), got shape {array.shape}.")
    low, high = value_range
    return np.clip((array[0].T - low) / (high - low), 0.0, 1.0)


def image_grid(
    rows: Sequence[Sequence[torch.Tensor | np.ndarray]], value_range: Sequence[float] = (-1.0, 1.0), gap: int = 2
) -> np.ndarray:
    """Tile images into one ``(H, W)`` array in ``[0, 1]``: one row per sample, one column per kind of image.

    Args:
        rows: ``rows[i][j]`` is a channel-first image in MONAI axis order; images of a column share a size.
        value_range: intensity range of the images, mapped to ``[0, 1]``.
        gap: width of the white lines between tiles.
    """
    if not rows or not rows[0]:
        raise ValueError("image_grid needs at least one row with one image.")
    tiles = [[to_display(image, value_range) for image in row] for row in rows]
    height = max(t.shape[0] for row in tiles for t in row)
    widths = [max(row[j].shape[1] for row in tiles) for j in range(len(tiles[0]))]
    grid = np.ones((len(tiles) * (height + gap) - gap, sum(widths) + gap * (len(widths) - 1)), np.float32)
    for i, row in enumerate(tiles):
        x = 0
        for j, tile in enumerate(row):
            y = i * (height + gap)
            grid[y : y + tile.shape[0], x : x + tile.shape[1]] = tile
            x += widths[j] + gap
    return grid
