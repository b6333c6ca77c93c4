"""Lung-nodule insertion into HU volumes: the occupancy of a round or lobulated nodule with a soft margin, and its
compositing into a volume. Used by the random insertion transform of :mod:`monai_xrgan.transforms.drr` and by the
CT phantoms' nodule finding (:mod:`monai_xrgan.demo.ct_phantoms`)."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from monai_xrgan.utils.errors import ConfigError

__all__ = ["insert_nodule", "nodule_occupancy"]

_F32 = np.float32


def nodule_occupancy(
    shape: Sequence[int],
    spacing: Sequence[float],
    center_voxel: Sequence[float],
    diameter_mm: float,
    margin_mm: float = 1.0,
    lobulation: float = 0.0,
    rng: np.random.Generator | None = None,
) -> tuple[np.ndarray, tuple[slice, slice, slice]]:
    """Occupancy (0..1) of a round or lobulated nodule, computed in the box around it.

    Args:
        shape: ``(X, Y, Z)`` of the volume.
        spacing: voxel spacing in mm.
        center_voxel: centre in (continuous) voxel indices.
        diameter_mm: diameter of the nodule.
        margin_mm: width of the soft margin (a ``tanh`` ramp; small values give a sharp edge at the voxel size).
        lobulation: relative amplitude of the surface lobules (0: a sphere).
        rng: generator of the lobule directions (required when ``lobulation > 0``).

    Returns:
        ``(occupancy, box)``: the occupancy over ``volume[box]``.
    """
    if not 1.0 <= diameter_mm <= 80.0 or margin_mm < 0 or not 0.0 <= lobulation <= 0.5:
        raise ConfigError(
            f"nodule: diameter_mm must be in [1, 80], margin_mm >= 0 and lobulation in [0, 0.5], "
            f"got {diameter_mm}, {margin_mm}, {lobulation}."
        )
    radius = diameter_mm / 2.0
    reach = radius * (1.0 + lobulation) + 3.0 * margin_mm + 2.0 * max(spacing)
    box, coords = [], []
    for n, s, c in zip(shape, spacing, center_voxel):
        lo, hi = int(max(0, math.floor(c - reach / s))), int(min(n, math.ceil(c + reach / s) + 1))
        box.append(slice(lo, max(lo, hi)))
        coords.append(((np.arange(lo, max(lo, hi)) - c) * s).astype(_F32))
    dx, dy, dz = coords[0][:, None, None], coords[1][None, :, None], coords[2][None, None, :]
    r = np.sqrt(dx * dx + dy * dy + dz * dz)
    edge = np.full(r.shape, radius, dtype=_F32)
    if lobulation > 0:
        if rng is None:
            raise ConfigError("nodule: give `rng` to draw the lobule directions when lobulation > 0.")
        lobes = rng.normal(size=(6, 3))
        lobes /= np.linalg.norm(lobes, axis=1, keepdims=True)
        cos = sum(_F32(lobes[:, k, None, None, None]) * d for k, d in enumerate((dx, dy, dz))) / (r + _F32(1e-6))
        edge = edge * (1.0 + lobulation * np.max(np.clip(cos, 0, 1) ** 6, axis=0) - 0.3 * lobulation)
    width = max(margin_mm, 0.25 * min(spacing))
    occupancy = 0.5 * (1.0 - np.tanh((r - edge) / _F32(width)))
    return occupancy.astype(_F32), (box[0], box[1], box[2])


def insert_nodule(
    volume: np.ndarray,
    spacing: Sequence[float],
    center_voxel: Sequence[float],
    diameter_mm: float,
    density_hu: float,
    margin_mm: float = 1.0,
    lobulation: float = 0.0,
    rng: np.random.Generator | None = None,
    within: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Return a copy of a HU ``volume`` with a nodule of ``density_hu`` composited in, and its occupancy volume.

    Args:
        volume: ``(X, Y, Z)`` HU volume.
        spacing, center_voxel, diameter_mm, margin_mm, lobulation, rng: see :func:`nodule_occupancy`.
        density_hu: HU of the nodule's solid part.
        within: optional boolean mask (e.g. the lungs) outside of which the volume is left unchanged.
    """
    occupancy, box = nodule_occupancy(volume.shape, spacing, center_voxel, diameter_mm, margin_mm, lobulation, rng)
    if within is not None:
        occupancy = occupancy * within[box]
    out = np.array(volume, dtype=_F32, copy=True)
    out[box] += occupancy * (_F32(density_hu) - out[box])
    full = np.zeros(volume.shape, dtype=_F32)
    full[box] = occupancy
    return out, full
