"""Digitally reconstructed radiographs (DRRs) from CT volumes, and random lung-nodule insertion before projection.

Stage 0 of DiffusionXRay: HU -> linear attenuation ``mu = mu_water * (1 + HU / 1000)`` (clipped at 0) -> parallel-beam
line integral along the antero-posterior axis (sum x voxel spacing) -> Beer-Lambert transmission
``I = exp(-line integral)`` -> a radiograph-like display (bones bright) -> resampling to the output size. Everything
is one vectorised torch expression per step (a 256^3 volume projects to a 256^2 DRR in about 0.15 s on 2 CPU cores).

Geometry: volumes are ``(1, X, Y, Z)`` in the order :class:`~monai_xrgan.transforms.LoadCT` returns by default and
the phantoms of :mod:`monai_xrgan.demo.ct_phantoms` use (``X`` from the patient's right to left, ``Y`` from anterior
to posterior, ``Z`` from inferior to superior). The beam runs along ``Y`` and the DRR is a ``(1, W, H)`` image in
MONAI's ``(x, y)`` order: ``x`` follows ``X`` (the patient's right on the viewer's left, the PA display) and ``y``
runs from the head down (``Z`` reversed), so that :class:`~monai_xrgan.transforms.SaveXRay` or
:func:`monai_xrgan.io.xray.write_png` (of ``image[0].T``) show it the right way up.

Nodules (:class:`RandInsertNoduled`, :func:`insert_random_nodule`) are drawn with
:func:`monai_xrgan.transforms.nodules.insert_nodule` inside the lungs, away from the pleura; their centre (voxels) is
returned with the data, and :class:`ProjectDRRd` turns it into the DRR pixel where the nodule projects.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from monai.config import KeysCollection
from monai.data import MetaTensor
from monai.transforms import MapTransform, Randomizable, Transform

from monai_xrgan.transforms.nodules import insert_nodule
from monai_xrgan.utils.errors import ConfigError, InputFileError

__all__ = [
    "WATER_ATTENUATION",
    "water_attenuation",
    "hu_to_attenuation",
    "lung_mask_from_hu",
    "DRRLayout",
    "ProjectDRR",
    "ProjectDRRd",
    "insert_random_nodule",
    "RandInsertNoduled",
]

#: mass attenuation coefficient of water (cm^2/g, NIST XCOM, coherent scattering included) by photon energy (keV)
WATER_ATTENUATION = {20.0: 0.8096, 30.0: 0.3756, 40.0: 0.2683, 50.0: 0.2269, 60.0: 0.2059, 80.0: 0.1837,
                     100.0: 0.1707, 150.0: 0.1505}  # fmt: skip
_MAPPINGS = ("log", "transmission")


def water_attenuation(energy_kev: float) -> float:
    """Linear attenuation coefficient of water in 1/mm at an effective photon energy (log-log interpolation of
    :data:`WATER_ATTENUATION`, density 1 g/cm^3).

    Args:
        energy_kev: effective energy of the beam in keV, in ``[20, 150]`` (about 60 keV for a 120 kVp chest beam).
    """
    energies = sorted(WATER_ATTENUATION)
    if not energies[0] <= energy_kev <= energies[-1]:
        raise ConfigError(f"energy_kev must be in [{energies[0]:g}, {energies[-1]:g}] keV, got {energy_kev!r}.")
    log_mu = np.interp(math.log(energy_kev), np.log(energies), np.log([WATER_ATTENUATION[e] for e in energies]))
    return float(math.exp(log_mu)) / 10.0


def hu_to_attenuation(hu: torch.Tensor, mu_water: float) -> torch.Tensor:
    """Linear attenuation ``mu_water * (1 + HU / 1000)``, clipped at 0 (air and anything below it attenuate nothing)."""
    return (hu * (mu_water / 1000.0) + mu_water).clamp_min(0.0)


def lung_mask_from_hu(volume: torch.Tensor, threshold_hu: float = -500.0) -> torch.Tensor:
    """Air inside the body: voxels below ``threshold_hu`` enclosed by denser tissue along ``X`` and ``Y`` within their
    axial slice (so the air around the patient is excluded).

    Args:
        volume: ``(X, Y, Z)`` HU volume.
        threshold_hu: the lung/tissue boundary.
    """
    tissue = volume >= threshold_hu
    enclosed = torch.ones_like(tissue)
    for dim in (0, 1):
        n = tissue.shape[dim]
        index = torch.arange(n).view([-1 if d == dim else 1 for d in range(3)])
        first = tissue.to(torch.uint8).argmax(dim, keepdim=True)
        last = n - 1 - tissue.flip(dim).to(torch.uint8).argmax(dim, keepdim=True)
        enclosed &= tissue.any(dim, keepdim=True) & (index >= first) & (index <= last)
    return enclosed & ~tissue


def _spacing_of(volume: torch.Tensor, spacing: Sequence[float] | None, where: str) -> tuple[float, float, float]:
    if spacing is None and isinstance(volume, MetaTensor):
        spacing = [float(s) for s in volume.pixdim[:3]]
    if spacing is None:
        raise ConfigError(f"{where}: the volume carries no spacing; pass `spacing` (mm) or load it with LoadCTd.")
    values = tuple(float(s) for s in spacing)
    if len(values) != 3 or not all(math.isfinite(s) and s > 0 for s in values):
        raise ConfigError(f"{where}: spacing must be 3 positive values in mm, got {spacing!r}.")
    return values  # type: ignore[return-value]


def _as_volume(volume: Any, where: str) -> torch.Tensor:
    data = torch.as_tensor(volume.as_tensor() if isinstance(volume, MetaTensor) else volume)
    if data.ndim == 4 and data.shape[0] == 1:
        data = data[0]
    if data.ndim != 3 or min(data.shape) < 2:
        raise InputFileError(f"{where}: expected a CT volume (1, X, Y, Z) or (X, Y, Z), got shape {tuple(data.shape)}.")
    return data.float()


@dataclass(frozen=True)
class DRRLayout:
    """Where the ``(X, Z)`` grid of a volume lands in a DRR: resampled to ``size`` pixels (aspect kept from the
    spacing), padded by ``pad`` pixels to ``out`` and flipped so the head is at the top.

    Args:
        native: ``(X, Z)`` voxels of the volume.
        size: ``(W, H)`` pixels of the resampled projection.
        pad: ``(left, top)`` padding in pixels.
        out: ``(W, H)`` of the DRR.
        pixel_mm: ``(x, y)`` pixel spacing of the DRR in mm.
    """

    native: tuple[int, int]
    size: tuple[int, int]
    pad: tuple[int, int]
    out: tuple[int, int]
    pixel_mm: tuple[float, float]

    @classmethod
    def of(cls, shape: Sequence[int], spacing: Sequence[float], spatial_size: int | None) -> DRRLayout:
        """Layout of a volume of ``shape`` ``(X, Y, Z)`` and ``spacing`` for a DRR whose longest side is
        ``spatial_size`` (``None``: the native ``(X, Z)`` grid)."""
        nx, nz = int(shape[0]), int(shape[2])
        sx, sz = float(spacing[0]), float(spacing[2])
        if spatial_size is None:
            return cls((nx, nz), (nx, nz), (0, 0), (nx, nz), (sx, sz))
        side = int(spatial_size)
        mm = max(nx * sx, nz * sz) / side
        size = (max(1, round(nx * sx / mm)), max(1, round(nz * sz / mm)))
        pad = ((side - size[0]) // 2, (side - size[1]) // 2)
        return cls((nx, nz), size, pad, (side, side), (nx * sx / size[0], nz * sz / size[1]))

    def to_pixel(self, center_voxel: Sequence[float]) -> tuple[float, float]:
        """DRR pixel ``(x, y)`` (continuous, MONAI order) where a point at voxel ``(i, j, k)`` projects."""
        x = (float(center_voxel[0]) + 0.5) * self.size[0] / self.native[0] - 0.5 + self.pad[0]
        y = (self.native[1] - 0.5 - float(center_voxel[2])) * self.size[1] / self.native[1] - 0.5 + self.pad[1]
        return x, y

    def to_pixels(self, length_mm: float) -> float:
        """A length along ``x`` in DRR pixels."""
        return float(length_mm) / self.pixel_mm[0]


class ProjectDRR(Transform):
    """Project a HU volume ``(1, X, Y, Z)`` to a frontal DRR ``(1, W, H)`` (see the module docstring for the axes).

    Args:
        energy_kev: effective beam energy that sets ``mu_water`` (:func:`water_attenuation`), default 60 keV.
        mu_water: linear attenuation of water in 1/mm; overrides ``energy_kev`` when given.
        mapping: display of the transmission ``I = exp(-p)`` of the line integral ``p``: ``"log"`` shows
            ``-ln I = p`` (the log-converted detector signal, bones bright), ``"transmission"`` shows ``1 - I``.
        spatial_size: longest side of the DRR in pixels (the aspect of the field of view is kept and the short side
            padded with air to a square); ``None`` keeps the native ``(X, Z)`` grid.
        normalize: min-max scale each DRR to ``[0, 1]``; otherwise the mapped values are returned as they are.
        gamma: display exponent applied after normalisation (``> 1`` darkens the mid-tones).
    """

    def __init__(
        self,
        energy_kev: float = 60.0,
        mu_water: float | None = None,
        mapping: str = "log",
        spatial_size: int | None = None,
        normalize: bool = True,
        gamma: float = 1.0,
    ) -> None:
        if mapping not in _MAPPINGS:
            raise ConfigError(f"mapping must be one of {_MAPPINGS}, got {mapping!r}.")
        if spatial_size is not None and (
            isinstance(spatial_size, bool) or int(spatial_size) != spatial_size or spatial_size < 2
        ):
            raise ConfigError(f"spatial_size must be None or an integer >= 2, got {spatial_size!r}.")
        if mu_water is not None and not mu_water > 0:
            raise ConfigError(f"mu_water must be > 0 (1/mm), got {mu_water!r}.")
        if not gamma > 0:
            raise ConfigError(f"gamma must be > 0, got {gamma!r}.")
        self.mu_water = float(mu_water) if mu_water is not None else water_attenuation(energy_kev)
        self.mapping = mapping
        self.spatial_size = None if spatial_size is None else int(spatial_size)
        self.normalize = normalize
        self.gamma = float(gamma)

    def layout(self, shape: Sequence[int], spacing: Sequence[float]) -> DRRLayout:
        """The :class:`DRRLayout` of a volume of ``shape`` ``(X, Y, Z)``."""
        return DRRLayout.of(shape, spacing, self.spatial_size)

    def line_integral(self, volume: torch.Tensor, spacing: Sequence[float]) -> torch.Tensor:
        """``p(x, z) = sum_y mu(x, y, z) * dy`` of an ``(X, Y, Z)`` HU volume: an ``(X, Z)`` map."""
        return hu_to_attenuation(volume, self.mu_water).sum(dim=1) * float(spacing[1])

    def __call__(self, volume: Any, spacing: Sequence[float] | None = None) -> MetaTensor:
        """Project ``volume`` (HU); ``spacing`` (mm) defaults to the MetaTensor's."""
        where = f"{volume.meta.get('filename_or_obj', 'volume')}" if isinstance(volume, MetaTensor) else "volume"
        sp = _spacing_of(volume, spacing, where)
        hu = _as_volume(volume, where)
        p = self.line_integral(hu, sp)
        image = p if self.mapping == "log" else 1.0 - torch.exp(-p)  # Beer-Lambert transmission I = exp(-p)
        layout = self.layout(hu.shape, sp)
        if layout.size != layout.native:
            shrink = layout.size[0] < layout.native[0] or layout.size[1] < layout.native[1]
            image = F.interpolate(image[None, None], size=layout.size, mode="area" if shrink else "bilinear",
                                  **({} if shrink else {"align_corners": False}))[0, 0]  # fmt: skip
        image = image.flip(-1)  # head at the top
        if layout.out != layout.size:
            left, top = layout.pad
            right, bottom = layout.out[0] - layout.size[0] - left, layout.out[1] - layout.size[1] - top
            image = F.pad(image, (top, bottom, left, right))  # air: nothing attenuated in either mapping
        if self.normalize:
            lo, hi = image.min(), image.max()
            image = (image - lo) / (hi - lo) if hi > lo else torch.zeros_like(image)
        if self.gamma != 1.0:
            image = image.clamp_min(0.0) ** self.gamma
        affine = torch.diag(torch.tensor([layout.pixel_mm[0], layout.pixel_mm[1], 1.0, 1.0], dtype=torch.float64))
        meta = {k: volume.meta[k] for k in ("filename_or_obj",) if isinstance(volume, MetaTensor) and k in volume.meta}
        return MetaTensor(image[None].contiguous(), affine=affine, meta=meta)


class ProjectDRRd(MapTransform):
    """Dictionary version of :class:`ProjectDRR`, which also projects the labels of inserted nodules.

    For each ``prefix`` of ``label_prefixes`` whose ``{prefix}_center_voxel`` is in the data (as written by
    :class:`RandInsertNoduled`), ``{prefix}_center`` (DRR pixel ``(x, y)``) and, when ``{prefix}_diameter_mm`` is
    present, ``{prefix}_diameter`` (pixels) are added, in the geometry of the first key's DRR.

    Args:
        keys: keys of the HU volumes to project (replaced by their DRRs).
        label_prefixes: prefixes of the nodule labels to project.
        spacing: voxel spacing in mm for volumes without metadata.
        kwargs: the arguments of :class:`ProjectDRR`.
        allow_missing_keys: don't raise when a key is missing.
    """

    def __init__(
        self,
        keys: KeysCollection,
        label_prefixes: Sequence[str] = ("nodule",),
        spacing: Sequence[float] | None = None,
        allow_missing_keys: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(keys, allow_missing_keys)
        self.projector = ProjectDRR(**kwargs)
        self.label_prefixes = tuple(label_prefixes)
        self.spacing = spacing

    def __call__(self, data: Mapping[Hashable, Any]) -> dict[Hashable, Any]:
        d = dict(data)
        layout = None
        for key in self.key_iterator(d):
            volume = d[key]
            sp = _spacing_of(volume, self.spacing, f"{key}")
            if layout is None:
                layout = self.projector.layout(_as_volume(volume, f"{key}").shape, sp)
            d[key] = self.projector(volume, sp)
        for prefix in self.label_prefixes:
            if layout is None or f"{prefix}_center_voxel" not in d:
                continue
            d[f"{prefix}_center"] = torch.tensor(layout.to_pixel(d[f"{prefix}_center_voxel"]), dtype=torch.float32)
            if f"{prefix}_diameter_mm" in d:
                d[f"{prefix}_diameter"] = torch.tensor(layout.to_pixels(float(d[f"{prefix}_diameter_mm"])))
        return d


def _draw(rng: np.random.Generator, name: str, value: float | Sequence[float]) -> float:
    """A value, or a uniform draw from a ``(low, high)`` range."""
    if isinstance(value, (int, float)):
        return float(value)
    low, high = (float(v) for v in value)
    if not low <= high:
        raise ConfigError(f"{name} must be a value or a (low, high) range, got {value!r}.")
    return float(rng.uniform(low, high))


def _erode(mask: torch.Tensor, reach: Sequence[int]) -> torch.Tensor:
    """Erosion of a boolean ``(X, Y, Z)`` mask by a box of half-widths ``reach`` (one 1-D min-filter per axis)."""
    out = mask[None, None].float()
    for axis, r in enumerate(reach):
        kernel, padding = [1, 1, 1], [0, 0, 0]
        kernel[axis], padding[axis] = 2 * r + 1, r
        out = -F.max_pool3d(-out, kernel, stride=1, padding=padding)
    return out[0, 0] > 0.5


def insert_random_nodule(
    volume: torch.Tensor | np.ndarray,
    spacing: Sequence[float],
    rng: np.random.Generator,
    lung_mask: torch.Tensor | np.ndarray | None = None,
    diameter_mm: float | Sequence[float] = (4.0, 30.0),
    density_hu: float | Sequence[float] = (-100.0, 100.0),
    margin_mm: float | Sequence[float] = (0.5, 2.0),
    lobulation: float | Sequence[float] = (0.0, 0.3),
    pleura_distance_mm: float = 10.0,
    lung_threshold_hu: float = -500.0,
) -> tuple[np.ndarray, dict[str, Any]]:
    """Insert one nodule of random size, density, margin and lobulation at a random place inside the lungs.

    The centre is drawn uniformly among the lung voxels at least ``radius + pleura_distance_mm`` from the lung
    boundary (the mask eroded by a box of that half-width), or at least ``radius`` from it when no such voxel exists.

    Args:
        volume: ``(X, Y, Z)`` HU volume.
        spacing: voxel spacing in mm.
        rng: random generator of every draw.
        lung_mask: boolean ``(X, Y, Z)`` lung mask; default :func:`lung_mask_from_hu` (air enclosed by the body).
        diameter_mm, density_hu, margin_mm, lobulation: values or ``(low, high)`` ranges (DiffusionXRay: 4-30 mm,
            -100 to +100 HU, a soft margin, a sphere or a lobulated blob).
        pleura_distance_mm: clearance from the lung boundary beyond the radius.
        lung_threshold_hu: threshold of the default lung mask.

    Returns:
        ``(volume, label)``: a float32 copy with the nodule, and ``center_voxel`` (continuous ``(i, j, k)``),
        ``diameter_mm``, ``density_hu``, ``margin_mm``, ``lobulation``.
    """
    hu = torch.as_tensor(volume, dtype=torch.float32)
    mask = lung_mask_from_hu(hu, lung_threshold_hu) if lung_mask is None else torch.as_tensor(lung_mask).bool()
    if tuple(mask.shape) != tuple(hu.shape):
        raise ConfigError(f"lung_mask has shape {tuple(mask.shape)} but the volume has {tuple(hu.shape)}.")
    label = {
        "diameter_mm": _draw(rng, "diameter_mm", diameter_mm),
        "density_hu": _draw(rng, "density_hu", density_hu),
        "margin_mm": _draw(rng, "margin_mm", margin_mm),
        "lobulation": _draw(rng, "lobulation", lobulation),
    }
    radius = label["diameter_mm"] / 2.0
    candidates = None
    for clearance in (radius + pleura_distance_mm, radius):
        candidates = torch.nonzero(_erode(mask, [max(1, math.ceil(clearance / s)) for s in spacing]))
        if len(candidates):
            break
    if candidates is None or not len(candidates):
        raise InputFileError(
            f"no lung region of {label['diameter_mm']:.1f} mm or more in the volume (lung mask of {int(mask.sum())} "
            "voxels); give a CT that shows the lungs, a smaller diameter_mm, or a lung_mask."
        )
    centre = candidates[int(rng.integers(0, len(candidates)))].tolist()
    out, _ = insert_nodule(
        hu.numpy(), spacing, centre, label["diameter_mm"], label["density_hu"], label["margin_mm"],
        label["lobulation"], rng=rng, within=mask.numpy(),
    )  # fmt: skip
    label["center_voxel"] = tuple(float(c) for c in centre)
    return out, label


#: the options of :func:`insert_random_nodule` that :class:`RandInsertNoduled` passes on
_NODULE_OPTIONS = ("diameter_mm", "density_hu", "margin_mm", "lobulation", "pleura_distance_mm", "lung_threshold_hu")


class RandInsertNoduled(Randomizable, MapTransform):
    """Insert a random lung nodule into a HU volume before projection and return where it is.

    The volume under ``keys`` (one key, ``(1, X, Y, Z)``, e.g. from :class:`~monai_xrgan.transforms.LoadCTd`) gets one
    nodule (:func:`insert_random_nodule`); the label is added as ``{prefix}_center_voxel`` (float32 ``(3,)``),
    ``{prefix}_diameter_mm``, ``{prefix}_density_hu``, ``{prefix}_margin_mm`` and ``{prefix}_lobulation``, which
    :class:`ProjectDRRd` turns into DRR pixels.

    Args:
        keys: key of the HU volume.
        lung_mask_key: key of a lung mask (same shape); default the HU rule of :func:`lung_mask_from_hu`.
        prefix: prefix of the label keys.
        spacing: voxel spacing in mm for volumes without metadata.
        options: the nodule's ``diameter_mm``, ``density_hu``, ``margin_mm``, ``lobulation``, ``pleura_distance_mm``
            and ``lung_threshold_hu``, as in :func:`insert_random_nodule` (its defaults for those not given).
    """

    def __init__(
        self,
        keys: KeysCollection,
        lung_mask_key: str | None = None,
        prefix: str = "nodule",
        spacing: Sequence[float] | None = None,
        **options: Any,
    ) -> None:
        MapTransform.__init__(self, keys)
        if len(self.keys) != 1:
            raise ConfigError(f"RandInsertNoduled takes the key of one volume, got {list(self.keys)}.")
        unknown = sorted(set(options) - set(_NODULE_OPTIONS))
        if unknown:
            raise TypeError(f"RandInsertNoduled got unexpected keyword arguments {unknown}; the nodule options are "
                            f"{', '.join(_NODULE_OPTIONS)}.")  # fmt: skip
        self.lung_mask_key = lung_mask_key
        self.prefix = prefix
        self.options = options
        self.spacing = spacing
        self._seed = 0

    def randomize(self, data: Any = None) -> None:
        self._seed = int(self.R.randint(0, 2**31 - 1))

    def __call__(self, data: Mapping[Hashable, Any]) -> dict[Hashable, Any]:
        d = dict(data)
        self.randomize()
        key = self.keys[0]
        volume = d[key]
        mask = None if self.lung_mask_key is None else _as_volume(d[self.lung_mask_key], self.lung_mask_key) > 0.5
        spacing = _spacing_of(volume, self.spacing, f"{key}")
        out, label = insert_random_nodule(_as_volume(volume, f"{key}"), spacing, np.random.default_rng(self._seed),
                                          mask, **self.options)  # fmt: skip
        tensor = torch.from_numpy(out)[None]
        d[key] = MetaTensor(tensor, meta=dict(volume.meta)) if isinstance(volume, MetaTensor) else tensor
        d[f"{self.prefix}_center_voxel"] = torch.tensor(label["center_voxel"], dtype=torch.float32)
        for name in ("diameter_mm", "density_hu", "margin_mm", "lobulation"):
            d[f"{self.prefix}_{name}"] = float(label[name])
        return d
