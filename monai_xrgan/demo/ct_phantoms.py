"""Deterministic synthetic thorax CT volumes in Hounsfield units, with lung findings.

The phantom is drawn analytically in millimetres, so one seed gives the same patient at every size and spacing:
air, subcutaneous fat and muscle, a rib cage of curved rib tubes with costal cartilages, sternum, clavicles,
scapulae and a thoracic spine, a mediastinum (fat, heart, great vessels, oesophagus, trachea and bronchi), lungs
with branching vessels and bronchi from the hila, diaphragm domes, and the upper abdomen (liver, stomach with a gas
bubble, spleen, kidneys). Boundaries are partial-volume ramps one voxel wide (tubes thinner than a voxel keep
their cross-section area), and white acquisition noise (10 HU) is added last. Tissue values (HU): air -1000, lung
parenchyma -915 to -880 (about -830 with its vessels and bronchi at 3 mm voxels), fat -100, muscle 45, soft tissue
40, blood 50, liver 60, bone a 1000 HU cortex over 450 HU cancellous bone, costal cartilage 120.

Findings fill a fraction of the lung air (0 aerated, 1 consolidated at +35 HU) and change only the voxels of the
lung mask: ``viral_pneumonia`` diffuse bilateral peribronchovascular and perihilar ground glass with reticulation;
``covid_mild`` 2-4 peripheral, posterior and basal ground-glass opacities (-700 to -300 HU); ``covid_severe``
5-8 larger ones with crazy paving and consolidation (-100 to +40 HU); ``nodule`` one round opacity of configurable
diameter, density and margin. A patient is drawn once per grid and cached, so the findings of one patient cost a
fraction of the first volume (measured on 2 CPU cores: a new 128^3 patient about 0.8 s, each further finding about
0.25 s; 256^3: 3 to 6 s and about 1 s).

Axes and geometry (MONAI / NIfTI convention): the array is ``(X, Y, Z)``; ``X`` runs from the patient's right to
the left, ``Y`` from anterior to posterior and ``Z`` from inferior to superior, so axial slices are
``volume[:, :, k]`` and a DICOM series of axial slices (ImageOrientationPatient ``1\\0\\0\\0\\1\\0``) loads to this
very array. The world (RAS, mm) affine is ``diag(-sx, -sy, sz)`` plus the centring offset (:func:`phantom_affine`):
the volume is centred on the world origin and its default field of view is 400 mm along every axis
(``spacing = 400 / shape``; isotropic for a cubic shape). Shown with rows = ``Y`` and columns = ``X``, an axial
slice has the usual radiological layout (anterior up, patient's right on the viewer's left).

Run ``python -m monai_xrgan.demo.ct_phantoms --montage docs/images/ct_phantom_montage.png`` for a preview.
"""

from __future__ import annotations

import argparse
import functools
import math
import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from monai_xrgan.demo.phantoms import FINDINGS
from monai_xrgan.transforms.nodules import nodule_occupancy
from monai_xrgan.utils.checks import check_int
from monai_xrgan.utils.errors import ConfigError

__all__ = [
    "FINDINGS",
    "MIN_SIZE",
    "MAX_SIZE",
    "FOV_MM",
    "TISSUE_LABELS",
    "Thorax",
    "sample_thorax",
    "phantom_spacing",
    "phantom_affine",
    "render_ct",
    "synthetic_ct",
    "make_ct_montage",
]

MIN_SIZE, MAX_SIZE = 32, 256
#: default field of view along every axis, in mm
FOV_MM = 400.0
#: values of ``info["labels"]``: the tissue drawn last (with more than half of the voxel) at each voxel
TISSUE_LABELS = {"air": 0, "lung": 1, "fat": 2, "soft_tissue": 3, "blood": 4, "bone": 5, "gas": 6}

_F32 = np.float32
# Hounsfield units of the tissues
_AIR, _LUNG, _FAT, _SOFT, _BLOOD = -1000.0, -915.0, -100.0, 40.0, 50.0
_CORTEX, _MARROW, _CARTILAGE, _DISC = 1000.0, 450.0, 120.0, 80.0
_LIVER, _SPLEEN, _KIDNEY, _STOMACH, _CSF = 60.0, 48.0, 32.0, 25.0, 15.0
#: what a finding fills the lung air with (fluid, cells): a fully filled voxel reads about +35 HU
_FILL = 35.0
#: half-width of the fixed control grid of the texture noise, mm (textures do not depend on the volume grid)
_NOISE_EXTENT = 300.0


@dataclass(frozen=True)
class Thorax:
    """Seeded patient factors of one CT phantom; scales are relative to an average adult (1.0), lengths in mm.

    Args:
        seed: seed of the patient's own structures (vessel and bronchial trees, lung texture).
        body_width: lateral scale of the rib cage and body.
        body_depth: antero-posterior scale of the rib cage and body.
        fat: subcutaneous fat thickness (mm).
        lung_height: cranio-caudal scale of the lungs (apex to diaphragm); with the body scales, the lung volume.
        heart_size: scale of the heart.
        diaphragm_level: caudal shift of both hemidiaphragms (mm, + is lower: a deeper inspiration).
        right_dome_rise: how much higher the right dome is than the left one (mm).
        rib_pitch: scale of the vertical spacing of the ribs and vertebrae.
        gastric_bubble: size of the gas bubble in the stomach (0: none).
        rotation: rotation of the patient about the cranio-caudal axis (degrees, + turns the patient's left
            side towards posterior).
        shift: ``(x, y, z)`` position of the patient in the field of view (mm, towards left, posterior, superior).
    """

    seed: int = 0
    body_width: float = 1.0
    body_depth: float = 1.0
    fat: float = 12.0
    lung_height: float = 1.0
    heart_size: float = 1.0
    diaphragm_level: float = 0.0
    right_dome_rise: float = 15.0
    rib_pitch: float = 1.0
    gastric_bubble: float = 0.6
    rotation: float = 0.0
    shift: tuple[float, float, float] = (0.0, 0.0, 0.0)

    def __post_init__(self) -> None:
        check_int("Thorax.seed", self.seed)
        for name in ("body_width", "body_depth", "lung_height", "heart_size", "rib_pitch"):
            if not 0.7 <= getattr(self, name) <= 1.4:
                raise ConfigError(f"Thorax.{name} must be a scale in [0.7, 1.4], got {getattr(self, name)}.")
        if not 0.0 <= self.fat <= 60.0:
            raise ConfigError(f"Thorax.fat must be a thickness in [0, 60] mm, got {self.fat}.")
        if len(self.shift) != 3:
            raise ConfigError(f"Thorax.shift must be (x, y, z) in mm, got {self.shift!r}.")


def sample_thorax(rng: np.random.Generator) -> Thorax:
    """Draw the thorax of a plausible adult: moderate variation of body size, fat, organs and position, in mm.

    Args:
        rng: the random generator; the same generator state gives the same thorax.
    """
    u = rng.uniform
    return Thorax(
        seed=int(rng.integers(0, 2**31 - 1)),
        body_width=float(np.clip(rng.normal(1.0, 0.04), 0.9, 1.1)),
        body_depth=float(np.clip(rng.normal(1.0, 0.05), 0.88, 1.12)),
        fat=float(u(6.0, 24.0)),
        lung_height=float(u(0.92, 1.08)),
        heart_size=float(u(0.88, 1.12)),
        diaphragm_level=float(u(-12.0, 12.0)),
        right_dome_rise=float(u(8.0, 24.0)),
        rib_pitch=float(u(0.96, 1.04)),
        gastric_bubble=float(u(0.3, 1.0) if rng.random() < 0.75 else 0.0),
        rotation=float(u(-4.0, 4.0)),
        shift=(float(u(-8.0, 8.0)), float(u(-8.0, 8.0)), float(u(-8.0, 8.0))),
    )


# ----------------------------------------------------------------------------------------------------------------
# grid and numerical helpers


def _check_shape(shape: Any) -> tuple[int, int, int]:
    dims = (shape,) * 3 if isinstance(shape, (int, np.integer)) and not isinstance(shape, bool) else shape
    try:
        dims = tuple(int(s) for s in dims if not isinstance(s, bool) and s == int(s))
    except (TypeError, ValueError):
        dims = ()
    if len(dims) != 3 or not all(MIN_SIZE <= s <= MAX_SIZE for s in dims):
        raise ConfigError(f"shape must be an integer or 3 integers in [{MIN_SIZE}, {MAX_SIZE}], got {shape!r}.")
    return dims  # type: ignore[return-value]


def phantom_spacing(shape: int | Sequence[int], spacing: float | Sequence[float] | None = None) -> tuple[float, ...]:
    """Voxel spacing (mm) of a phantom: ``spacing`` checked, or the default ``FOV_MM / shape`` per axis.

    Args:
        shape: size of the volume (an integer for a cube, or ``(X, Y, Z)``).
        spacing: ``None``, one spacing for every axis, or ``(sx, sy, sz)`` in mm.
    """
    dims = _check_shape(shape)
    if spacing is None:
        return tuple(FOV_MM / s for s in dims)
    values = (spacing,) * 3 if isinstance(spacing, (int, float, np.number)) else tuple(spacing)
    if len(values) != 3 or not all(isinstance(v, (int, float, np.number)) and 0.1 <= v <= 20.0 for v in values):
        raise ConfigError(f"spacing must be None or 1 or 3 values in [0.1, 20] mm, got {spacing!r}.")
    return tuple(float(v) for v in values)


def phantom_affine(shape: int | Sequence[int], spacing: float | Sequence[float] | None = None) -> np.ndarray:
    """The ``4 x 4`` RAS affine (voxel index -> world mm) of a phantom volume, centred on the world origin.

    The array axes point to the patient's left, posterior and superior, so the affine is
    ``diag(-sx, -sy, sz)`` with the offset that puts the volume centre at ``(0, 0, 0)``.
    """
    dims = _check_shape(shape)
    sp = phantom_spacing(dims, spacing)
    affine = np.eye(4)
    for axis, (n, s, sign) in enumerate(zip(dims, sp, (-1.0, -1.0, 1.0))):
        affine[axis, axis] = sign * s
        affine[axis, 3] = sign * (0.5 - n / 2.0) * s
    return affine


def _soft(depth: np.ndarray, h: float) -> np.ndarray:
    """Partial-volume occupancy of a region at signed ``depth`` inside its boundary (mm) for voxels of size ``h``."""
    out = np.multiply(depth, _F32(1.0 / h), dtype=_F32)
    out += _F32(0.5)
    return np.clip(out, 0.0, 1.0, out=out)


def _smoothstep(e0: float, e1: float, x: np.ndarray | float) -> np.ndarray:
    t = np.clip((np.asarray(x, dtype=_F32) - _F32(e0)) / _F32(e1 - e0), 0.0, 1.0)
    return t * t * (3.0 - 2.0 * t)


def _ellipse_depth(
    x: np.ndarray,
    y: np.ndarray,
    a: np.ndarray,
    b_ant: np.ndarray,
    b_post: np.ndarray,
    x_scale: np.ndarray | None = None,
) -> np.ndarray:
    """Radial distance (mm, > 0 inside) to an axial ellipse centred on the z axis with different anterior
    (``y < 0``) and posterior half-axes; ``x``/``y`` are 2-D or point arrays, the half-axes broadcast along z.
    ``x_scale`` (2-D) multiplies the posterior half-axis as a function of the position (an indentation)."""
    r = np.sqrt(x * x + y * y) + _F32(1e-3)
    post = y > 0
    y2a = np.where(post, _F32(0), y * y)
    y2p = np.where(post, y * y, _F32(0)) if x_scale is None else np.where(post, y * y / (x_scale * x_scale), _F32(0))
    if np.ndim(a) and np.ndim(x) == 2:
        x2, y2a, y2p, r = (v[:, :, None] for v in (x * x, y2a, y2p, r))
    else:
        x2 = x * x
    q = x2 * (1.0 / (a * a)).astype(_F32)
    q += y2a * (1.0 / (b_ant * b_ant)).astype(_F32)
    q += y2p * (1.0 / (b_post * b_post)).astype(_F32)
    rho = np.sqrt(q, out=q)
    rho += _F32(1e-6)
    out = np.divide(r, rho, dtype=_F32)
    out -= r
    return out


@functools.lru_cache(maxsize=32)
def _spline_matrix(coords: tuple[float, ...], cell: float) -> torch.Tensor:
    """Cubic B-spline weights ``(len(coords), n_ctrl)`` of the fixed noise control grid, unit L2 norm per row."""
    n_ctrl = int(math.ceil(2 * _NOISE_EXTENT / cell)) + 4
    pos = (np.clip(np.asarray(coords), -_NOISE_EXTENT, _NOISE_EXTENT) + _NOISE_EXTENT) / cell + 1.0
    base = np.floor(pos).astype(np.int64)
    f = pos - base
    weights = np.stack([(1 - f) ** 3, 3 * f**3 - 6 * f**2 + 4, -3 * f**3 + 3 * f**2 + 3 * f + 1, f**3], axis=1)
    mat = np.zeros((len(coords), n_ctrl))
    mat[np.arange(len(coords))[:, None], base[:, None] + np.arange(-1, 3)[None, :]] = weights
    mat /= np.linalg.norm(mat, axis=1, keepdims=True)
    return torch.from_numpy(mat.astype(_F32))


def _noise(rng: np.random.Generator, cell: float, axes: Sequence[np.ndarray]) -> np.ndarray:
    """Unit-variance band-limited noise (features about ``cell`` mm) at the grid of 1-D scanner coordinates ``axes``.

    The control values live on a fixed grid in millimetres, so the texture is the same at every voxel size.
    """
    n_ctrl = int(math.ceil(2 * _NOISE_EXTENT / cell)) + 4
    ctrl = rng.standard_normal((n_ctrl,) * 3, dtype=_F32)
    return _separable(ctrl, [_spline_matrix(tuple(float(c) for c in ax), float(cell)) for ax in axes])


def _separable(values: np.ndarray, mats: Sequence[torch.Tensor]) -> np.ndarray:
    """Apply one matrix ``(n_out, n_in)`` along each axis of a 3-D array (interpolation of a coarse grid)."""
    out = torch.einsum("ia,abc->ibc", mats[0], torch.from_numpy(np.ascontiguousarray(values, dtype=_F32)))
    out = torch.einsum("jb,ibc->ijc", mats[1], out)
    return torch.einsum("kc,ijc->ijk", mats[2], out).numpy()


def _linear_matrix(fine: np.ndarray, coarse: np.ndarray) -> torch.Tensor:
    """Linear interpolation weights ``(len(fine), len(coarse))`` between two evenly spaced 1-D coordinate axes."""
    pos = np.clip((fine - coarse[0]) / (coarse[1] - coarse[0]), 0.0, len(coarse) - 1.001)
    i0 = np.floor(pos).astype(np.int64)
    mat = np.zeros((len(fine), len(coarse)), dtype=_F32)
    rows = np.arange(len(fine))
    mat[rows, i0] = 1.0 - (pos - i0)
    mat[rows, i0 + 1] = pos - i0
    return torch.from_numpy(mat)


class _Grid:
    """Voxel grid of one volume and the patient's pose: scanner coordinates (mm, axes towards L, P, S, centred)
    and body coordinates (the scanner ones with the patient's rotation and shift removed)."""

    def __init__(self, shape: tuple[int, int, int], spacing: tuple[float, ...], anatomy: Thorax):
        self.shape, self.spacing = shape, spacing
        self.h = float(np.mean(spacing))
        self.axes = [((np.arange(n) + 0.5 - n / 2.0) * s).astype(_F32) for n, s in zip(shape, spacing)]
        theta = math.radians(anatomy.rotation)
        self.rot = np.array([[math.cos(theta), -math.sin(theta)], [math.sin(theta), math.cos(theta)]])
        self.shift = np.asarray(anatomy.shift, dtype=np.float64)
        dx = self.axes[0][:, None] - _F32(self.shift[0])
        dy = self.axes[1][None, :] - _F32(self.shift[1])
        r = self.rot.astype(_F32)
        self.X = r[0, 0] * dx + r[1, 0] * dy  # body coordinates of the voxel columns, (X, Y)
        self.Y = r[0, 1] * dx + r[1, 1] * dy
        self.Z = self.axes[2] - _F32(self.shift[2])

    def to_scanner(self, points: np.ndarray) -> np.ndarray:
        """Body points ``(N, 3)`` -> scanner coordinates."""
        p = np.asarray(points, dtype=np.float64).reshape(-1, 3)
        xy = p[:, :2] @ self.rot.T + self.shift[:2]
        return np.concatenate([xy, p[:, 2:] + self.shift[2]], axis=1)

    def to_voxel(self, points: np.ndarray) -> np.ndarray:
        """Body points ``(N, 3)`` -> continuous voxel indices."""
        s = self.to_scanner(points)
        return np.stack([(s[:, a] - self.axes[a][0]) / self.spacing[a] for a in range(3)], axis=1)

    def box(self, lo: Sequence[float], hi: Sequence[float]) -> tuple[slice, slice, slice]:
        """Index slices covering the body-coordinate box ``[lo, hi]`` (empty slices when outside the volume)."""
        corners = np.array([[x, y, z] for x in (lo[0], hi[0]) for y in (lo[1], hi[1]) for z in (lo[2], hi[2])])
        vox = self.to_voxel(corners)
        out = []
        for a, n in enumerate(self.shape):
            start = int(np.clip(math.floor(vox[:, a].min()) - 1, 0, n))
            stop = int(np.clip(math.ceil(vox[:, a].max()) + 2, start, n))
            out.append(slice(start, stop))
        return out[0], out[1], out[2]

    def body(self, sl: tuple[slice, slice, slice]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Body coordinates of a box: 2-D ``X``, ``Y`` and 1-D ``Z``."""
        return self.X[sl[0], sl[1]], self.Y[sl[0], sl[1]], self.Z[sl[2]]


def _draw_capsules(
    grid: _Grid,
    sl: tuple[slice, slice, slice],
    p0: np.ndarray,
    p1: np.ndarray,
    r0: np.ndarray,
    r1: np.ndarray,
    halo: float = 0.0,
    axes: Sequence[np.ndarray] | None = None,
    h: float | None = None,
) -> np.ndarray:
    """Occupancy of tapered capsules (segments ``p0 -> p1`` of radius ``r0 -> r1``, scanner mm) in the box ``sl``.

    Each segment is evaluated in a patch of voxels around it; segments of similar size share a patch shape and are
    computed together, and the patches are merged with a scatter maximum, so a thousand segments cost a handful of
    vectorised passes. ``halo > 0`` gives a Gaussian halo ``exp(-(d / (r + halo))^2)`` instead of the
    partial-volume profile (which keeps the cross-section area of tubes thinner than a voxel). ``axes``/``h``
    override the grid's coordinates and voxel size (a coarse grid).
    """
    axes = [ax[s] for ax, s in zip(grid.axes, sl)] if axes is None else list(axes)
    h = grid.h if h is None else h
    dims = np.array([len(ax) for ax in axes])
    out = torch.zeros(int(np.prod(dims)), dtype=torch.float32)
    if len(p0) == 0 or 0 in dims:
        return out.reshape(tuple(dims)).numpy()
    step = np.array([float(ax[1] - ax[0]) if len(ax) > 1 else 1.0 for ax in axes])
    origin = np.array([float(ax[0]) for ax in axes])
    reach = (np.maximum(r0, r1) + h + 2.5 * halo)[:, None]
    first = np.floor((np.minimum(p0, p1) - reach - origin) / step).astype(np.int64)
    last = np.ceil((np.maximum(p0, p1) + reach - origin) / step).astype(np.int64)
    keep = np.all((last >= 0) & (first <= dims - 1), axis=1)
    first, last = np.maximum(first[keep], 0), np.minimum(last[keep], dims - 1)
    p0, p1, r0, r1 = p0[keep].astype(_F32), p1[keep].astype(_F32), r0[keep].astype(_F32), r1[keep].astype(_F32)
    extent = last - first + 1
    order = np.argsort(extent.prod(axis=1), kind="stable")
    budget, i = 3_000_000, 0
    while i < len(order):
        # the largest segments come last: take as many as fit the budget with the patch of the last one taken
        vols = np.maximum.accumulate(extent[order[i:]], axis=0).prod(axis=1) * np.arange(1, len(order) - i + 1)
        take = order[i : i + max(1, int(np.searchsorted(vols, budget, side="right")))]
        i += len(take)
        size = extent[take].max(axis=0)
        idx = [np.minimum(first[take, a, None] + np.arange(size[a]), dims[a] - 1) for a in range(3)]
        a0, e = p0[take], p1[take] - p0[take]
        dx = axes[0][idx[0]][:, :, None, None] - a0[:, 0, None, None, None]
        dy = axes[1][idx[1]][:, None, :, None] - a0[:, 1, None, None, None]
        dz = axes[2][idx[2]][:, None, None, :] - a0[:, 2, None, None, None]
        ex, ey, ez = (e[:, k, None, None, None] for k in range(3))
        t = (dx * ex + dy * ey + dz * ez) / (ex * ex + ey * ey + ez * ez + _F32(1e-6))
        t = np.clip(t, 0.0, 1.0, out=t)
        d2 = (dx - t * ex) ** 2 + (dy - t * ey) ** 2 + (dz - t * ez) ** 2
        ra = r0[take, None, None, None]
        r = ra + t * (r1[take, None, None, None] - ra)
        if halo > 0:
            value = np.exp(-d2 / (r + _F32(halo)) ** 2)
        else:  # a one-voxel ramp at the wall; tubes thinner than a voxel: a blob with the tube's cross-section area
            sigma2 = _F32(h * h / 4.0)
            ramp = np.clip(0.5 + (r - np.sqrt(d2)) / _F32(h), 0.0, 1.0)
            value = np.where(r >= _F32(h / 2.0), ramp, r * r / sigma2 * np.exp(-d2 / sigma2))
        flat = (idx[0][:, :, None, None] * dims[1] + idx[1][:, None, :, None]) * dims[2] + idx[2][:, None, None, :]
        out.scatter_reduce_(
            0, torch.from_numpy(flat.reshape(-1)), torch.from_numpy(value.reshape(-1).astype(_F32)), "amax"
        )
    return out.reshape(tuple(dims)).numpy()


# ----------------------------------------------------------------------------------------------------------------
# anatomy (body coordinates, mm: x towards the patient's left, y posterior, z superior)


class _Body:
    """Shapes of one patient as functions of body coordinates (2-D ``x``, ``y`` with 1-D ``z``, or points)."""

    def __init__(self, a: Thorax):
        self.a = a
        bw, bd, lh = a.body_width, a.body_depth, a.lung_height
        self.rc_a, self.rc_ant, self.rc_post = 140.0 * bw, 92.0 * bd, 84.0 * bd  # rib-cage centre line
        self.z_apex = 165.0
        mid = self.z_apex - 200.0 * lh - a.diaphragm_level
        self.z_dome = (mid + a.right_dome_rise / 2.0, mid - a.right_dome_rise / 2.0)  # right, left
        self.z_ribs = self.z_apex + 4.0  # first rib, posterior
        self.pitch = 24.0 * a.rib_pitch
        hs = a.heart_size
        self.heart_c = np.array([22.0, -30.0, float(np.mean(self.z_dome)) + 46.0 * hs])
        axis = np.array([math.cos(math.radians(35)), -math.sin(math.radians(35)), -0.45])
        u = axis / np.linalg.norm(axis)
        v = np.cross(u, [0.0, 0.0, 1.0])
        v /= np.linalg.norm(v)
        self.heart_axes = np.stack([u, v, np.cross(u, v)])
        self.heart_r = np.array([60.0, 45.0, 38.0]) * hs
        self.z_carina = float(np.mean(self.z_dome)) + 125.0 * lh
        self.hila = np.array([[-56.0 * bw, 2.0, self.z_carina - 40.0], [56.0 * bw, 8.0, self.z_carina - 48.0]])
        #: where the pulmonary veins leave each lung for the left atrium
        self.venous_hila = self.hila + np.array([[12.0, -6.0, -24.0], [-12.0, -6.0, -22.0]])
        self.y_spine = 40.0 * bd

    # -- rib cage, skin --------------------------------------------------------------------------------------
    def ribcage_scales(self, z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Lateral and antero-posterior scale of the rib cage with height (a barrel narrowing to the inlet)."""
        top = np.clip((self.z_ribs + 20.0 - z) / 150.0, 0.0, 1.0) ** 0.4
        low = np.clip((self.z_ribs - 200.0 - z) / 100.0, 0.0, 2.0)
        return 0.45 + 0.55 * top - 0.03 * low, 0.62 + 0.38 * top - 0.02 * low

    def ribcage_depth(self, x: np.ndarray, y: np.ndarray, z: np.ndarray) -> np.ndarray:
        """Radial distance inside the rib centre line (mm); posteriorly the cage dips towards the spine."""
        fa, fb = self.ribcage_scales(np.asarray(z, dtype=np.float64))
        indent = 1.0 - 0.24 * np.exp(-((x / 42.0) ** 2))
        return _ellipse_depth(x, y, self.rc_a * fa, self.rc_ant * fb, self.rc_post * fb, indent.astype(_F32))

    def skin_depth(self, x: np.ndarray, y: np.ndarray, z: np.ndarray) -> np.ndarray:
        """Radial distance inside the skin (mm): rib cage plus chest wall, shoulders and neck above, belly below."""
        z = np.asarray(z, dtype=np.float64)
        fat = self.a.fat
        fa, fb = self.ribcage_scales(z)
        shoulder = np.exp(-(((z - self.z_apex + 30.0) / 40.0) ** 2))
        a = self.rc_a * fa + fat + 14.0 + 30.0 * shoulder
        b_ant = self.rc_ant * fb + 0.8 * fat + 16.0 + 10.0 * np.clip((self.z_apex - 260.0 - z) / 80.0, 0.0, 1.0)
        b_post = self.rc_post * fb + 0.7 * fat + 30.0 + 8.0 * shoulder
        neck = _smoothstep(self.z_apex + 12.0, self.z_apex + 45.0, z).astype(np.float64)
        a = a + (62.0 - a) * neck
        b_ant = b_ant + (58.0 - b_ant) * neck
        b_post = b_post + (75.0 - b_post) * neck
        return _ellipse_depth(x, y, a, b_ant, b_post)

    # -- lung boundaries -------------------------------------------------------------------------------------
    def diaphragm(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Height (z, mm) of the lung bases: two domes, highest medially, with deep posterior recesses."""
        out = []
        for side, dome in zip((-1.0, 1.0), self.z_dome):
            ly = np.where(y > -10.0, _F32(68.0), _F32(95.0))
            q = ((x - side * 55.0 * self.a.body_width) / (80.0 * self.a.body_width)) ** 2 + ((y + 10.0) / ly) ** 2
            out.append(dome - 55.0 * np.minimum(q, 1.7))
        w = _smoothstep(-15.0, 15.0, x)
        return (out[0] + (out[1] - out[0]) * w).astype(_F32)

    def apex(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Height (z, mm) of the lung apices: a dome over each lung."""
        d2 = (np.abs(x) - 48.0 * self.a.body_width) ** 2 + 0.7 * (y - 12.0) ** 2
        return (self.z_apex - d2 / 90.0).astype(_F32)

    def heart_rho(self, x: np.ndarray, y: np.ndarray, z: np.ndarray) -> np.ndarray:
        """Normalised radius of the heart ellipsoid (1 on the epicardium)."""
        hx, hy, hz = self.heart_c.tolist()
        d = (x - hx, y - hy, z - hz)
        q = 0.0
        for axis, r in zip(self.heart_axes, self.heart_r):
            comp = _F32(axis[0]) * d[0] + _F32(axis[1]) * d[1]
            comp = comp[..., None] + _F32(axis[2]) * d[2] if np.ndim(x) == 2 else comp + _F32(axis[2]) * d[2]
            q = q + (comp * _F32(1.0 / r)) ** 2
        return np.sqrt(q)

    def mediastinum_depth(self, x: np.ndarray, y: np.ndarray, z: np.ndarray) -> np.ndarray:
        """Signed distance (mm, > 0 inside) into the region the lungs cannot take: heart and pericardium,
        superior and posterior mediastinum, vertebral bodies."""
        zz = np.asarray(z, dtype=np.float64)
        arch = np.exp(-(((zz - self.z_apex + 63.0) / 25.0) ** 2))
        above_heart = _smoothstep(self.heart_c[2] - 10.0, self.heart_c[2] + 10.0, zz).astype(np.float64)
        sup_a = (26.0 + 14.0 * arch) * above_heart + 1e-3
        sup = _ellipse_depth(x - 4.0, y + 12.0, sup_a, np.full_like(sup_a, 62.0), np.full_like(sup_a, 60.0))
        post_a = np.full_like(zz, 30.0)
        post = _ellipse_depth(x - 12.0, y - 20.0, post_a, np.full_like(zz, 20.0), np.full_like(zz, 16.0))
        r_spine = np.sqrt(x * x + (y - self.y_spine) ** 2)
        spine = 21.0 - (r_spine[..., None] if np.ndim(x) == 2 else r_spine)
        heart = (1.08 - self.heart_rho(x, y, z)) * 50.0 * self.a.heart_size
        return np.maximum.reduce([sup, post, np.broadcast_to(spine, sup.shape), heart]).astype(_F32)

    def lung_depth(self, x: np.ndarray, y: np.ndarray, z: np.ndarray) -> np.ndarray:
        """Signed distance (mm, > 0 inside) into the lungs, for points (``x``, ``y``, ``z`` of one shape)."""
        parts = [
            self.ribcage_depth(x, y, z) - 8.0,
            z - self.diaphragm(x, y),
            self.apex(x, y) - z,
            -self.mediastinum_depth(x, y, z),
        ]
        return np.minimum.reduce(parts)

    # -- trees -------------------------------------------------------------------------------------------------
    def lung_points(self, rng: np.random.Generator, count: int) -> tuple[np.ndarray, np.ndarray]:
        """Random body points inside the lungs (out of ``count`` drawn in their bounding box) and their depth (mm)."""
        lo = np.array([-170.0, -120.0, min(self.z_dome) - 100.0])
        hi = np.array([170.0, 120.0, self.z_apex])
        p = (lo + (hi - lo) * rng.random((count, 3))).astype(_F32)
        depth = self.lung_depth(p[:, 0], p[:, 1], p[:, 2])
        keep = depth > 0
        return p[keep].astype(np.float64), depth[keep].astype(np.float64)

    @staticmethod
    def vessel_tree(
        rng: np.random.Generator, root: np.ndarray, territory: np.ndarray, radius: float, generations: int = 7
    ) -> list[np.ndarray]:
        """A branching vessel tree that fills its ``territory`` (lung points ``(N, 3)``) from ``root``.

        Each branch's territory is split in two by the plane through its centroid across its longest axis; a child
        runs from its parent's end most of the way to the centroid of its half (all the way in the last
        generation), and its radius follows Murray's law (``r^3`` proportional to the territory it feeds).

        Returns:
            per generation, rows ``(x0, y0, z0, x1, y1, z1, radius)`` in body mm.
        """
        n = len(territory)
        group = np.zeros(n, dtype=np.int64)
        starts = np.asarray(root, dtype=np.float64)[None]
        out = []
        for g in range(generations):
            m = len(starts)
            count = np.maximum(np.bincount(group, minlength=m), 1)
            mean = np.stack([np.bincount(group, territory[:, k], m) for k in range(3)], axis=1) / count[:, None]
            d = territory - mean[group]
            cov = np.zeros((m, 3, 3))
            for i, j in ((0, 0), (0, 1), (0, 2), (1, 1), (1, 2), (2, 2)):
                cov[:, i, j] = cov[:, j, i] = np.bincount(group, d[:, i] * d[:, j], m) / count
            axis = np.linalg.eigh(cov + 1e-6 * np.eye(3))[1][:, :, -1]
            child = 2 * group + ((d * axis[group]).sum(axis=1) > 0)
            n_child = np.bincount(child, minlength=2 * m)
            centre = np.stack([np.bincount(child, territory[:, k], 2 * m) for k in range(3)], axis=1)
            centre /= np.maximum(n_child, 1)[:, None]
            begin = np.repeat(starts, 2, axis=0)
            reach = 1.0 if g == generations - 1 else 0.6
            ends = begin + reach * (centre - begin) + rng.normal(0.0, 2.0, begin.shape)
            live = n_child > 0
            rad = radius * (n_child / n) ** (1.0 / 3.0)
            out.append(np.concatenate([begin, ends, rad[:, None]], axis=1)[live])
            starts, group = ends, child
        return out


# ----------------------------------------------------------------------------------------------------------------
# the patient, drawn once per grid


@dataclass(frozen=True)
class _Base:
    """Finding-independent rendering of one patient on one grid (read-only, cached)."""

    grid: _Grid
    body: _Body
    volume: np.ndarray  # HU without noise
    labels: np.ndarray
    lung_mask: np.ndarray  # bool: the lung occupies more than half of the voxel
    lung_box: tuple[slice, slice, slice]  # bounding box of the lung mask
    index: np.ndarray  # flat indices of the lung voxels in the volume
    box_index: np.ndarray  # ... and in an array of the lung box's shape
    points: np.ndarray  # (N, 3) body coordinates of the lung voxels
    transmit: np.ndarray  # (N,) how much of a change of the lung parenchyma reaches each lung voxel
    parenchyma: np.ndarray  # (N,) HU of the lung parenchyma under the vessels and airways
    vessels: tuple[np.ndarray, np.ndarray]  # all vessel segments (scanner mm, (N, 7)) of the right, left lung


def _intersect(a: Sequence[slice], b: Sequence[slice]) -> tuple[slice, ...]:
    """Intersection of two boxes of index slices (with non-negative starts and stops)."""
    out = []
    for s, t in zip(a, b):
        start = max(s.start, t.start)
        out.append(slice(start, max(start, min(s.stop, t.stop))))
    return tuple(out)


def _relative(sl: Sequence[slice], box: Sequence[slice]) -> tuple[slice, ...]:
    """Slices ``sl`` (inside ``box``) expressed relative to the start of ``box``."""
    return tuple(slice(s.start - b.start, s.stop - b.start) for s, b in zip(sl, box))


def _paint(vol: np.ndarray, labels: np.ndarray, sl: Any, alpha: np.ndarray, value: Any, label: int) -> None:
    """Composite ``value`` over ``vol[sl]`` with occupancy ``alpha``; label the voxels it covers mostly."""
    sub = vol[sl]
    sub += alpha * (np.asarray(value, dtype=_F32) - sub)
    labels[sl][alpha > 0.5] = label


def _paint_sparse(
    vol: np.ndarray, labels: np.ndarray, sl: Any, alpha: np.ndarray, value: float, label: int, transmit: np.ndarray
) -> None:
    """:func:`_paint` of a constant over the few voxels where ``alpha > 0`` (thin tubes); also attenuates the lung
    transmittance ``transmit`` (an array over the box ``sl``)."""
    where = np.nonzero(alpha)
    a = alpha[where]
    sub = vol[sl]
    sub[where] += a * (_F32(value) - sub[where])
    labels[sl][tuple(i[a > 0.5] for i in where)] = label
    transmit[where] *= 1.0 - a


def _capsule_segments(grid: _Grid, points: Sequence[Sequence[float]], radius: float) -> tuple[np.ndarray, ...]:
    """Segments joining consecutive body points, in scanner mm, with a constant radius."""
    s = grid.to_scanner(np.asarray(points, dtype=np.float64))
    r = np.full(len(s) - 1, radius)
    return s[:-1], s[1:], r, r


def _paint_capsules(
    vol: np.ndarray,
    labels: np.ndarray,
    grid: _Grid,
    paths: Sequence[tuple[Sequence, float]],
    value: float,
    label: int,
    transmit: tuple[np.ndarray, tuple[slice, ...]] | None = None,
) -> None:
    """Paint tubes along body-coordinate polylines ``(points, radius)`` (small structures, each in its own box);
    ``transmit``: the lung transmittance ``(array, box)`` to attenuate under them."""
    for points, radius in paths:
        p0, p1, r0, r1 = _capsule_segments(grid, points, radius)
        pts = np.asarray(points, dtype=np.float64)
        sl = grid.box(pts.min(0) - radius - 2 * grid.h, pts.max(0) + radius + 2 * grid.h)
        alpha = _draw_capsules(grid, sl, p0, p1, r0, r1)
        _paint(vol, labels, sl, alpha, value, label)
        if transmit is not None:
            _attenuate(transmit, sl, alpha)


def _attenuate(transmit: tuple[np.ndarray, tuple[slice, ...]], sl: tuple[slice, ...], alpha: np.ndarray) -> None:
    """Multiply the lung transmittance (array over a box) by ``1 - alpha`` painted over the box ``sl``."""
    t, box = transmit
    inter = _intersect(sl, box)
    t[_relative(inter, box)] *= 1.0 - alpha[_relative(inter, sl)]


def _draw_mediastinum(vol: np.ndarray, labels: np.ndarray, grid: _Grid, b: _Body) -> None:
    """Mediastinal fat from the diaphragm to the thoracic inlet, the heart (myocardium, blood), the great vessels
    and the oesophagus."""
    h = grid.h
    hc = b.heart_c
    z_top = b.z_apex + 40.0
    sl = grid.box((-80, -110, min(b.z_dome) - 40), (90, 80, z_top))
    x, y, z = grid.body(sl)
    depth = b.mediastinum_depth(x, y, z)
    spine = 21.0 - np.sqrt(x * x + (y - b.y_spine) ** 2)
    above = _soft(z[None, None, :] - b.diaphragm(x, y)[..., None] + 10.0, h)  # from the diaphragm ...
    below = _soft(b.z_apex - z, h)[None, None, :]  # ... to the thoracic inlet
    fat = _soft(depth, h) * _soft(-spine[..., None] - 2.0, h) * above * below
    _paint(vol, labels, sl, fat, _FAT, TISSUE_LABELS["fat"])
    rho = b.heart_rho(x, y, z)
    r_mean = float(np.mean(b.heart_r))
    _paint(vol, labels, sl, _soft((1.0 - rho) * r_mean, h), _SOFT, TISSUE_LABELS["soft_tissue"])
    _paint(vol, labels, sl, _soft((0.8 - rho) * r_mean, h), _BLOOD, TISSUE_LABELS["blood"])
    zd, za = float(np.mean(b.z_dome)), b.z_apex
    vessels = [
        (
            [
                (4, -30, hc[2] + 10),
                (2, -28, za - 78),
                (6, -18, za - 60),
                (16, 8, za - 54),
                (22, 30, za - 64),
                (28, 28, za - 82),
            ],
            14.0,
        ),  # ascending aorta and arch
        ([(28, 28, za - 82), (28, 26, zd - 60), (16, 22, zd - 140)], 12.0),  # descending aorta
        ([(16, -52, hc[2] + 24), (12, -30, b.z_carina - 2)], 14.0),  # pulmonary trunk
        ([(-28, -22, za - 20), (-27, -18, hc[2] + 36)], 10.0),  # superior vena cava
        ([(-4, -16, za - 58), (-16, -8, za + 12)], 7.0),  # brachiocephalic trunk
        ([(12, -2, za - 56), (20, 2, za + 12)], 5.0),  # left common carotid
        ([(18, 10, za - 56), (34, 8, za + 2)], 6.0),  # left subclavian artery
        ([(-30, -20, za - 20), (-20, -30, za + 17)], 7.0),  # right brachiocephalic vein
        ([(-26, -24, za - 26), (30, -34, za - 18)], 5.5),  # left brachiocephalic vein
        ([(-20, 16, zd + 20), (-18, 14, zd - 30), (-20, 8, zd - 100)], 12.0),  # inferior vena cava
    ]
    _paint_capsules(vol, labels, grid, vessels, _BLOOD, TISSUE_LABELS["blood"])
    oesophagus = [([(6, 24, z_top + 40), (8, 24, b.z_carina), (14, 20, zd - 20), (45, -2, zd - 35)], 7.5)]
    _paint_capsules(vol, labels, grid, oesophagus, _SOFT, TISSUE_LABELS["soft_tissue"])


def _draw_abdomen(vol: np.ndarray, labels: np.ndarray, grid: _Grid, b: _Body, rng: np.random.Generator) -> None:
    """Below the diaphragm: mottled bowel and fat, the liver, the stomach with its gas bubble, spleen, kidneys."""
    h = grid.h
    sl = grid.box((-190, -190, -260), (190, 190, max(b.z_dome) + 5))
    x, y, z = grid.body(sl)
    below = _soft(b.diaphragm(x, y)[..., None] - z - 4.0, h) * _soft(b.ribcage_depth(x, y, z) + 8.0, h)
    axes = [ax[s] for ax, s in zip(grid.axes, sl)]
    bowel = _F32(-20.0) + _F32(45.0) * _noise(rng, 14.0, axes)
    _paint(vol, labels, sl, below, bowel, TISSUE_LABELS["soft_tissue"])
    liver = below * _soft((25.0 - x - 0.35 * y)[..., None], 4.0 * h) * _soft(z - (min(b.z_dome) - 150.0), h)
    _paint(vol, labels, sl, liver, _LIVER, TISSUE_LABELS["soft_tissue"])
    zl = b.z_dome[1]
    organs = [
        ((62.0, 0.0, zl - 36.0), (38.0, 32.0, 32.0), _STOMACH),
        ((88.0, 52.0, zl - 52.0), (30.0, 28.0, 55.0), _SPLEEN),
        ((-68.0, 58.0, zl - 150.0), (30.0, 26.0, 55.0), _KIDNEY),
        ((70.0, 58.0, zl - 140.0), (30.0, 26.0, 55.0), _KIDNEY),
    ]
    for centre, radii, value in organs:
        q = sum((c - m) ** 2 / r**2 for c, m, r in zip((x[..., None], y[..., None], z), centre, radii))
        alpha = below * _soft((1.0 - np.sqrt(q)) * min(radii), h)
        _paint(vol, labels, sl, alpha, value, TISSUE_LABELS["soft_tissue"])
        if value == _STOMACH and b.a.gastric_bubble > 0:  # supine: the gas rises anteriorly
            gas = alpha * _soft((centre[1] - radii[1] * (1.0 - 0.3 * b.a.gastric_bubble) - y)[..., None], h)
            _paint(vol, labels, sl, gas, _AIR, TISSUE_LABELS["gas"])


def _bone_value(depth: np.ndarray) -> np.ndarray:
    """Cortical rim over cancellous bone as a function of the depth inside the bone (mm)."""
    return _F32(_MARROW) + _F32(_CORTEX - _MARROW) * np.exp(-np.maximum(depth, 0.0) / _F32(1.5))


def _draw_spine(vol: np.ndarray, labels: np.ndarray, grid: _Grid, b: _Body) -> None:
    """Vertebral bodies and discs, neural arches, transverse and spinous processes, the spinal canal."""
    h, bone = grid.h, TISSUE_LABELS["bone"]
    sl = grid.box((-80, 20, -260), (80, 140, 260))
    x, y, z = grid.body(sl)
    phase = (z - (b.z_ribs - 0.5 * b.pitch)) / b.pitch
    f = (phase - np.floor(phase)).astype(_F32)
    radius = (13.0 + 6.0 * np.clip((b.z_apex - z) / 300.0, 0.0, 1.0)).astype(_F32)
    r = np.sqrt(x * x + (y - b.y_spine) ** 2)
    depth = radius[None, None, :] - r[..., None]
    disc = ((f < 0.16) | (f > 0.96))[None, None, :]
    body = _soft(depth, h)
    _paint(vol, labels, sl, body * ~disc, _bone_value(depth), bone)
    _paint(vol, labels, sl, body * disc, _DISC, TISSUE_LABELS["soft_tissue"])
    yc = b.y_spine + 27.0
    rc = np.sqrt(x * x + (y - yc) ** 2)
    arch = _soft(np.minimum(4.0 - np.abs(rc - 11.0), y - yc + 6.0), h)[..., None]
    arch = arch * _soft(np.minimum(f - 0.25, 0.92 - f) * b.pitch, h)
    transverse = _soft(5.0 - np.abs(y - yc + 2.0), h) * _soft(np.minimum(np.abs(x) - 8.0, 40.0 - np.abs(x)), h)
    transverse = transverse[..., None] * _soft(np.minimum(f - 0.38, 0.72 - f) * b.pitch, h)
    lag = (np.clip(y - yc - 8.0, 0.0, 40.0) / 40.0 * 0.45)[..., None]
    fs = f[None, None, :] + lag
    fs = fs - np.floor(fs)
    spinous = _soft(np.minimum.reduce([3.5 - np.abs(x), y - yc - 6.0, yc + 32.0 - y]), h)[..., None]
    spinous = spinous * _soft(np.minimum(fs - 0.35, 0.85 - fs) * b.pitch, h)
    posterior = np.maximum.reduce([arch, transverse, spinous])
    _paint(vol, labels, sl, posterior, _F32(0.5 * (_CORTEX + _MARROW)), bone)
    canal = _soft(8.0 - rc, h)[..., None] * np.ones_like(f)[None, None, :]
    _paint(vol, labels, sl, canal, _CSF, TISSUE_LABELS["soft_tissue"])


def _draw_ribs(vol: np.ndarray, labels: np.ndarray, grid: _Grid, b: _Body, rc_depth: np.ndarray) -> None:
    """Twelve pairs of ribs as curved tubes along the rib-cage centre line, dropping from the spine to the front,
    with costal cartilages, and the scapulae; computed only on the voxels of the chest-wall shell."""
    h = grid.h
    flat = np.flatnonzero((rc_depth > -26.0) & (rc_depth < 9.0))
    ij, k = np.divmod(flat, grid.shape[2])
    x, y, z = grid.X.reshape(-1)[ij], grid.Y.reshape(-1)[ij], grid.Z[k]
    d = rc_depth.reshape(-1)[flat]
    psi = np.arctan2(np.abs(x), y)  # 0 at the spine, pi/2 laterally, pi at the sternum
    w = ((1.0 - np.cos(psi)) / 2.0) ** 1.3
    best = np.full(len(flat), np.inf, dtype=_F32)
    cart = np.zeros(len(flat), dtype=bool)
    # per rib: where it ends at the front (the lower ones are shorter, 11 and 12 float) and where cartilage begins
    ends = np.array([np.pi - 0.25] + [np.pi - 0.12] * 6 + [np.pi - 0.35, np.pi - 0.45, np.pi - 0.55, 1.95, 1.41])
    cart_from = np.array([np.pi - 0.45] + [np.pi - 0.5 - 0.06 * i for i in range(6)] + [1.95] * 3 + [9.0, 9.0])
    drop = (40.0 + 60.0 * np.clip(np.arange(12) / 4.0, 0.0, 1.0)).astype(_F32)
    n0 = np.round((b.z_ribs - z - 100.0 * w) / b.pitch).astype(np.int64)
    half_height = 5.0 + 3.5 * w
    for dn in (-2, -1, 0, 1):
        n = n0 + dn
        valid = (n >= 0) & (n < 12)
        nc = np.clip(n, 0, 11)
        valid &= (psi > 0.25) & (psi < ends[nc])
        dz = z - (b.z_ribs - nc * b.pitch - drop[nc] * w)
        ell = ((dz / half_height) ** 2 + (d / 3.6) ** 2).astype(_F32)
        better = valid & (ell < best)
        best = np.where(better, ell, best)
        cart = np.where(better, psi > cart_from[nc], cart)
    alpha = _soft((1.0 - np.sqrt(best)) * 3.6, h)  # best is inf away from every rib
    value = np.where(cart, _F32(_CARTILAGE), _F32(_MARROW) + _F32(_CORTEX - _MARROW) * np.minimum(best, 1.0))
    # scapulae: plates on the posterior rib cage, between the superior border and the inferior angle
    bw = b.a.body_width
    ax = np.abs(x)
    below_top = b.z_apex - 8.0 - z
    medial = 62.0 * bw + 0.15 * below_top
    lateral = 150.0 * bw - 0.5 * below_top
    plate = np.minimum.reduce(
        [
            2.2 + 1.5 * _smoothstep(-30.0, 0.0, ax - lateral) - np.abs(d + 15.0),
            ax - medial,
            lateral - ax,
            below_top,
            y - 5.0,
        ]
    )
    scap = _soft(plate, h)
    for a_, v_ in ((alpha, value), (scap, _F32(0.5 * (_CORTEX + _MARROW)))):
        sub = vol.reshape(-1)[flat]
        vol.reshape(-1)[flat] = sub + a_ * (v_ - sub)
        lab = labels.reshape(-1)
        lab[flat[a_ > 0.5]] = TISSUE_LABELS["bone"]


def _draw_front_bones(vol: np.ndarray, labels: np.ndarray, grid: _Grid, b: _Body, rc_depth: np.ndarray) -> None:
    """Sternum (manubrium, body, xiphoid) on the anterior rib-cage line, and the clavicles."""
    h, bone = grid.h, TISSUE_LABELS["bone"]
    z_notch, z_xiphoid = b.z_apex - 26.0, float(np.mean(b.z_dome)) - 22.0
    sl = grid.box((-40, -150, z_xiphoid - 5), (40, -20, z_notch + 5))
    x, y, z = grid.body(sl)
    half = np.where(z > z_notch - 45.0, 26.0, np.where(z < z_xiphoid + 25.0, 8.0, 16.0)).astype(_F32)
    depth = np.minimum(half[None, None, :] - np.abs(x)[..., None], 5.5 - np.abs(rc_depth[sl] + 1.0))
    depth = np.minimum(depth, np.minimum(z_notch - z, z - z_xiphoid)[None, None, :])
    _paint(vol, labels, sl, _soft(depth, h) * (y < -20)[..., None], _bone_value(depth), bone)
    fa, fb = b.ribcage_scales(np.array([b.z_apex - 20.0]))
    y_front = -float(b.rc_ant * fb[0]) - 8.0
    clavicles = []
    for s in (-1.0, 1.0):
        pts = [
            (s * 16, y_front + 4, z_notch + 4),
            (s * 60, y_front - 2, z_notch + 12),
            (s * 110, y_front + 14, z_notch + 18),
            (s * 148 * b.a.body_width, y_front + 46, z_notch + 22),
        ]
        clavicles.append((pts, 6.5))
    _paint_capsules(vol, labels, grid, clavicles, 0.5 * (_CORTEX + _MARROW), bone)


def _render_base(anatomy: Thorax, shape: tuple[int, int, int], spacing: tuple[float, ...]) -> _Base:
    """Paint the patient from the outside in; the lungs come after everything around them, then their vessels and
    airways, whose cover of each lung voxel is tracked (``transmit``) so that findings can be added later."""
    grid = _Grid(shape, spacing, anatomy)
    b = _Body(anatomy)
    tex = np.random.default_rng([anatomy.seed, 0])
    h = grid.h
    vol = np.full(shape, _AIR, dtype=_F32)
    labels = np.zeros(shape, dtype=np.uint8)
    x, y, z = grid.X, grid.Y, grid.Z
    everything = (slice(None),) * 3

    # body wall: subcutaneous fat, then muscle and everything deeper
    skin = b.skin_depth(x, y, z)
    fat = (anatomy.fat * (0.7 + 0.4 * (x / (np.sqrt(x * x + y * y) + 1.0)) ** 2)).astype(_F32)
    _paint(vol, labels, everything, _soft(skin, h), _FAT, TISSUE_LABELS["fat"])
    skin -= fat[..., None]
    _paint(vol, labels, everything, _soft(skin, h), _SOFT + 5.0, TISSUE_LABELS["soft_tissue"])
    del skin
    rc_depth = b.ribcage_depth(x, y, z)

    _draw_abdomen(vol, labels, grid, b, tex)
    _draw_mediastinum(vol, labels, grid, b)
    _draw_spine(vol, labels, grid, b)
    _draw_ribs(vol, labels, grid, b, rc_depth)
    _draw_front_bones(vol, labels, grid, b, rc_depth)

    # lungs (inside the pleura, above the diaphragm, below the apices, outside the mediastinum)
    lung_box = grid.box((-200, -200, min(b.z_dome) - 110), (200, 200, b.z_apex + 5))
    xl, yl, zl = grid.body(lung_box)
    depth = rc_depth[lung_box] - _F32(8.0)
    np.minimum(depth, zl[None, None, :] - b.diaphragm(xl, yl)[..., None], out=depth)
    np.minimum(depth, b.apex(xl, yl)[..., None] - zl[None, None, :], out=depth)
    med = _intersect(grid.box((-80, -110, min(b.z_dome) - 40), (90, 80, b.z_apex + 40)), lung_box)
    inter = _relative(med, lung_box)
    xm, ym, zm = grid.body(med)
    np.minimum(depth[inter], -b.mediastinum_depth(xm, ym, zm), out=depth[inter])
    alpha = _soft(depth, h)
    del depth
    axes = [ax[s] for ax, s in zip(grid.axes, lung_box)]
    gravity = _smoothstep(-80.0, 90.0, yl)[..., None]
    parenchyma = _F32(_LUNG) + _F32(12.0) * _noise(tex, 22.0, axes) + _F32(35.0) * gravity
    _paint(vol, labels, lung_box, alpha, parenchyma, TISSUE_LABELS["lung"])
    lung_mask = np.zeros(shape, dtype=bool)
    lung_mask[lung_box] = alpha >= 0.5
    transmit = alpha * lung_mask[lung_box]
    del alpha

    # pulmonary vessels: arteries from the pulmonary trunk and veins to the left atrium, each a tree per lung
    hc = b.heart_c
    territories = b.lung_points(tex, 40000)[0]
    trees, arteries = [], []
    for side in (-1.0, 1.0):
        own = territories[(territories[:, 0] > 0) == (side > 0)]
        half = len(own) // 2
        hilum, venous = b.hila[int(side > 0)], b.venous_hila[int(side > 0)]
        artery = b.vessel_tree(tex, hilum, own[:half], 7.0, generations=9)
        vein = b.vessel_tree(tex, venous, own[half:], 6.5, generations=9)
        trunks = np.array(
            [[12.0, -30.0, b.z_carina - 2.0, *hilum, 9.0], [side * 18.0, hc[1] + 40.0, hc[2] + 8.0, *venous, 7.0]]
        )
        trees.append(np.concatenate([trunks, *artery, *vein]))
        arteries.append(artery)
    segs = np.concatenate(trees)
    scanner_segs = [np.concatenate([grid.to_scanner(t[:, :3]), grid.to_scanner(t[:, 3:6]), t[:, 6:]], 1) for t in trees]
    all_segs = np.concatenate(scanner_segs)
    alpha = _draw_capsules(grid, lung_box, all_segs[:, :3], all_segs[:, 3:6], segs[:, 6], segs[:, 6] * 0.85)
    _paint_sparse(vol, labels, lung_box, alpha, _BLOOD - 5.0, TISSUE_LABELS["blood"], transmit)
    del alpha

    # airways: trachea and main bronchi, then bronchi beside the first vessel generations
    carina = (0.0, 16.0, b.z_carina)
    airways = [([(0.0, 8.0, b.z_apex + 80.0), (0.0, 12.0, b.z_apex), carina], 9.0)]
    for hilum in b.hila:
        airways.append(([carina, (hilum[0] * 0.9, hilum[1] + 8.0, hilum[2] + 4.0)], 6.5 if hilum[0] < 0 else 5.5))
    walls = [(pts, r + 2.0) for pts, r in airways]
    _paint_capsules(vol, labels, grid, walls, _SOFT, TISSUE_LABELS["soft_tissue"], (transmit, lung_box))
    _paint_capsules(vol, labels, grid, airways, _AIR, TISSUE_LABELS["gas"], (transmit, lung_box))
    bronchi = []
    for artery in arteries:  # bronchi run beside the first four generations of the arteries
        first = np.concatenate(artery[:4])
        d = first[:, 3:6] - first[:, :3]
        off = np.cross(d, [0.0, 0.0, 1.0])
        off[np.linalg.norm(off, axis=1) < 1e-6] = [1.0, 0.0, 0.0]
        off /= np.linalg.norm(off, axis=1, keepdims=True)
        off *= (first[:, 6] * 1.9 + 1.0)[:, None]
        bronchi.append(np.concatenate([first[:, :3] + off, first[:, 3:6] + off, first[:, 6:] * 0.8], axis=1))
    br = np.concatenate(bronchi)
    b0, b1 = grid.to_scanner(br[:, :3]), grid.to_scanner(br[:, 3:6])
    wall = _draw_capsules(grid, lung_box, b0, b1, br[:, 6] * 1.25 + 0.5, br[:, 6] * 1.25 + 0.5)
    _paint_sparse(vol, labels, lung_box, wall, _SOFT, TISSUE_LABELS["soft_tissue"], transmit)
    lumen = _draw_capsules(grid, lung_box, b0, b1, br[:, 6], br[:, 6] * 0.85)
    _paint_sparse(vol, labels, lung_box, lumen, _AIR, TISSUE_LABELS["gas"], transmit)

    # the lung voxels, where findings act
    local = np.flatnonzero(lung_mask[lung_box])
    ijk = np.unravel_index(local, transmit.shape)
    ijk = tuple(i + s.start for i, s in zip(ijk, lung_box))
    tight = tuple(slice(int(i.min()), int(i.max()) + 1) if i.size else slice(0, 0) for i in ijk)
    points = np.stack([grid.X[ijk[0], ijk[1]], grid.Y[ijk[0], ijk[1]], grid.Z[ijk[2]]], axis=1)
    box_index = np.ravel_multi_index(tuple(i - s.start for i, s in zip(ijk, tight)), [s.stop - s.start for s in tight])
    base = _Base(
        grid,
        b,
        vol,
        labels,
        lung_mask,
        tight,
        np.ravel_multi_index(ijk, shape),
        box_index,
        points,
        transmit.reshape(-1)[local],
        parenchyma.reshape(-1)[local],
        tuple(scanner_segs),
    )
    for arr in (vol, labels, lung_mask, base.index, box_index, points, base.transmit, base.parenchyma):
        arr.setflags(write=False)
    return base


@functools.lru_cache(maxsize=1)
def _base(anatomy: Thorax, shape: tuple[int, int, int], spacing: tuple[float, ...]) -> _Base:
    """Draw the patient once per grid, so that volumes of one patient with several findings share the work."""
    return _render_base(anatomy, shape, spacing)


# ----------------------------------------------------------------------------------------------------------------
# findings: fractions of the lung air filled by fluid / cells (0: aerated lung, 1: consolidated)


def _lung_axes(base: _Base) -> list[np.ndarray]:
    """Scanner coordinates of the lung box."""
    return [ax[s] for ax, s in zip(base.grid.axes, base.lung_box)]


def _at_lungs(base: _Base, field: np.ndarray) -> np.ndarray:
    """The values of a lung-box field at the lung voxels."""
    return field.reshape(-1)[base.box_index]


def _viral(base: _Base, rng: np.random.Generator, info: dict) -> np.ndarray:
    """Diffuse bilateral interstitial pattern: peribronchovascular and perihilar ground glass with reticulation."""
    grid, b = base.grid, base.body
    axes = _lung_axes(base)
    severity = float(rng.uniform(0.85, 1.2))
    # peribronchovascular halo drawn on a coarse 6 mm grid and interpolated linearly
    coarse = [np.arange(ax[0] - 6.0, ax[-1] + 12.0, 6.0, dtype=_F32) for ax in axes]
    segs = np.concatenate(base.vessels)
    big = segs[:, 6] > 1.2
    halo = _draw_capsules(
        grid, base.lung_box, segs[big, :3], segs[big, 3:6], segs[big, 6], segs[big, 6], halo=7.0, axes=coarse, h=6.0
    )
    halo = _at_lungs(base, _separable(halo, [_linear_matrix(ax, c) for ax, c in zip(axes, coarse)]))
    d2 = np.min(((base.points[:, None, :] - b.hila[None].astype(_F32)) ** 2).sum(axis=2), axis=1)
    perihilar = np.exp(-d2 / _F32(95.0**2))
    net = np.exp(-((_at_lungs(base, _noise(rng, 9.0, axes)) / _F32(0.3)) ** 2))  # sheets along zero crossings
    patchy = np.clip(0.55 + 0.45 * _at_lungs(base, _noise(rng, 45.0, axes)), 0.0, 1.0)
    fill = 0.07 + 0.2 * halo + perihilar * (0.16 + 0.08 * net) + 0.05 * net
    info["severity"] = severity
    return np.clip(severity * fill * (0.55 + 0.45 * patchy), 0.0, 0.75).astype(_F32)


def _covid(base: _Base, rng: np.random.Generator, severe: bool, info: dict) -> np.ndarray:
    """Multifocal bilateral ground-glass opacities, peripheral, posterior and basal; severe: larger, more of them,
    with crazy paving (septal lines over the ground glass) and consolidation."""
    b = base.body
    axes = _lung_axes(base)
    points = b.lung_points(rng, 6000)[0]
    costal = b.ribcage_depth(*(points[:, k].astype(_F32) for k in range(3))) - 8.0  # depth below the chest wall
    z_base = float(np.mean(b.z_dome))
    weight = (
        np.exp(-(((costal - 10.0) / 10.0) ** 2))
        * (0.3 + 2.5 * _smoothstep(-40.0, 60.0, points[:, 1]))
        * (0.1 + 3.0 * _smoothstep(b.z_apex - 50.0, z_base + 30.0, points[:, 2]))
        * (points[:, 2] > z_base - 15.0)  # lower lobes, not the thin posterior recesses
    ).astype(np.float64)
    count = int(rng.integers(5, 9) if severe else rng.integers(2, 5))
    margin = _at_lungs(base, _noise(rng, 12.0, axes))
    mottle = _at_lungs(base, _noise(rng, 7.0, axes))
    net = np.exp(-((_at_lungs(base, _noise(rng, 8.0, axes)) / _F32(0.28)) ** 2)) if severe else None
    clear = np.ones(len(base.points), dtype=_F32)
    x, y, z = base.points.T
    first_side = int(rng.integers(0, 2))
    lesions = []
    for i in range(count):
        side = (first_side + i) % 2 if (severe or i < 2) else int(rng.integers(0, 2))
        w = weight * ((points[:, 0] > 0) == bool(side))
        centre = points[rng.choice(len(points), p=w / w.sum())]
        cx, cy, cz = (float(v) for v in centre)
        radius = float(rng.uniform(24.0, 42.0) if severe else rng.uniform(13.0, 24.0))
        aspect = float(rng.uniform(1.0, 1.6))  # elongated along the chest wall, cranio-caudally
        density = float(rng.uniform(0.45, 0.6) if severe else rng.uniform(0.27, 0.45))
        reach = 2.5 * radius
        near = np.flatnonzero((np.abs(x - cx) < reach) & (np.abs(y - cy) < reach) & (np.abs(z - cz) < reach * aspect))
        q = ((x[near] - cx) ** 2 + (y[near] - cy) ** 2) / radius**2 + ((z[near] - cz) / (radius * aspect)) ** 2
        g = np.exp(0.7 * np.minimum(0.45 * margin[near] - q, 0.0))  # (clipped exp(margin - q)) ** 0.7
        opacity = density * g * (0.85 + 0.15 * mottle[near])
        if severe:
            opacity = opacity + 0.2 * net[near] * g
            if rng.random() < 0.65:
                opacity = np.maximum(opacity, 0.97 * _smoothstep(0.55, 0.9, g))
        clear[near] *= 1.0 - np.clip(opacity, 0.0, 0.98)
        lesions.append(
            {"center_mm_body": centre, "radius_mm": radius, "side": "left" if side else "right", "density": density}
        )
    fill = 1.0 - clear
    if severe:  # dependent ground glass at both bases, posteriorly
        diffuse = 0.14 * _smoothstep(0.0, 80.0, y) * _smoothstep(z_base + 60.0, z_base - 20.0, z)
        fill = 1.0 - (1.0 - fill) * (1.0 - diffuse)
    info["lesions"] = lesions
    return fill.astype(_F32)


def _nodule(
    base: _Base,
    rng: np.random.Generator,
    diameter: float | None,
    density: float | None,
    margin: float | None,
    info: dict,
) -> np.ndarray:
    """One nodule in a lung, away from the pleura, the mediastinum and the hila; returns the HU change."""
    diameter = float(rng.uniform(8.0, 20.0)) if diameter is None else float(diameter)
    density = float(rng.uniform(-50.0, 80.0)) if density is None else float(density)
    margin = float(rng.uniform(0.5, 2.0)) if margin is None else float(margin)
    if not 2.0 <= diameter <= 40.0 or not -600.0 <= density <= 400.0 or not 0.0 <= margin <= 10.0:
        raise ConfigError(
            "nodule options: nodule_diameter_mm must be in [2, 40], nodule_density_hu in [-600, 400] and "
            f"nodule_margin_mm in [0, 10], got {diameter}, {density}, {margin}."
        )
    points, depth = base.body.lung_points(rng, 6000)
    hila = np.min(np.linalg.norm(points[:, None, :] - base.body.hila[None], axis=2), axis=1)
    ok = (depth > diameter / 2.0 + 10.0) & (hila > 40.0)
    if not ok.any():
        ok = depth > diameter / 2.0
    centre = points[ok][int(rng.integers(0, int(ok.sum())))]
    grid = base.grid
    voxel = grid.to_voxel(centre[None])[0]
    occupancy, box = nodule_occupancy(grid.shape, grid.spacing, voxel, diameter, margin)
    ijk = np.unravel_index(base.index, grid.shape)
    inside = np.all([(i >= s.start) & (i < s.stop) for i, s in zip(ijk, box)], axis=0)
    delta = np.zeros(len(base.index), dtype=_F32)
    local = tuple(i[inside] - s.start for i, s in zip(ijk, box))
    delta[inside] = occupancy[local] * (_F32(density) - base.parenchyma[inside])
    info.update(
        nodule_center_voxel=tuple(float(v) for v in voxel),
        nodule_diameter_mm=diameter,
        nodule_density_hu=density,
        nodule_margin_mm=margin,
    )
    return delta


def _finding_delta(
    base: _Base, finding: str, rng: np.random.Generator, nodule: dict[str, float | None], info: dict
) -> np.ndarray | None:
    """HU change of the lung parenchyma at the lung voxels for ``finding``; None for a normal lung (or no lung in
    the field of view)."""
    if finding == "normal" or len(base.index) == 0:
        return None
    if finding == "nodule":
        return _nodule(base, rng, nodule["diameter"], nodule["density"], nodule["margin"], info)
    if finding == "viral_pneumonia":
        fill = _viral(base, rng, info)
    else:
        fill = _covid(base, rng, finding == "covid_severe", info)
    return fill * (_F32(_FILL) - base.parenchyma)


# ----------------------------------------------------------------------------------------------------------------
# public rendering


def _check_finding(finding: Any) -> str:
    if finding not in FINDINGS:
        raise ConfigError(f"finding must be one of {FINDINGS}, got {finding!r}.")
    return str(finding)


def render_ct(
    anatomy: Thorax,
    shape: int | Sequence[int] = 128,
    finding: str = "normal",
    rng: np.random.Generator | None = None,
    *,
    spacing: float | Sequence[float] | None = None,
    noise_hu: float = 10.0,
    nodule_diameter_mm: float | None = None,
    nodule_density_hu: float | None = None,
    nodule_margin_mm: float | None = None,
    return_info: bool = False,
) -> np.ndarray | tuple[np.ndarray, dict[str, Any]]:
    """Render a thorax CT volume of ``anatomy`` in HU with an optional lung finding.

    Args:
        anatomy: the patient (see :func:`sample_thorax`).
        shape: ``(X, Y, Z)`` voxels (or one size for a cube), each in ``[32, 256]``.
        finding: one of ``FINDINGS``; findings only change the voxels of the lung mask.
        rng: generator of the finding (lesion placement and texture); when None one seeded by ``anatomy.seed``.
        spacing: voxel spacing in mm (one value or three); default ``FOV_MM / shape`` per axis.
        noise_hu: standard deviation of the white acquisition noise (HU); its realisation depends only on
            ``anatomy.seed``, so volumes of one patient with different findings differ only inside the lungs.
        nodule_diameter_mm: nodule diameter (finding ``"nodule"``); drawn in ``[8, 20]`` mm when None.
        nodule_density_hu: HU of the nodule; drawn in ``[-50, 80]`` when None.
        nodule_margin_mm: width of the nodule's soft margin; drawn in ``[0.5, 2]`` mm when None.
        return_info: also return a dict with ``finding``, ``spacing``, ``affine``, ``lung_mask`` and ``lesion_mask``
            (bool volumes), ``labels`` (uint8 volume, see ``TISSUE_LABELS``) and the finding's parameters:
            ``nodule_center_voxel`` / ``nodule_center_mm`` (RAS world), ``nodule_diameter_mm``, ``nodule_density_hu``,
            ``nodule_margin_mm``; ``lesions`` (each with ``center_voxel``, ``center_mm``, ``radius_mm``, ``side``,
            ``density``); ``severity``.

    Returns:
        float32 ``(X, Y, Z)`` volume in HU; with ``return_info``, ``(volume, info)``.
    """
    if not isinstance(anatomy, Thorax):
        raise ConfigError(f"anatomy must be a Thorax (see sample_thorax), got {type(anatomy).__name__}.")
    dims = _check_shape(shape)
    sp = phantom_spacing(dims, spacing)
    finding = _check_finding(finding)
    if not 0.0 <= noise_hu <= 200.0:
        raise ConfigError(f"noise_hu must be in [0, 200], got {noise_hu!r}.")
    if rng is None:
        rng = np.random.default_rng([anatomy.seed, 1])
    base = _base(anatomy, dims, sp)
    info: dict[str, Any] = {"finding": finding}
    nodule = {"diameter": nodule_diameter_mm, "density": nodule_density_hu, "margin": nodule_margin_mm}
    delta = _finding_delta(base, finding, rng, nodule, info)
    volume = np.array(base.volume, copy=True)
    lesion_mask = np.zeros(dims, dtype=bool)
    if delta is not None:
        volume.reshape(-1)[base.index] += delta * base.transmit
        lesion_mask.reshape(-1)[base.index] = np.abs(delta) > 0.08 * (_FILL - _LUNG)
    if noise_hu > 0:
        volume += _F32(noise_hu) * np.random.default_rng([anatomy.seed, 2]).standard_normal(dims, dtype=_F32)
    if not return_info:
        return volume
    affine = phantom_affine(dims, sp)

    def to_world(voxel: Sequence[float]) -> tuple[float, ...]:
        return tuple(float(c) for c in (affine @ np.append(np.asarray(voxel, dtype=np.float64), 1.0))[:3])

    if "nodule_center_voxel" in info:
        info["nodule_center_mm"] = to_world(info["nodule_center_voxel"])
    for lesion in info.get("lesions", []):
        voxel = base.grid.to_voxel(np.asarray(lesion.pop("center_mm_body"))[None])[0]
        lesion.update(center_voxel=tuple(float(v) for v in voxel), center_mm=to_world(voxel))
    info.update(
        spacing=sp,
        affine=affine,
        lung_mask=base.lung_mask.copy(),
        lesion_mask=lesion_mask,
        labels=base.labels.copy(),
    )
    return volume, info


def synthetic_ct(
    seed: int,
    shape: int | Sequence[int] = 128,
    finding: str = "normal",
    *,
    return_info: bool = False,
    **options: Any,
) -> np.ndarray | tuple[np.ndarray, dict[str, Any]]:
    """One phantom CT volume: ``seed`` fixes the patient, the noise and the finding's randomness.

    The same seed gives the same patient for every finding, so volumes of one seed differ only inside the lungs.

    Args:
        seed: non-negative integer seed.
        shape: ``(X, Y, Z)`` voxels or one size, each in ``[32, 256]``.
        finding: one of ``FINDINGS``.
        return_info: also return the info dict of :func:`render_ct`.
        options: the keyword options of :func:`render_ct` (``spacing``, ``noise_hu``, ``nodule_*``).
    """
    sequence = np.random.SeedSequence(check_int("seed", seed))
    anatomy_rng, finding_rng = (np.random.default_rng(s) for s in sequence.spawn(2))
    return render_ct(sample_thorax(anatomy_rng), shape, finding, finding_rng, return_info=return_info, **options)


# ----------------------------------------------------------------------------------------------------------------
# preview


def _window(image: np.ndarray, level: float, width: float) -> np.ndarray:
    return np.clip((image - (level - width / 2.0)) / width, 0.0, 1.0).astype(_F32)


def make_ct_montage(
    path: str | os.PathLike, seed: int = 0, size: int = 128, level: float = -600.0, width: float = 1500.0
) -> str:
    """Write a PNG grid of one patient: one row per finding; columns (lung window unless noted): an axial slice
    through the upper lungs, an axial, a coronal and a sagittal slice through the finding (its largest lesion or the
    nodule; fixed cuts for normal lungs and the diffuse viral pattern), and the first axial slice in a soft-tissue
    window (level 40, width 400). Slices are shown as a viewer does: anterior up (axial) and superior up.

    Args:
        path: output PNG.
        seed: patient seed.
        size: phantom size (cube, voxels).
        level, width: the lung window.
    """
    from PIL import Image, ImageDraw

    from monai_xrgan.io.xray import write_png
    from monai_xrgan.visualize import image_grid

    rows = []
    for finding in FINDINGS:
        vol, info = synthetic_ct(seed, size, finding, return_info=True)
        zs = np.flatnonzero(info["lung_mask"].any(axis=(0, 1)))
        k_hi, k_lo = zs[0] + (zs[-1] - zs[0]) * 3 // 5, zs[0] + (zs[-1] - zs[0]) * 3 // 10
        cor, sag = size // 2 + size // 16, size // 2 - size // 5
        lesions = sorted(info.get("lesions", []), key=lambda lesion: -lesion["radius_mm"])
        centre = info.get("nodule_center_voxel") or (lesions[0]["center_voxel"] if lesions else None)
        if centre is not None:  # cut through the finding
            sag, cor, k_lo = (int(np.clip(round(c), 0, n - 1)) for c, n in zip(centre, vol.shape))
        tiles = [vol[:, :, k_hi], vol[:, :, k_lo], vol[:, cor, ::-1], vol[sag, :, ::-1]]
        row = [_window(t, level, width)[None] for t in tiles]
        row.append(_window(vol[:, :, k_hi], 40.0, 400.0)[None])
        rows.append(row)
    grid = image_grid(rows, value_range=(0.0, 1.0), gap=2)
    left, top = 70, 14
    canvas = Image.new("L", (grid.shape[1] + left, grid.shape[0] + top), color=0)
    canvas.paste(Image.fromarray((grid * 255).astype(np.uint8)), (left, top))
    draw = ImageDraw.Draw(canvas)
    for j, title in enumerate(("axial", "axial", "coronal", "sagittal", "soft tissue")):
        draw.text((left + j * (size + 2) + 3, 1), title, fill=255)
    for i, finding in enumerate(FINDINGS):
        draw.text((3, top + i * (size + 2) + size // 2 - 6), finding.replace("_", "\n"), fill=255)
    return str(write_png(path, np.asarray(canvas, dtype=_F32) / 255.0))


def _main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Preview the synthetic thorax CT phantoms.")
    parser.add_argument("--montage", required=True, help="output PNG: rows are the findings")
    parser.add_argument("--seed", type=int, default=0, help="patient seed")
    parser.add_argument("--size", type=int, default=128, help="volume size (voxels per axis)")
    args = parser.parse_args(argv)
    print(make_ct_montage(args.montage, args.seed, args.size))


if __name__ == "__main__":
    _main()
