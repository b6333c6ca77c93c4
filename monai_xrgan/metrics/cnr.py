"""Lesion contrast-to-noise ratio at known positions: does an image (e.g. a restored radiograph) keep a nodule?

``CNR = (mean(core) - mean(background)) / std(background)``, with the core the disc of radius ``core * r`` around
the lesion centre and the background the ring ``ring[0] * r .. ring[1] * r`` around it (``r`` the lesion radius),
which always starts outside the core (for lesions of about a pixel, the core's 1-pixel minimum would reach into it).
Positions are given as fractions of the image size, so they survive resizing: a lesion ``(x, y, r)`` lies at pixel
``(x * W, y * H)`` of a ``(C, W, H)`` image in MONAI's ``(x, y)`` order, with radius ``r * W`` pixels.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from monai.handlers import IgniteMetricHandler, from_engine
from monai.metrics import CumulativeIterationMetric
from monai.metrics.utils import do_metric_reduction
from monai.utils import MetricReduction

from monai_xrgan.utils.errors import ConfigError

__all__ = ["lesion_cnr", "LesionCNRMetric", "lesion_cnr_handler"]


def lesion_cnr(
    images: torch.Tensor,
    lesions: torch.Tensor,
    core: float = 0.5,
    ring: Sequence[float] = (1.5, 2.5),
    min_pixels: float = 1.0,
) -> torch.Tensor:
    """Contrast-to-noise ratio of one lesion per image.

    Args:
        images: ``(B, 1, W, H)`` images (first channel used).
        lesions: ``(B, 3)`` lesion centre ``x, y`` and radius ``r`` as fractions of the image width/height.
        core: radius of the signal disc as a fraction of ``r``.
        ring: inner and outer radius of the background ring as multiples of ``r``.
        min_pixels: the core radius and the ring width are at least this many pixels (small lesions, small images).

    Returns:
        ``(B, 1)`` CNR values (NaN where the background is flat).
    """
    if images.ndim != 4 or lesions.ndim != 2 or lesions.shape[1] != 3 or lesions.shape[0] != images.shape[0]:
        raise ConfigError(
            f"lesion_cnr needs images (B, C, W, H) and lesions (B, 3) as (x, y, radius) fractions, got "
            f"{tuple(images.shape)} and {tuple(lesions.shape)}."
        )
    if not 0 < ring[0] < ring[1]:
        raise ConfigError(f"ring must be (inner, outer) multiples of the radius with 0 < inner < outer, got {ring!r}.")
    b, _, w, h = images.shape
    img = images[:, 0].float()
    lesions = lesions.to(img.device, torch.float32)
    xs = torch.arange(w, device=img.device, dtype=torch.float32)[None, :, None]
    ys = torch.arange(h, device=img.device, dtype=torch.float32)[None, None, :]
    cx, cy = (lesions[:, 0] * w - 0.5)[:, None, None], (lesions[:, 1] * h - 0.5)[:, None, None]
    r = (lesions[:, 2] * w)[:, None, None]
    dist = torch.sqrt((xs - cx) ** 2 + (ys - cy) ** 2)
    core_radius = torch.clamp(core * r, min=min_pixels)
    inside = dist <= core_radius
    inner = torch.maximum(ring[0] * r, core_radius)
    background = ~inside & (dist >= inner) & (dist <= torch.maximum(ring[1] * r, inner + min_pixels))
    n_in, n_bg = inside.sum((1, 2)).clamp_min(1), background.sum((1, 2)).clamp_min(2)
    mean_in = (img * inside).sum((1, 2)) / n_in
    mean_bg = (img * background).sum((1, 2)) / n_bg
    var_bg = (((img - mean_bg[:, None, None]) ** 2) * background).sum((1, 2)) / (n_bg - 1)
    std_bg = var_bg.sqrt()
    cnr = torch.where(std_bg > 0, (mean_in - mean_bg) / std_bg, torch.full_like(std_bg, float("nan")))
    return cnr[:, None]


class LesionCNRMetric(CumulativeIterationMetric):
    """MONAI metric of :func:`lesion_cnr`: ``metric(y_pred=images, y=lesions)``, aggregated with ``reduction``
    (NaN values, from flat backgrounds, are left out of the mean)."""

    def __init__(
        self,
        core: float = 0.5,
        ring: Sequence[float] = (1.5, 2.5),
        reduction: MetricReduction | str = MetricReduction.MEAN,
    ) -> None:
        super().__init__()
        self.core, self.ring, self.reduction = core, tuple(ring), reduction

    def _compute_tensor(self, y_pred: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:  # type: ignore[override]
        if y is None:
            raise ConfigError("LesionCNRMetric needs the lesion positions as `y` ((B, 3) fractions x, y, radius).")
        return lesion_cnr(y_pred, y.reshape(y_pred.shape[0], -1), self.core, self.ring)

    def aggregate(self) -> torch.Tensor:  # type: ignore[override]
        data = self.get_buffer()
        if not isinstance(data, torch.Tensor):
            raise ConfigError("LesionCNRMetric has no data to aggregate; run it on at least one batch first.")
        value, _ = do_metric_reduction(data, self.reduction)
        return value


def lesion_cnr_handler(image_key: str = "pred", lesion_key: str = "label", **kwargs: Any) -> IgniteMetricHandler:
    """Ignite metric handler of :class:`LesionCNRMetric` on an evaluator's output: the images under ``image_key``
    (``"pred"`` for the restored image, ``"image"`` for the input) and the lesions under ``lesion_key``."""
    return IgniteMetricHandler(
        metric_fn=LesionCNRMetric(**kwargs), output_transform=from_engine([image_key, lesion_key])
    )
