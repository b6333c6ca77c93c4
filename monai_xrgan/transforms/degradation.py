"""Blind degradations of radiographs (R2C-GAN's poor-quality domain): noise, blur and exposure faults at 5 severities.

Six kinds (:data:`DEGRADATIONS`), each with 5 severity levels (:data:`SEVERITY_LEVELS`, 1 mild ... 5 severe):

==================  =====================================================================================
``gaussian_noise``  additive white noise, std 0.02 ... 0.10 (MONAI's ``RandGaussianNoise``)
``poisson_noise``   quantum noise ``Poisson(n * x) / n``, ``n`` = 1000 ... 50 quanta per unit intensity
``gaussian_blur``   Gaussian blur, sigma 0.75 ... 3.5 pixels (MONAI's ``separable_filtering``, reflected borders)
``motion_blur``     a straight motion streak of 5 ... 17 pixels at a random angle (MONAI's ``apply_filter``)
``over_exposure``   washed out: ``min(1, gain * x^gamma)`` with gain 1.05 ... 1.25, gamma 0.9 ... 0.5
``under_exposure``  too dark: ``gain * x^gamma`` with gain 0.95 ... 0.75, gamma 1.3 ... 3.0
==================  =====================================================================================

Blur sizes are given for a 256-pixel image and scale with the image's longest side, so a severity looks the same at
every resolution. Images are channel-first with intensities in ``[0, 1]`` (bright is dense), the range
:class:`~monai_xrgan.transforms.LoadXRay` produces; results are clipped to ``[0, 1]``.

:class:`Degradation` applies one kind at one severity; :class:`RandDegradation` draws a blind mixture as in the
paper: one to ``num_degradations`` different kinds (never over- and under-exposure together), each at a random
severity, applied in acquisition order (exposure, then blur, then noise). The dictionary versions apply the same
draw, noise realisation included, to every key. Everything is seeded through MONAI's ``set_random_state``.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Mapping, Sequence
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from monai.config import KeysCollection
from monai.data import MetaTensor
from monai.data.meta_obj import get_track_meta
from monai.networks.layers import apply_filter, gaussian_1d, separable_filtering
from monai.transforms import MapTransform, RandGaussianNoise, Randomizable, RandomizableTransform, Transform
from monai.utils import TransformBackends, convert_to_dst_type, convert_to_tensor

from monai_xrgan.utils.errors import ConfigError

__all__ = [
    "DEGRADATIONS",
    "SEVERITY_LEVELS",
    "SEVERITY_PARAMETERS",
    "REFERENCE_SIZE",
    "degrade",
    "Degradation",
    "Degradationd",
    "RandDegradation",
    "RandDegradationd",
]

#: degradation kinds, in the order they are applied (exposure, blur, noise: the order of an acquisition)
DEGRADATIONS = ("over_exposure", "under_exposure", "gaussian_blur", "motion_blur", "gaussian_noise", "poisson_noise")
SEVERITY_LEVELS = 5
#: image side (pixels) the blur sizes are given for
REFERENCE_SIZE = 256
#: parameters of each kind at severities 1..5
SEVERITY_PARAMETERS: dict[str, tuple[Any, ...]] = {
    "gaussian_noise": (0.02, 0.04, 0.06, 0.08, 0.10),  # standard deviation
    "poisson_noise": (1000.0, 400.0, 200.0, 100.0, 50.0),  # quanta per unit intensity
    "gaussian_blur": (0.75, 1.25, 1.75, 2.5, 3.5),  # sigma, pixels of a 256-pixel image
    "motion_blur": (5.0, 7.0, 9.0, 13.0, 17.0),  # streak length, pixels of a 256-pixel image
    "over_exposure": ((1.05, 0.9), (1.1, 0.8), (1.15, 0.7), (1.2, 0.6), (1.25, 0.5)),  # (gain, gamma)
    "under_exposure": ((0.95, 1.3), (0.9, 1.6), (0.85, 2.0), (0.8, 2.5), (0.75, 3.0)),  # (gain, gamma)
}
_CONFLICTS = {"over_exposure": "under_exposure", "under_exposure": "over_exposure"}


def _check_kind(kind: Any) -> str:
    if kind not in DEGRADATIONS:
        raise ConfigError(f"degradation kind must be one of {DEGRADATIONS}, got {kind!r}.")
    return kind


def _check_severity(severity: Any) -> int:
    if (
        isinstance(severity, bool)
        or not isinstance(severity, (int, np.integer))
        or not 1 <= severity <= SEVERITY_LEVELS
    ):
        raise ConfigError(f"severity must be an integer in [1, {SEVERITY_LEVELS}], got {severity!r}.")
    return int(severity)


def _check_range(name: str, value: int | Sequence[int], upper: int) -> tuple[int, int]:
    """``(low, high)`` integers with ``1 <= low <= high <= upper`` from an integer or a pair."""
    pair = (value, value) if isinstance(value, (int, np.integer)) and not isinstance(value, bool) else tuple(value)
    if len(pair) != 2 or any(isinstance(v, bool) or not isinstance(v, (int, np.integer)) for v in pair):
        raise ConfigError(f"{name} must be an integer or a (low, high) pair of integers, got {value!r}.")
    low, high = int(pair[0]), int(pair[1])
    if not 1 <= low <= high <= upper:
        raise ConfigError(f"{name} must satisfy 1 <= low <= high <= {upper}, got {value!r}.")
    return low, high


def _motion_kernel(length: float, angle: float) -> torch.Tensor:
    """A normalised, anti-aliased line of ``length`` pixels through the centre at ``angle`` degrees."""
    half = int(math.ceil(length / 2))
    grid = torch.arange(-half, half + 1, dtype=torch.float32)
    y, x = torch.meshgrid(grid, grid, indexing="ij")
    direction = torch.tensor([math.cos(math.radians(angle)), math.sin(math.radians(angle))])
    along = x * direction[0] + y * direction[1]
    across = -x * direction[1] + y * direction[0]
    kernel = (1.0 - across.abs()).clamp(min=0) * (length / 2 + 0.5 - along.abs()).clamp(0, 1)
    return kernel / kernel.sum()


def degrade(img: torch.Tensor, kind: str, severity: int, seed: int = 0) -> torch.Tensor:
    """Apply one degradation to a channel-first ``[0, 1]`` image tensor; the result is clipped to ``[0, 1]``.

    Args:
        img: float tensor ``(C, H, W)``.
        kind: one of :data:`DEGRADATIONS`.
        severity: level in ``[1, SEVERITY_LEVELS]``, see :data:`SEVERITY_PARAMETERS`.
        seed: seed of the random part (noise realisation, motion direction); the same seed gives the same result.
    """
    param = SEVERITY_PARAMETERS[_check_kind(kind)][_check_severity(severity) - 1]
    scale = max(img.shape[1:]) / REFERENCE_SIZE
    if kind in ("over_exposure", "under_exposure"):
        gain, gamma = param
        out = gain * img.clamp(min=0) ** gamma  # MONAI's AdjustContrast rescales to the image's own range, which would
        # undo a global exposure change
    elif kind == "gaussian_blur":
        sigma = torch.tensor(param * scale)
        kernel = gaussian_1d(sigma, normalize=True).to(img)
        out = separable_filtering(img[None], [kernel, kernel], mode="reflect")[0]
    elif kind == "motion_blur":
        angle = float(np.random.default_rng(seed).uniform(0.0, 180.0))
        kernel = _motion_kernel(param * scale, angle).to(img)
        pad = kernel.shape[-1] // 2
        out = apply_filter(F.pad(img[None], (pad,) * 4, mode="reflect"), kernel, padding=0)[0]
    elif kind == "gaussian_noise":
        noise = RandGaussianNoise(prob=1.0, std=param, sample_std=False, dtype=np.float32)
        out = noise.set_random_state(seed=seed)(img)
    else:  # poisson_noise
        generator = torch.Generator(device=img.device).manual_seed(seed)
        out = torch.poisson(img.clamp(min=0) * param, generator=generator) / param
    return out.clamp(0.0, 1.0)


def _apply(img: Any, steps: Sequence[tuple[str, int, int]]) -> torch.Tensor:
    """Run :func:`degrade` ``steps`` on ``img`` (array or tensor); returns a float32 tensor (a MetaTensor with the
    input's metadata when metadata is tracked)."""
    img = convert_to_tensor(img, track_meta=get_track_meta(), dtype=torch.float32)
    out = img.as_tensor() if isinstance(img, MetaTensor) else img
    for kind, severity, seed in steps:
        out = degrade(out, kind, severity, seed)
    result, *_ = convert_to_dst_type(out, img)
    return result


class Degradation(Randomizable, Transform):
    """Degrade a channel-first ``[0, 1]`` image with one ``kind`` at one ``severity`` (see :func:`degrade`).

    The random part (noise realisation, motion direction) is drawn from the transform's random state, seeded with
    ``set_random_state``.

    Args:
        kind: one of :data:`DEGRADATIONS`.
        severity: level in ``[1, SEVERITY_LEVELS]``.
    """

    backend = [TransformBackends.TORCH]

    def __init__(self, kind: str, severity: int = 3) -> None:
        self.kind = _check_kind(kind)
        self.severity = _check_severity(severity)
        self.seed = 0

    def randomize(self, data: Any = None) -> None:
        self.seed = int(self.R.randint(0, 2**31 - 1))

    def __call__(self, img: Any, randomize: bool = True) -> Any:
        """Degrade ``img`` (array or tensor; a float32 tensor comes back, with the metadata of a MetaTensor input);
        ``randomize=False`` repeats the last random draw."""
        if randomize:
            self.randomize()
        return _apply(img, [(self.kind, self.severity, self.seed)])


class RandDegradation(RandomizableTransform):
    """Blind degradation: a random mixture of :data:`DEGRADATIONS`, as the poor-quality radiographs of R2C-GAN.

    With probability ``prob``, draw how many kinds to apply (uniform in ``num_degradations``), which ones (distinct,
    uniform among ``kinds``, never over- and under-exposure together) and a severity for each (uniform in
    ``severity``); apply them in acquisition order (exposure, blur, noise). The last draw is in :attr:`steps` as
    ``(kind, severity, seed)`` triples and :meth:`describe` names it (e.g. ``"motion_blur:3+poisson_noise:2"``).

    Args:
        prob: probability of degrading an image at all.
        kinds: kinds to draw from, default all.
        num_degradations: number of kinds per image, an integer or a ``(low, high)`` range.
        severity: severity of each kind, an integer or a ``(low, high)`` range in ``[1, SEVERITY_LEVELS]``.
    """

    backend = Degradation.backend

    def __init__(
        self,
        prob: float = 1.0,
        kinds: Sequence[str] = DEGRADATIONS,
        num_degradations: int | Sequence[int] = (1, 3),
        severity: int | Sequence[int] = (1, SEVERITY_LEVELS),
    ) -> None:
        RandomizableTransform.__init__(self, prob)
        self.kinds = tuple(_check_kind(k) for k in kinds)
        if not self.kinds or len(set(self.kinds)) != len(self.kinds):
            raise ConfigError(f"kinds must be distinct degradation kinds from {DEGRADATIONS}, got {list(kinds)}.")
        most = len([k for k in self.kinds if k != "under_exposure" or "over_exposure" not in self.kinds])
        self.num_degradations = _check_range("num_degradations", num_degradations, most)
        self.severity = _check_range("severity", severity, SEVERITY_LEVELS)
        self.steps: list[tuple[str, int, int]] = []

    def randomize(self, data: Any = None) -> None:
        super().randomize(None)
        self.steps = []
        if not self._do_transform:
            return
        count = int(self.R.randint(self.num_degradations[0], self.num_degradations[1] + 1))
        chosen: list[str] = []
        for index in self.R.permutation(len(self.kinds)):
            kind = self.kinds[index]
            if len(chosen) < count and _CONFLICTS.get(kind) not in chosen:
                chosen.append(kind)
        for kind in sorted(chosen, key=DEGRADATIONS.index):
            severity = int(self.R.randint(self.severity[0], self.severity[1] + 1))
            self.steps.append((kind, severity, int(self.R.randint(0, 2**31 - 1))))

    def describe(self) -> str:
        """The last draw as ``"kind:severity+..."`` (``"none"`` when the image was left alone)."""
        return "+".join(f"{kind}:{severity}" for kind, severity, _ in self.steps) or "none"

    def __call__(self, img: Any, randomize: bool = True) -> Any:
        """Degrade ``img`` (array or tensor; a float32 tensor comes back, with the metadata of a MetaTensor input);
        ``randomize=False`` repeats the last draw, noise realisations included."""
        if randomize:
            self.randomize()
        return _apply(img, self.steps)


class Degradationd(Randomizable, MapTransform):
    """Dictionary version of :class:`Degradation`: the same degradation and random draw for every key.

    Args:
        keys: keys of the images to degrade.
        kind: one of :data:`DEGRADATIONS`.
        severity: level in ``[1, SEVERITY_LEVELS]``.
        allow_missing_keys: don't raise when a key is missing.
    """

    backend = Degradation.backend

    def __init__(self, keys: KeysCollection, kind: str, severity: int = 3, allow_missing_keys: bool = False) -> None:
        MapTransform.__init__(self, keys, allow_missing_keys)
        self.degradation = Degradation(kind, severity)

    def set_random_state(self, seed: int | None = None, state: np.random.RandomState | None = None) -> Degradationd:
        super().set_random_state(seed, state)
        self.degradation.set_random_state(seed, state)
        return self

    def randomize(self, data: Any = None) -> None:
        self.degradation.randomize()

    def __call__(self, data: Mapping[Hashable, Any]) -> dict[Hashable, Any]:
        d = dict(data)
        self.randomize()
        for key in self.key_iterator(d):
            d[key] = self.degradation(d[key], randomize=False)
        return d


class RandDegradationd(RandomizableTransform, MapTransform):
    """Dictionary version of :class:`RandDegradation`: one draw per call, applied to every key.

    Args:
        keys: keys of the images to degrade.
        prob, kinds, num_degradations, severity: see :class:`RandDegradation`.
        allow_missing_keys: don't raise when a key is missing.
    """

    backend = Degradation.backend

    def __init__(
        self,
        keys: KeysCollection,
        prob: float = 1.0,
        kinds: Sequence[str] = DEGRADATIONS,
        num_degradations: int | Sequence[int] = (1, 3),
        severity: int | Sequence[int] = (1, SEVERITY_LEVELS),
        allow_missing_keys: bool = False,
    ) -> None:
        MapTransform.__init__(self, keys, allow_missing_keys)
        RandomizableTransform.__init__(self, prob)
        self.degradation = RandDegradation(1.0, kinds, num_degradations, severity)

    def set_random_state(self, seed: int | None = None, state: np.random.RandomState | None = None) -> RandDegradationd:
        super().set_random_state(seed, state)
        self.degradation.set_random_state(seed, state)
        return self

    def __call__(self, data: Mapping[Hashable, Any]) -> dict[Hashable, Any]:
        d = dict(data)
        self.randomize(None)
        if self._do_transform:
            self.degradation.randomize()
        else:
            self.degradation.steps = []
        for key in self.key_iterator(d):
            d[key] = self.degradation(d[key], randomize=False)
        return d
