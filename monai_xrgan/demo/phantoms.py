"""Deterministic synthetic frontal (PA) chest radiographs with class-specific findings.

The phantom is an attenuation model: thickness maps of soft tissue, lung air and bone are summed along
the beam (in water-equivalent units where 1 is about 20 cm of tissue) and mapped to display intensity with
a film-like curve ``1 - exp(-(k * exposure * attenuation) ** 2.2)`` and a gamma, so dense is bright (MONOCHROME2).
Everything is vectorised numpy drawn in resolution-independent coordinates: the same seed gives the same patient
at every size. Findings only change the lungs: they fill a fraction of the lung air (ground glass,
consolidation, interstitial pattern) or add a soft-tissue sphere (nodule).

Image coordinates are ``(H, W)`` rows first, head at row 0, patient's right on the image left (the
usual PA display), so the heart lies right of the image centre and the right hemidiaphragm (image left)
is the higher one. Normalised coordinates span ``[-1, 1]`` over a 400 mm field of view.

Run ``python -m monai_xrgan.demo.phantoms --montage docs/images/phantom_montage.png`` for a preview grid.
"""

from __future__ import annotations

import argparse
import functools
import math
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from monai_xrgan.utils.checks import check_int
from monai_xrgan.utils.errors import ConfigError

__all__ = [
    "FINDINGS",
    "MIN_SIZE",
    "MAX_SIZE",
    "Anatomy",
    "Acquisition",
    "STANDARD_ACQUISITION",
    "sample_anatomy",
    "sample_acquisition",
    "render_chest_xray",
    "synthetic_chest_xray",
    "lung_mask",
    "make_montage",
]

FINDINGS = ("normal", "viral_pneumonia", "covid_mild", "covid_severe", "nodule")
MIN_SIZE, MAX_SIZE = 64, 1024
#: millimetres per normalised unit (the image spans 2 units = 400 mm)
MM_PER_UNIT = 200.0
#: film-like display curve ``1 - exp(-(_GAIN * exposure * attenuation) ** _TOE)``: black air, grey lungs, white bone
_GAIN = 1.13
_TOE = 2.2
_F32 = np.float32


#: ``(names, test, what the test requires)`` of the factors checked when a factor record is made
_Bounds = tuple[tuple[tuple[str, ...], Callable[[float], bool], str], ...]


class _Factors:
    """What :class:`Anatomy` and :class:`Acquisition` share: a ``seed``, the factors named by ``FACTOR_NAMES`` and
    the ``BOUNDS`` checked when one is made."""

    FACTOR_NAMES: ClassVar[tuple[str, ...]] = ()
    BOUNDS: ClassVar[_Bounds] = ()

    def __post_init__(self) -> None:
        kind = type(self).__name__
        check_int(f"{kind}.seed", self.seed)  # type: ignore[attr-defined]
        for names, test, requirement in self.BOUNDS:
            for name in names:
                if not test(getattr(self, name)):
                    raise ConfigError(f"{kind}.{name} must be {requirement}, got {getattr(self, name)}.")

    def factors(self) -> np.ndarray:
        """Return the factors named by ``FACTOR_NAMES`` as a float32 vector."""
        return np.array([getattr(self, name) for name in self.FACTOR_NAMES], dtype=_F32)


@dataclass(frozen=True)
class Anatomy(_Factors):
    """Seeded patient factors of one phantom; scales are relative to an average adult (1.0).

    Args:
        seed: seed of the patient's own textures (lung vessels, rib and spine irregularities).
        body_width: lateral scale of the whole body.
        body_height: cranio-caudal scale of the whole body.
        soft_tissue: soft-tissue (habitus) thickness scale.
        lung_width: lateral scale of both lungs inside the thorax.
        lung_height: cranio-caudal scale of both lungs.
        heart_size: scale of the cardiac silhouette.
        heart_shift: lateral shift of the heart (normalised units, + towards the patient's left).
        diaphragm_level: caudal shift of both hemidiaphragms (normalised units, + is lower).
        right_dome_rise: how much higher the right hemidiaphragm dome is than the left one.
        rib_spacing: scale of the vertical spacing of the ribs.
        rib_phase: vertical shift of the rib cage and spine (normalised units).
        breast: soft-tissue shadow over the lower lung zones (0: none, 1: pronounced).
        gastric_bubble: size of the stomach air bubble below the left dome (0: none).
        rotation: in-plane rotation of the patient in degrees (patient position).
        shift_x: horizontal shift of the patient (normalised units, + towards the image right).
        shift_y: vertical shift of the patient (normalised units, + towards the image bottom).
    """

    FACTOR_NAMES: ClassVar[tuple[str, ...]] = ("body_width", "body_height", "rotation", "shift_x", "shift_y")
    BOUNDS: ClassVar[_Bounds] = (
        (("body_width", "body_height", "lung_width", "lung_height", "heart_size", "rib_spacing"),
         lambda v: 0.5 <= v <= 2.0, "a scale in [0.5, 2]"),
    )  # fmt: skip

    seed: int = 0
    body_width: float = 1.0
    body_height: float = 1.0
    soft_tissue: float = 1.0
    lung_width: float = 1.0
    lung_height: float = 1.0
    heart_size: float = 1.0
    heart_shift: float = 0.0
    diaphragm_level: float = 0.0
    right_dome_rise: float = 0.045
    rib_spacing: float = 1.0
    rib_phase: float = 0.0
    breast: float = 0.0
    gastric_bubble: float = 0.5
    rotation: float = 0.0
    shift_x: float = 0.0
    shift_y: float = 0.0


@dataclass(frozen=True)
class Acquisition(_Factors):
    """Style (acquisition) factors of a radiograph, independent of the patient and the finding.

    Args:
        exposure: overall brightness; multiplies the attenuation before the display mapping (> 1 brighter).
        contrast: display gamma (> 1 darkens the mid-tones and stretches the bright ones).
        noise: standard deviation of the quantum-like noise in display units (larger where denser).
        blur: Gaussian blur sigma in pixels of a 256-pixel image (scaled with the image size).
        seed: seed of the noise realisation (combined with the patient's seed).
    """

    FACTOR_NAMES: ClassVar[tuple[str, ...]] = ("exposure", "contrast", "noise", "blur")
    BOUNDS: ClassVar[_Bounds] = ((("exposure", "contrast"), lambda v: v > 0, "> 0"),
                                 (("noise", "blur"), lambda v: v >= 0, ">= 0"))  # fmt: skip

    exposure: float = 1.0
    contrast: float = 1.0
    noise: float = 0.01
    blur: float = 0.4
    seed: int = 0

    @classmethod
    def from_factors(cls, factors: np.ndarray | list[float], seed: int = 0) -> Acquisition:
        """Build an acquisition from a vector ordered like ``FACTOR_NAMES``."""
        values = [float(v) for v in np.asarray(factors, dtype=np.float64).reshape(-1)]
        if len(values) != len(cls.FACTOR_NAMES):
            names = cls.FACTOR_NAMES
            raise ConfigError(f"factors must have {len(names)} values {names}, got {len(values)}.")
        return cls(**dict(zip(cls.FACTOR_NAMES, values)), seed=seed)


#: a well exposed, sharp, low-noise radiograph
STANDARD_ACQUISITION = Acquisition()


def sample_anatomy(rng: np.random.Generator) -> Anatomy:
    """Draw a plausible adult patient (moderate variation of size, organs and position).

    Args:
        rng: the random generator; the same generator state gives the same patient.
    """
    u = rng.uniform
    return Anatomy(
        seed=int(rng.integers(0, 2**31 - 1)),
        body_width=float(_clip(rng.normal(1.0, 0.045), 0.9, 1.1)),
        body_height=float(_clip(rng.normal(1.0, 0.035), 0.92, 1.08)),
        soft_tissue=u(0.88, 1.15),
        lung_width=u(0.9, 1.06),
        lung_height=u(0.9, 1.07),
        heart_size=u(0.85, 1.15),
        heart_shift=u(-0.03, 0.03),
        diaphragm_level=u(-0.08, 0.06),
        right_dome_rise=u(0.02, 0.07),
        rib_spacing=u(0.95, 1.05),
        rib_phase=u(-0.03, 0.03),
        breast=float(u(0.3, 1.0) if rng.random() < 0.45 else 0.0),
        gastric_bubble=float(u(0.3, 1.0) if rng.random() < 0.7 else 0.0),
        rotation=u(-3.0, 3.0),
        shift_x=u(-0.035, 0.035),
        shift_y=u(-0.04, 0.04),
    )


def sample_acquisition(rng: np.random.Generator) -> Acquisition:
    """Draw moderately varied acquisition (style) factors around ``STANDARD_ACQUISITION``.

    Args:
        rng: the random generator.
    """
    return Acquisition(
        exposure=rng.uniform(0.8, 1.25),
        contrast=rng.uniform(0.75, 1.35),
        noise=rng.uniform(0.0, 0.03),
        blur=rng.uniform(0.0, 1.2),
        seed=int(rng.integers(0, 2**31 - 1)),
    )


# ----------------------------------------------------------------------------------------------------------------
# small numerical helpers


def _clip(x: np.ndarray, lo: float, hi: float | None = None) -> np.ndarray:
    """``np.clip`` without its per-call overhead (it dominates on small images)."""
    x = np.maximum(x, lo)
    return x if hi is None else np.minimum(x, hi)


def _smoothstep(e0: float, e1: float, x: np.ndarray | float) -> np.ndarray:
    t = _clip((np.asarray(x, dtype=_F32) - _F32(e0)) / _F32(e1 - e0), 0.0, 1.0)
    return t * t * (3.0 - 2.0 * t)


def _chord(q: np.ndarray) -> np.ndarray:
    """Normalised chord length through an ellipsoid from its squared normalised radius ``q``."""
    return np.sqrt(np.maximum(1.0 - q, 0.0))


def _tube(s: np.ndarray) -> np.ndarray:
    """Profile across a cortical tube (bone with a denser rim) for ``s`` in ``[-1, 1]`` (0 outside)."""
    s2 = s * s
    return _chord(s2) - 0.55 * _chord(s2 / 0.6)


@functools.lru_cache(maxsize=16)
def _spline_matrix(n_out: int, n_in: int) -> np.ndarray:
    """Cubic B-spline interpolation rows mapping a ``n_in`` grid to ``n_out`` samples, unit L2 norm per row."""
    pos = 1.0 + (np.arange(n_out) + 0.5) / n_out * (n_in - 3)
    base = np.floor(pos).astype(np.int64)
    f = pos - base
    weights = np.stack([(1 - f) ** 3, 3 * f**3 - 6 * f**2 + 4, -3 * f**3 + 3 * f**2 + 3 * f + 1, f**3], axis=1) / 6.0
    mat = np.zeros((n_out, n_in))
    rows = np.arange(n_out)[:, None]
    mat[rows, base[:, None] + np.arange(-1, 3)[None, :]] = weights
    mat /= np.linalg.norm(mat, axis=1, keepdims=True)
    mat = mat.astype(_F32)
    mat.setflags(write=False)
    return mat


def _gaussian_blur(image: np.ndarray, sigma: float) -> np.ndarray:
    """Separable Gaussian blur with edge padding (a few shifted sums: cheaper than BLAS at these kernel sizes)."""
    if sigma < 0.05:
        return image
    radius = max(1, int(math.ceil(3.0 * sigma)))
    taps = np.exp(-0.5 * (np.arange(-radius, radius + 1) / sigma) ** 2)
    taps = (taps / taps.sum()).astype(_F32)
    n = image.shape[0]
    for axis in (0, 1):
        padded = np.pad(image, [(radius, radius) if a == axis else (0, 0) for a in (0, 1)], mode="edge")
        out = np.zeros_like(image)
        for k, tap in enumerate(taps):
            out += tap * (padded[k : k + n] if axis == 0 else padded[:, k : k + n])
        image = out
    return image


class _Scene:
    """Pixel grid of one image mapped to body coordinates (pose and body size removed)."""

    def __init__(self, anatomy: Anatomy, size: int):
        self.anatomy = anatomy
        self.size = size
        theta = math.radians(anatomy.rotation)
        self._cos, self._sin = math.cos(theta), math.sin(theta)
        c = (np.arange(size, dtype=np.float64) + 0.5) / size * 2.0 - 1.0
        dx = c[None, :] - anatomy.shift_x
        dy = c[:, None] - anatomy.shift_y
        self.X = ((self._cos * dx + self._sin * dy) / anatomy.body_width).astype(_F32)
        self.Y = ((-self._sin * dx + self._cos * dy) / anatomy.body_height).astype(_F32)
        #: one pixel in body units
        self.px = 2.0 / size / min(anatomy.body_width, anatomy.body_height)

    def to_pixel(self, x: float, y: float) -> tuple[float, float]:
        """Map a body point (x right, y down) to ``(row, col)`` pixel coordinates."""
        a = self.anatomy
        xa, ya = x * a.body_width, y * a.body_height
        xi = self._cos * xa - self._sin * ya + a.shift_x
        yi = self._sin * xa + self._cos * ya + a.shift_y
        return (yi + 1.0) / 2.0 * self.size - 0.5, (xi + 1.0) / 2.0 * self.size - 0.5

    def box(self, x0: float, x1: float, y0: float, y1: float) -> tuple[slice, slice]:
        """Pixel slices covering the body-coordinate box ``[x0, x1] x [y0, y1]``."""
        corners = [self.to_pixel(x, y) for x in (x0, x1) for y in (y0, y1)]
        rows, cols = zip(*corners)
        r0, r1 = max(0, int(math.floor(min(rows))) - 1), min(self.size, int(math.ceil(max(rows))) + 2)
        c0, c1 = max(0, int(math.floor(min(cols))) - 1), min(self.size, int(math.ceil(max(cols))) + 2)
        return slice(r0, max(r0, r1)), slice(c0, max(c0, c1))


def _smooth_noise(rng: np.random.Generator, cells: int, size: int) -> np.ndarray:
    """Unit-variance band-limited noise with about ``cells`` features across the image (size independent)."""
    grid = rng.standard_normal((cells + 3, cells + 3)).astype(_F32)
    m = _spline_matrix(size, cells + 3)
    return m @ grid @ m.T


# ----------------------------------------------------------------------------------------------------------------
# anatomy


@dataclass(frozen=True)
class _Lung:
    """Outline of one lung in body coordinates; ``u`` is the lateral distance from the midline."""

    side: int  # -1: patient's right lung (image left), +1: patient's left lung (image right)
    y_apex: float
    y_base: float  # lateral costophrenic angle
    y_dome: float
    u_apex: float
    u_medial: float
    u_lateral: float
    u_peak: float
    hilum: tuple[float, float]  # (u, y)

    def t(self, y: np.ndarray | float) -> np.ndarray:
        return (np.asarray(y, dtype=_F32) - _F32(self.y_apex)) / _F32(self.y_base - self.y_apex)

    def lateral(self, t: np.ndarray) -> np.ndarray:
        return self.u_apex + (self.u_lateral - self.u_apex) * np.sin(_F32(np.pi / 2) * _clip(t / 0.7, 0, 1)) ** 0.45

    def medial(self, t: np.ndarray) -> np.ndarray:
        return self.u_apex - (self.u_apex - self.u_medial) * np.sin(_F32(np.pi / 2) * _clip(t / 0.2, 0, 1)) ** 0.6

    def diaphragm(self, u: np.ndarray) -> np.ndarray:
        c_lat = (self.y_base - self.y_dome) / (self.u_lateral - self.u_peak) ** 2
        c_med = 0.13 / (self.u_peak - self.u_medial) ** 2
        d = np.asarray(u, dtype=_F32) - _F32(self.u_peak)
        return self.y_dome + np.where(d > 0, _F32(c_lat), _F32(c_med)) * d * d

    def air(self, u: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Air path length through this lung (0 outside), with the posterior recess below the dome."""
        t = self.t(y)
        d_lat = self.lateral(t) - u
        d_med = u - self.medial(t)
        d_dia = self.diaphragm(u) - y
        prof = np.sqrt(_clip(d_lat / 0.16, 0, 1)) * np.sqrt(_clip(d_med / 0.05, 0, 1)) * (t > 0)
        above = _clip(d_dia / 0.008, 0, 1)
        recess = 0.32 * _clip(1.0 + d_dia / 0.1, 0, 1)
        depth = 0.6 + 0.4 * _smoothstep(0.0, 0.55, t)
        return prof * depth * np.maximum(above, recess)

    def point(self, t: float, s: float) -> tuple[float, float]:
        """Body ``(x, y)`` at fractional height ``t`` (apex 0, base 1) and width ``s`` (medial 0, lateral 1)."""
        y = self.y_apex + t * (self.y_base - self.y_apex)
        tt = np.float32(t)
        u = float(self.medial(tt) + s * (self.lateral(tt) - self.medial(tt)))
        return self.side * u, y

    def bounds(self) -> tuple[float, float, float, float]:
        """Body-coordinate box ``(x0, x1, y0, y1)`` enclosing the lung."""
        us = (self.side * 0.0, self.side * (self.u_lateral + 0.02))
        return min(us), max(us), self.y_apex - 0.02, self.y_base + 0.12


def _lungs(a: Anatomy) -> tuple[_Lung, _Lung]:
    lw, lh, dl = a.lung_width, a.lung_height, a.diaphragm_level

    def make(side: int, base: float, dome: float, medial: float, lateral: float, hilum: tuple[float, float]) -> _Lung:
        apex = -0.78 + 0.02 * (side > 0)
        return _Lung(
            side=side,
            y_apex=apex,
            y_base=apex + (base - apex) * lh + dl,
            y_dome=apex + (dome - apex) * lh + dl,
            u_apex=0.3 * lw,
            u_medial=medial,
            u_lateral=lateral * lw,
            u_peak=0.42 * lw,
            hilum=hilum,
        )

    right = make(-1, 0.50, 0.30 - a.right_dome_rise, 0.135, 0.77, (0.17, -0.12))
    left = make(+1, 0.53, 0.32, 0.125, 0.75, (0.18, -0.17))
    return right, left


def _body(scene: _Scene) -> np.ndarray:
    """Soft-tissue path length of trunk, neck, shoulders and the upper arms at the image edges."""
    X, Y = scene.X, scene.Y
    u = np.abs(X)
    half = 0.85 + 0.04 * _smoothstep(-0.4, 0.7, Y) + 0.4 * (1.0 - _smoothstep(-0.68, -0.36, Y))
    trunk = _chord((u / half) ** 2)
    skin_top = -1.0 + 0.25 * _smoothstep(0.22, 1.05, u)  # neck base down to the shoulder tip
    trunk = trunk * np.sqrt(_clip((Y - skin_top) / 0.12, 0, 1))
    neck = 0.7 * _chord((u / 0.28) ** 2) * (1.0 - _smoothstep(-0.85, -0.7, Y))
    arm = 0.6 * _chord(((u - 1.22) / 0.3) ** 2) * np.sqrt(_clip((Y + 0.74) / 0.1, 0, 1))
    arm = arm * (1.0 - _smoothstep(-0.5, -0.15, Y))
    depth = 1.0 + 0.08 * _smoothstep(0.2, 0.9, Y) - 0.1 * (1.0 - _smoothstep(-0.9, -0.5, Y))
    return np.maximum(np.maximum(trunk * depth, neck), arm)


def _mediastinum(scene: _Scene, a: Anatomy) -> np.ndarray:
    """Occupancy (0..1) of the heart and great vessels, which displace lung air in projection."""
    X, Y = scene.X, scene.Y
    s = a.heart_size
    cx, cy = 0.11 + a.heart_shift, 0.19 + 0.6 * a.diaphragm_level
    ang = math.radians(42.0)
    dx, dy = X - cx, Y - cy
    p = (dx * math.cos(ang) + dy * math.sin(ang)) / (0.42 * s)
    q = (-dx * math.sin(ang) + dy * math.cos(ang)) / (0.24 * s)
    lv = _chord(p * p + q * q) ** 0.3
    ra = _chord(((X + 0.1 - a.heart_shift) / (0.12 * s)) ** 2 + ((Y - cy - 0.04) / (0.17 * s)) ** 2) ** 0.35
    knob = _chord(((X - 0.1) / 0.08) ** 2 + ((Y + 0.37) / 0.065) ** 2) ** 0.4
    # pulmonary trunk and left atrial appendage: one gentle convexity between the knob and the ventricle
    pulm = 0.9 * _chord(((X - 0.06 - 0.5 * a.heart_shift) / 0.09) ** 2 + ((Y + 0.14) / 0.14) ** 2) ** 0.4
    desc = 0.5 * _chord(((X - 0.1) / 0.05) ** 2) * _smoothstep(-0.4, -0.3, Y)
    return np.maximum.reduce([lv, ra, knob, pulm, desc])


def _airways(scene: _Scene) -> np.ndarray:
    """Air path length of the trachea and main bronchi."""
    X, Y = scene.X, scene.Y
    carina = (0.0, -0.24)
    trachea = 0.16 * _chord((X / 0.045) ** 2) * (1.0 - _smoothstep(carina[1] - 0.02, carina[1] + 0.01, Y))
    out = trachea
    for end, width in (((-0.15, -0.13), 0.03), ((0.17, -0.15), 0.028)):
        ex, ey = end[0] - carina[0], end[1] - carina[1]
        length2 = ex * ex + ey * ey
        t = _clip(((X - carina[0]) * ex + (Y - carina[1]) * ey) / length2, 0, 1)
        d2 = (X - carina[0] - t * ex) ** 2 + (Y - carina[1] - t * ey) ** 2
        out = np.maximum(out, 0.07 * _chord(d2 / width**2) * (1.0 - 0.6 * t))
    return out


def _vessel_tree(lung: _Lung, rng: np.random.Generator) -> list[np.ndarray]:
    """Branching pulmonary vessels of one lung: per generation, rows ``(x0, y0, x1, y1, half_width)`` in body units."""
    # six trunks leave the hilum; directions in degrees: 0 lateral, -90 up, +90 down
    ang = np.array([-105.0, -60.0, -15.0, 30.0, 62.0, 88.0]) + rng.normal(0.0, 6.0, 6)
    length = rng.uniform(0.15, 0.19, 6)
    width = np.full(6, 0.016)
    u, y = np.full(6, lung.hilum[0]), np.full(6, lung.hilum[1])
    generations = []
    for _ in range(5):
        rad = np.radians(ang)
        u1, y1 = u + length * np.cos(rad), y + length * np.sin(rad)
        generations.append(np.stack([lung.side * u, y, lung.side * u1, y1, width], axis=1))
        n = len(ang)
        spread = rng.uniform(18.0, 34.0, n)
        share = rng.uniform(0.35, 0.65, n)  # asymmetric branching: the larger child turns less
        part = np.stack([share, 1.0 - share], axis=1).reshape(-1)
        sign = np.tile([-1.0, 1.0], n)
        ang = np.repeat(ang, 2) + sign * np.repeat(spread, 2) * (1.2 - part) + rng.normal(0.0, 5.0, 2 * n)
        length = np.repeat(length, 2) * rng.uniform(0.76, 0.9, 2 * n)
        width = np.repeat(width, 2) * (0.62 + 0.2 * part)
        u, y = np.repeat(u1, 2), np.repeat(y1, 2)
    return generations


def _vessels(scene: _Scene, lung: _Lung, rng: np.random.Generator) -> np.ndarray:
    """Projected thickness of the bronchovascular tree of one lung and its hilar shadow (soft-tissue path).

    Segments of one generation are drawn together, each in a same-sized pixel patch around it (gathered with
    fancy indexing and merged with ``np.maximum.at``), so the cost does not grow with a Python loop per segment.
    """
    out = np.zeros((scene.size, scene.size), dtype=_F32)
    aa = (0.6 * scene.px) ** 2
    n = scene.size
    for seg in _vessel_tree(lung, rng):
        x0, y0, x1, y1, w = (seg[:, i, None, None].astype(_F32) for i in range(5))
        r0, c0 = scene.to_pixel(seg[:, 0], seg[:, 1])
        r1, c1 = scene.to_pixel(seg[:, 2], seg[:, 3])
        pad = (3.0 * seg[:, 4] / scene.px + 2.0).max()
        top = np.floor(np.minimum(r0, r1) - pad).astype(np.int64)
        left = np.floor(np.minimum(c0, c1) - pad).astype(np.int64)
        height = int(np.ceil((np.abs(r1 - r0) + 2 * pad).max())) + 1
        width = int(np.ceil((np.abs(c1 - c0) + 2 * pad).max())) + 1
        rows = _clip(top[:, None] + np.arange(height), 0, n - 1)[:, :, None]
        cols = _clip(left[:, None] + np.arange(width), 0, n - 1)[:, None, :]
        X, Y = scene.X[rows, cols], scene.Y[rows, cols]
        ex, ey = x1 - x0, y1 - y0
        t = _clip(((X - x0) * ex + (Y - y0) * ey) / (ex * ex + ey * ey), 0.0, 1.0)
        d2 = (X - x0 - t * ex) ** 2 + (Y - y0 - t * ey) ** 2
        wt = w * (1.0 - 0.25 * t)  # taper along the segment
        w2 = wt * wt + aa
        value = 2.0 * wt * np.sqrt(wt * wt / w2) * np.exp(-d2 / w2)
        np.maximum.at(out, (np.broadcast_to(rows, value.shape), np.broadcast_to(cols, value.shape)), value)
    hu, hy = lung.hilum
    du, dy = lung.side * scene.X - hu, scene.Y - hy
    return out + 0.06 * np.exp(-((du / 0.05) ** 2 + (dy / 0.09) ** 2))


def _patches(
    scene: _Scene, boxes: list[tuple[slice, slice]]
) -> tuple[list[tuple[slice, slice]], np.ndarray, np.ndarray]:
    """Same-sized pixel patches inside the image covering each box, and their body coordinates ``(K, H, W)``.

    Lets a handful of similar structures (the ribs of one side) be computed in one vectorised pass; adding
    ``values[k]`` into ``image[slices[k]]`` is exact because each patch lies inside the image.
    """
    n = scene.size
    height = max(1, max(r.stop - r.start for r, _ in boxes))
    width = max(1, max(c.stop - c.start for _, c in boxes))
    top = np.array([min(r.start, n - height) for r, _ in boxes])
    left = np.array([min(c.start, n - width) for _, c in boxes])
    rows = (top[:, None] + np.arange(height))[:, :, None]
    cols = (left[:, None] + np.arange(width))[:, None, :]
    slices = [(slice(t, t + height), slice(c, c + width)) for t, c in zip(top.tolist(), left.tolist())]
    return slices, scene.X[rows, cols], scene.Y[rows, cols]


def _ribs(scene: _Scene, lungs: tuple[_Lung, _Lung], a: Anatomy, rng: np.random.Generator) -> np.ndarray:
    """Posterior rib arcs (from the spine, arching laterally and down) and anterior arcs (sloping medially down)."""
    bone = np.zeros((scene.size, scene.size), dtype=_F32)
    k = np.arange(12, dtype=np.float64)
    m = np.minimum(k, 5) / 5
    u0 = 0.05
    for lung in lungs:
        jitter = rng.normal(0.0, 0.006, size=(12, 3))
        y0 = -0.86 + a.rib_phase + k * 0.118 * a.rib_spacing * (1.0 + 0.012 * k) + jitter[:, 0]
        reach = 0.86 * (1.0 - 0.6 * np.exp(-k / 1.4)) * a.lung_width**0.5 + jitter[:, 1]
        reach *= np.array([1.0] * 9 + [0.9, 0.7, 0.5])  # the lowest ribs are short
        fall = np.minimum(0.1 + 0.1 * m + 0.04 * np.maximum(0, k - 6), 0.45 * reach)  # lateral turn below origin
        yc = y0 + fall
        u_ant = 0.1 + 0.035 * k + jitter[:, 2]
        drop = 0.2 + 0.08 * m  # anterior end below the lateral turn
        w_post = np.where(k < 9, 1.0, 0.7 - 0.15 * (k - 9))
        w_ant = np.where(k < 6, 1.0, np.where(k < 8, 0.3, 0.0))
        col = lambda v: v.astype(_F32)[:, None, None]  # noqa: E731 - per-rib parameters broadcast over patches
        # posterior halves: steady fall plus a quarter-ellipse turning vertical at the chest wall
        boxes = [
            scene.box(*sorted((0.0, lung.side * (r + 0.05))), y - 0.05, c + 0.03) for r, y, c in zip(reach, y0, yc)
        ]
        slices, X, Y = _patches(scene, boxes)
        lateral, dy = lung.side * X, Y - col(yc)
        v = _clip((lateral - u0) / col(reach - u0), 0.0, 0.98)
        ell = np.sqrt(1.0 - v * v)
        y_post = col(y0) + col(fall) * (0.5 * v**1.3 + 0.5 * (1.0 - ell))
        slope = col(fall / (reach - u0)) * (0.65 * v**0.3 + 0.5 * v / ell)
        dist = np.where(
            lateral > col(reach),
            np.sqrt((lateral - col(reach)) ** 2 + dy * dy),
            (Y - y_post) / np.sqrt(1.0 + slope * slope),
        )
        values = col(0.16 * w_post) * (dy < 0) * _smoothstep(0.04, 0.1, lateral) * _tube(dist / col(0.021 + 0.001 * k))
        for sl, value in zip(slices, values):
            bone[sl] += value
        # anterior halves: y = yc + drop * (1 - w) ** 0.65, vertical at the lateral turn, oblique medially
        keep = np.flatnonzero(w_ant > 0)
        boxes = [
            scene.box(
                *sorted((lung.side * u_ant[i] * 0.8, lung.side * (reach[i] + 0.05))),
                yc[i] - 0.03,
                yc[i] + drop[i] + 0.05,
            )
            for i in keep
        ]
        slices, X, Y = _patches(scene, boxes)
        reach, yc, u_ant, drop = reach[keep], yc[keep], u_ant[keep], drop[keep]
        lateral, dy = lung.side * X, Y - col(yc)
        span = col(reach - u_ant)
        rest = _clip(1.0 - (lateral - col(u_ant)) / span, 0.02, 1.0)
        slope = 0.65 * col(drop) * rest**-0.35 / span
        dist = np.where(
            lateral > col(reach),
            np.sqrt((lateral - col(reach)) ** 2 + dy * dy),
            (dy - col(drop) * rest**0.65) / np.sqrt(1.0 + slope * slope),
        )
        mask = (dy >= 0) * _smoothstep(0.0, 1.0, (lateral - col(u_ant) + 0.02) / 0.05)
        values = col(0.08 * w_ant[keep]) * mask * _tube(dist / col(0.025 + 0.001 * k[keep]))
        for sl, value in zip(slices, values):
            bone[sl] += value
    return bone


def _clavicles_and_shoulders(scene: _Scene, a: Anatomy) -> np.ndarray:
    """Clavicles, humeral heads and shafts, acromion and a faint scapular outline."""
    X, Y = scene.X, scene.Y
    u = np.abs(X)
    y_med, y_lat, u_med, u_lat = -0.62 + a.rib_phase, -0.74, 0.08, 0.74
    s = _clip((u - u_med) / (u_lat - u_med), 0, 1)
    centre = y_med + (y_lat - y_med) * s + 0.015 * np.sin(2 * np.pi * s)
    slope = (y_lat - y_med) / (u_lat - u_med)
    half = (0.042 - 0.012 * np.sin(np.pi * s)) * np.sqrt(_clip((u - u_med + 0.01) / 0.05, 0.05, 1))  # round end
    sc = (Y - centre) / half / math.sqrt(1 + slope * slope)
    clav = _chord(sc * sc) - 0.3 * _chord(sc * sc / 0.6)
    clav *= _smoothstep(u_med - 0.03, u_med + 0.01, u) * (1.0 - _smoothstep(u_lat - 0.01, u_lat + 0.03, u))
    head_q = ((u - 0.985) / 0.125) ** 2 + ((Y + 0.63) / 0.13) ** 2
    head = _chord(head_q) * 0.7 + 0.35 * np.exp(-(((np.sqrt(head_q) - 1.0) / 0.06) ** 2)) * (head_q < 1.3)
    shaft = _tube((u - 1.0) / 0.07) * _smoothstep(-0.6, -0.5, Y)
    acromion = 0.6 * _chord(((u - 0.84) / 0.1) ** 2 + ((Y + 0.77) / 0.03) ** 2)
    # scapula: lateral border ridge from the glenoid down to the inferior angle, and a faint blade
    t = _clip((Y + 0.6) / 0.62, 0, 1)
    border = 0.86 - 0.22 * t
    scap = 0.25 * _tube((u - border) / 0.018) * (Y > -0.6) * (Y < 0.02)
    scap += (
        0.06
        * _smoothstep(border - 0.3, border - 0.05, u)
        * (1 - _smoothstep(border - 0.01, border, u))
        * (_smoothstep(-0.62, -0.5, Y) * (1 - _smoothstep(-0.05, 0.02, Y)))
    )
    return 0.3 * clav + 0.35 * np.maximum(head, shaft) + 0.2 * acromion + 0.15 * scap


def _spine(scene: _Scene, a: Anatomy) -> np.ndarray:
    """Thoracic vertebral bodies with end plates and disc spaces, pedicles and spinous processes."""
    X, Y = scene.X, scene.Y
    period = 0.118 * a.rib_spacing
    phase = (Y - (-0.83 + a.rib_phase - 0.35 * period)) / period
    f = phase - np.floor(phase)  # 0..1 within one vertebra (disc at the ends)
    half = 0.085 + 0.02 * _smoothstep(-0.8, 0.6, Y)
    body = _chord((X / half) ** 2) * (0.65 + 0.35 * _smoothstep(0.06, 0.14, f) * (1 - _smoothstep(0.86, 0.94, f)))
    plates = (
        0.35 * (np.exp(-(((f - 0.13) / 0.03) ** 2)) + np.exp(-(((f - 0.87) / 0.03) ** 2))) * _chord((X / half) ** 2)
    )
    ped_q = ((np.abs(X) - 0.68 * half) / (0.22 * half)) ** 2 + ((f - 0.38) / 0.16) ** 2
    pedicle = np.exp(-(((np.sqrt(ped_q) - 0.9) / 0.3) ** 2))
    spinous = _chord((X / 0.016) ** 2 + ((f - 0.72) / 0.2) ** 2)
    return 0.1 * body + 0.03 * plates + 0.02 * pedicle + 0.03 * spinous


# ----------------------------------------------------------------------------------------------------------------
# findings (fractions of lung air replaced by fluid / tissue)


def _check_size(size: Any) -> int:
    if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or not MIN_SIZE <= size <= MAX_SIZE:
        raise ConfigError(f"size must be an integer in [{MIN_SIZE}, {MAX_SIZE}], got {size!r}.")
    return int(size)


def _check_finding(finding: Any) -> str:
    if finding not in FINDINGS:
        raise ConfigError(f"finding must be one of {FINDINGS}, got {finding!r}.")
    return str(finding)


def _viral(scene: _Scene, lungs: tuple[_Lung, _Lung], rng: np.random.Generator, info: dict) -> np.ndarray:
    """Diffuse bilateral interstitial pattern: reticular network, peribronchial streaks, perihilar haze."""
    severity = float(rng.uniform(0.85, 1.35))
    n1 = _smooth_noise(rng, 36, scene.size)
    n2 = _smooth_noise(rng, 80, scene.size)
    net = np.exp(-((n1 / 0.35) ** 2)) + 0.5 * np.exp(-((n2 / 0.35) ** 2))
    streak_noise = _smooth_noise(rng, 12, scene.size)
    fill = np.zeros_like(scene.X)
    for lung in lungs:
        sl = scene.box(*lung.bounds())
        X, Y = scene.X[sl], scene.Y[sl]
        du, dy = lung.side * X - lung.hilum[0], Y - lung.hilum[1]
        r = np.sqrt(du * du + dy * dy) + 1e-6
        theta = np.arctan2(dy, du)
        phase = 33 * theta + 2.5 * streak_noise[sl]
        d = np.abs(phase - 2 * np.pi * np.floor(phase / (2 * np.pi) + 0.5)) / 33 * r
        streaks = np.exp(-((d / 0.008) ** 2)) * (1 - _smoothstep(0.2, 0.5, r))
        perihilar = np.exp(-((r / 0.3) ** 2))
        weight = (0.55 + 0.45 * _smoothstep(-0.4, 0.3, Y)) * (X * lung.side > 0)
        fill[sl] += weight * (0.2 * net[sl] * (0.6 + 0.6 * perihilar) + 0.1 * streaks + 0.28 * perihilar + 0.05)
    info["severity"] = severity
    return _clip(severity * fill, 0.0, 0.7)


def _covid(scene: _Scene, lungs: tuple[_Lung, _Lung], rng: np.random.Generator, severe: bool, info: dict) -> np.ndarray:
    """Multifocal, peripheral and basal ground-glass opacities; severe ones are larger and consolidate."""
    n = int(rng.integers(5, 9) if severe else rng.integers(2, 5))
    first_side = int(rng.integers(0, 2))
    margin = _smooth_noise(rng, 9, scene.size)
    mottle = _smooth_noise(rng, 30, scene.size)
    clear = np.ones_like(scene.X)
    lesions = []
    for i in range(n):
        side = (first_side + i) % 2 if (severe or i < 2) else int(rng.integers(0, 2))
        lung = lungs[side]
        t = float(rng.beta(2.6, 1.3) * 0.6 + 0.38)
        s = float(rng.uniform(0.58, 0.95))
        cx, cy = lung.point(t, s)
        radius = float(rng.uniform(0.13, 0.22) if severe else rng.uniform(0.07, 0.13))
        aspect = float(rng.uniform(1.0, 1.7))  # elongated along the chest wall
        density = float(rng.uniform(0.5, 0.7) if severe else rng.uniform(0.32, 0.46))
        sl = scene.box(cx - 2.5 * radius, cx + 2.5 * radius, cy - 2.5 * radius * aspect, cy + 2.5 * radius * aspect)
        X, Y = scene.X[sl], scene.Y[sl]
        g = np.exp(-(((X - cx) / radius) ** 2 + ((Y - cy) / (radius * aspect)) ** 2) + 0.35 * margin[sl])
        g = _clip(g, 0.0, 1.0) ** 0.7
        opacity = density * g * (0.85 + 0.15 * mottle[sl])
        if severe:
            opacity = opacity + 0.35 * _smoothstep(0.6, 0.95, g) * float(rng.uniform(0.4, 1.0))
        clear[sl] *= 1.0 - _clip(opacity, 0.0, 0.92)
        row, col = scene.to_pixel(cx, cy)
        lesions.append({"center": (row, col), "radius_px": radius / scene.px, "side": "right" if side == 0 else "left"})
    fill = 1.0 - clear
    if severe:
        base = sum(
            (0.2 * _smoothstep(-0.2, 0.35, scene.Y) * _smoothstep(0.2, 0.5, scene.X * lung.side)) for lung in lungs
        )
        fill = 1.0 - (1.0 - fill) * (1.0 - base)
    info["lesions"] = lesions
    return fill


def _nodule(
    scene: _Scene, lungs: tuple[_Lung, _Lung], rng: np.random.Generator, diameter_mm: float | None, info: dict
) -> np.ndarray:
    """One round soft-tissue nodule (sphere chord with a soft margin) in a lung field away from the heart."""
    diameter = float(rng.uniform(12.0, 22.0)) if diameter_mm is None else float(diameter_mm)
    if not 2.0 <= diameter <= 60.0:
        raise ConfigError(f"nodule_diameter_mm must be in [2, 60], got {diameter_mm!r}.")
    lung = lungs[int(rng.integers(0, 2))]
    t = float(rng.uniform(0.2, 0.72))
    s = float(rng.uniform(0.35, 0.8) if lung.side < 0 else rng.uniform(0.5, 0.85))
    cx, cy = lung.point(t, s)
    radius = diameter / 2.0 / MM_PER_UNIT / scene.anatomy.body_width
    sl = scene.box(cx - 2 * radius, cx + 2 * radius, cy - 2 * radius, cy + 2 * radius)
    r2 = ((scene.X[sl] - cx) ** 2 + (scene.Y[sl] - cy) ** 2) / radius**2
    margin = 0.5 * (1.0 - np.tanh((np.sqrt(r2) - 1.0) / 0.15))
    out = np.zeros_like(scene.X)
    out[sl] = 4.4 * radius * _chord(r2 * 0.85) ** 0.7 * margin  # denser than a plain sphere, to be visible
    row, col = scene.to_pixel(cx, cy)
    info.update(nodule_center=(row, col), nodule_diameter_mm=diameter, nodule_diameter_px=diameter / 400.0 * scene.size)
    return out


# ----------------------------------------------------------------------------------------------------------------
# rendering


def _lung_air(scene: _Scene, lungs: tuple[_Lung, _Lung]) -> np.ndarray:
    air = np.zeros_like(scene.X)
    for lung in lungs:
        sl = scene.box(*lung.bounds())
        air[sl] = np.maximum(air[sl], lung.air(lung.side * scene.X[sl], scene.Y[sl]))
    return air


@dataclass(frozen=True)
class _Layers:
    """Finding-independent path-length maps of one patient at one size (read-only, cached)."""

    scene: _Scene
    lungs: tuple[_Lung, _Lung]
    tissue: np.ndarray  # soft-tissue path (body, vessels, breasts) minus airways and stomach air
    air_loss: np.ndarray  # path removed by the lung air (a finding fills a fraction of it back)
    inside: np.ndarray  # lung fields
    bone: np.ndarray


@functools.lru_cache(maxsize=2)
def _anatomy_layers(anatomy: Anatomy, size: int) -> _Layers:
    """Draw the patient once per size, so that images of one patient with several findings share the work."""
    scene = _Scene(anatomy, size)
    lungs = _lungs(anatomy)
    texture = np.random.default_rng([anatomy.seed, 0])
    X, Y = scene.X, scene.Y
    air = _lung_air(scene, lungs)
    occupied = _mediastinum(scene, anatomy)
    tissue = anatomy.soft_tissue * _body(scene)
    for lung in lungs:
        tissue += 4.0 * _vessels(scene, lung, texture) * _clip(air / 0.25, 0, 1) * (1.0 - 0.6 * occupied)
    tissue -= _airways(scene)
    if anatomy.gastric_bubble > 0:
        level = float(lungs[1].diaphragm(np.float32(0.42))) + 0.1  # air-fluid level of the upright stomach
        q = ((X - 0.4) / (0.08 * anatomy.gastric_bubble + 0.02)) ** 2 + ((Y - level) / 0.065) ** 2
        tissue -= 0.22 * _chord(q) * _smoothstep(0.0, 0.006, level - Y)
    if anatomy.breast > 0:
        for side in (-1, 1):
            q = ((X - side * 0.52) / 0.36) ** 2 + ((Y - 0.38) / 0.28) ** 2
            tissue += 0.12 * anatomy.breast * _chord(q) ** 0.6
    bone = _ribs(scene, lungs, anatomy, texture) + _clavicles_and_shoulders(scene, anatomy) + _spine(scene, anatomy)
    layers = _Layers(scene, lungs, tissue, 0.53 * air * (1.0 - 0.8 * occupied), air > 0, bone)
    for arr in (tissue, layers.air_loss, layers.inside, bone):
        arr.setflags(write=False)
    return layers


def lung_mask(anatomy: Anatomy, size: int) -> np.ndarray:
    """Boolean ``(size, size)`` mask of the lung fields (including the posterior recesses below the domes).

    Args:
        anatomy: the patient.
        size: image size in pixels, in ``[MIN_SIZE, MAX_SIZE]``.
    """
    return _anatomy_layers(anatomy, _check_size(size)).inside.copy()


def render_chest_xray(
    anatomy: Anatomy,
    size: int,
    finding: str = "normal",
    acquisition: Acquisition | None = None,
    rng: np.random.Generator | None = None,
    *,
    nodule_diameter_mm: float | None = None,
    return_info: bool = False,
) -> np.ndarray | tuple[np.ndarray, dict[str, Any]]:
    """Render a frontal (PA) chest radiograph of ``anatomy`` with an optional finding.

    Args:
        anatomy: the patient (see :func:`sample_anatomy`).
        size: height and width in pixels, in ``[64, 1024]``.
        finding: one of ``FINDINGS``; findings only change the lung fields.
        acquisition: style factors, ``STANDARD_ACQUISITION`` when None. The noise realisation depends
            on ``anatomy.seed`` and ``acquisition.seed`` only, so the same patient and acquisition with
            different findings differ only inside the lungs.
        rng: random generator of the finding (lesion placement and texture); when None one seeded by
            ``anatomy.seed`` is used.
        nodule_diameter_mm: nodule diameter (finding ``"nodule"``), drawn in ``[12, 22]`` mm when None.
        return_info: also return a dict with ``finding``, ``lung_mask`` and the finding's parameters
            (``nodule_center`` as ``(row, col)`` pixels, ``nodule_diameter_px``; ``lesions``; ``severity``;
            ``opacity``: the fraction of lung air the viral or COVID-19 finding replaces, ``(size, size)`` in
            ``[0, 1]``, zero outside the lungs).

    Returns:
        float32 ``(size, size)`` image in ``[0, 1]``, bright is dense; with ``return_info``, ``(image, info)``.
    """
    size = _check_size(size)
    finding = _check_finding(finding)
    acq = STANDARD_ACQUISITION if acquisition is None else acquisition
    if rng is None:
        rng = np.random.default_rng([anatomy.seed, 1])
    layers = _anatomy_layers(anatomy, size)
    scene, lungs = layers.scene, layers.lungs
    info: dict[str, Any] = {"finding": finding}
    fill = extra = None
    if finding == "viral_pneumonia":
        fill = _viral(scene, lungs, rng, info)
    elif finding in ("covid_mild", "covid_severe"):
        fill = _covid(scene, lungs, rng, finding == "covid_severe", info)
    elif finding == "nodule":
        extra = _nodule(scene, lungs, rng, nodule_diameter_mm, info)
    water = layers.tissue - (layers.air_loss if fill is None else layers.air_loss * (1.0 - fill))
    if extra is not None:
        water = water + extra * layers.inside
    attenuation = _clip(water, 0.0, None) + layers.bone

    image = 1.0 - np.exp(-(((_GAIN * acq.exposure) * attenuation) ** _TOE))
    image = _clip(image, 0.0, 1.0) ** acq.contrast
    image = _gaussian_blur(image, acq.blur * size / 256.0)
    if acq.noise > 0:
        noise_rng = np.random.default_rng([anatomy.seed, acq.seed, 2])
        grain = noise_rng.standard_normal((size, size), dtype=_F32)
        image = image + acq.noise * (0.4 + 0.6 * image) * grain
    image = _clip(image, 0.0, 1.0).astype(_F32)
    if return_info:
        info["lung_mask"] = layers.inside.copy()
        if fill is not None:
            info["opacity"] = (fill * layers.inside).astype(_F32)
        return image, info
    return image


def synthetic_chest_xray(
    seed: int, size: int = 256, finding: str = "normal", acquisition: Acquisition | None = None
) -> np.ndarray:
    """One phantom radiograph: ``seed`` fixes the patient and the finding's randomness.

    The same seed gives the same patient for every finding, so images of one seed differ only by the finding.

    Args:
        seed: non-negative integer seed.
        size: height and width in pixels, in ``[64, 1024]``.
        finding: one of ``FINDINGS``.
        acquisition: style factors, ``STANDARD_ACQUISITION`` when None.
    """
    sequence = np.random.SeedSequence(check_int("seed", seed))
    anatomy_rng, finding_rng = (np.random.default_rng(s) for s in sequence.spawn(2))
    return render_chest_xray(sample_anatomy(anatomy_rng), size, finding, acquisition, finding_rng)


def make_montage(path: str | os.PathLike, seeds: tuple[int, ...] = (0, 1), size: int = 256, labels: bool = True) -> str:
    """Write a PNG grid of :func:`synthetic_chest_xray` images: one column per finding, one row per patient seed.

    Args:
        path: output PNG.
        seeds: patient seeds, one row each.
        size: tile size in pixels.
        labels: write the finding names in a strip above the columns.
    """
    from PIL import Image, ImageDraw

    from monai_xrgan.io.xray import write_png

    size = _check_size(size)
    gap, strip = 4, (16 if labels else 0)
    cols = len(FINDINGS)
    grid = np.ones((strip + len(seeds) * (size + gap) - gap, cols * (size + gap) - gap), dtype=_F32)
    if labels:
        text = Image.new("L", (grid.shape[1], strip), color=0)
        draw = ImageDraw.Draw(text)
        for j, finding in enumerate(FINDINGS):
            draw.text((j * (size + gap) + 4, 2), finding, fill=255)
        grid[:strip] = np.asarray(text, dtype=_F32) / 255.0
    for i, seed in enumerate(seeds):
        for j, finding in enumerate(FINDINGS):
            r, c = strip + i * (size + gap), j * (size + gap)
            grid[r : r + size, c : c + size] = synthetic_chest_xray(seed, size, finding)
    return str(write_png(path, grid))


def _main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Preview the synthetic chest radiograph phantoms.")
    parser.add_argument("--montage", required=True, help="output PNG: columns are the findings, rows patients")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1], help="patient seeds, one row each")
    parser.add_argument("--size", type=int, default=256, help="tile size in pixels")
    parser.add_argument("--no-labels", action="store_true", help="leave out the finding names above the columns")
    args = parser.parse_args(argv)
    print(make_montage(args.montage, tuple(args.seeds), args.size, labels=not args.no_labels))


if __name__ == "__main__":
    _main()
