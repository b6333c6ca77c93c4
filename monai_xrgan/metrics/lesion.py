"""Where does an image translation change its input? Scores of the change map against known lung and lesion masks.

A translation that adds findings (normal → COVID-19 radiograph) should change its input inside the lung fields and,
there, inside the known opacities rather than elsewhere. With ``Δ = |output − input|`` and a label map (``0`` outside
the lungs, ``1`` lung, ``2`` lesion inside the lungs, as the pix2pix demo pairs' ``mask``):

* ``lung_change_share`` = ``Σ_lungs Δ / Σ_image Δ``: the share of the change that lies in the lung fields;
* ``lesion_contrast`` = ``(m_lesion − m_lung) / (m_lesion + m_lung)``, the Michelson contrast of the mean change
  ``m_lesion`` inside the lesions and ``m_lung`` in the rest of the lungs: ``1`` when only the lesions change, ``0``
  for a change spread evenly over the lungs, ``−1`` when the lesions are left alone and the rest changes.

Both are ratios, so they do not depend on the intensity scale. An unchanged image (``Δ = 0``, e.g. a copy of the
input) has no defined ratio: it gets the floor value ``0`` of both scores (no change in the lungs; no more change in
the lesions than elsewhere), the values an honest translation must beat. An image without a lesion or without lung
outside the lesions also scores ``0`` contrast (nothing to compare).
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

__all__ = ["LESION_SCORES", "LesionChangeMetric", "lesion_change_handler", "lesion_change_scores"]

#: the scores of :func:`lesion_change_scores`, in the order of its output columns
LESION_SCORES = ("lung_change_share", "lesion_contrast")


def _safe_ratio(num: torch.Tensor, den: torch.Tensor) -> torch.Tensor:
    """``num / den``, ``0`` where ``den`` is 0 (the documented floor of an unchanged image)."""
    return torch.where(den > 0, num / den.clamp_min(torch.finfo(den.dtype).tiny), torch.zeros_like(num))


def lesion_change_scores(
    change: torch.Tensor, mask: torch.Tensor, lung_labels: Sequence[int] = (1, 2), lesion_label: int = 2
) -> torch.Tensor:
    """``lung_change_share`` and ``lesion_contrast`` of each image (see the module docstring).

    Args:
        change: ``(B, 1, W, H)`` change maps, e.g. ``output − input`` (their absolute value is used).
        mask: ``(B, 1, W, H)`` label maps of the same images.
        lung_labels: labels of the lung fields (lesions included).
        lesion_label: label of the lesions (inside the lungs).

    Returns:
        ``(B, 2)``: ``lung_change_share``, ``lesion_contrast`` per image.
    """
    if change.ndim != 4 or change.shape[1] != 1 or mask.shape != change.shape:
        raise ConfigError(
            f"lesion scores need change maps and label masks of the same shape (B, 1, W, H), got "
            f"{tuple(change.shape)} and {tuple(mask.shape)}; check the `mask` key of the items."
        )
    delta = change.detach().float().abs().flatten(1)
    labels = mask.detach().to(delta.device).round().long().flatten(1)
    lung = torch.isin(labels, torch.as_tensor(list(lung_labels), device=labels.device))
    lesion = labels == int(lesion_label)
    rest = lung & ~lesion
    share = _safe_ratio((delta * lung).sum(1), delta.sum(1))
    m_lesion = _safe_ratio((delta * lesion).sum(1), lesion.sum(1).float())
    m_rest = _safe_ratio((delta * rest).sum(1), rest.sum(1).float())
    both = (lesion.sum(1) > 0) & (rest.sum(1) > 0)
    contrast = torch.where(both, _safe_ratio(m_lesion - m_rest, m_lesion + m_rest), torch.zeros_like(share))
    return torch.stack([share, contrast], dim=1)


class LesionChangeMetric(CumulativeIterationMetric):
    """MONAI metric of one of :data:`LESION_SCORES`: ``metric(y_pred=change maps, y=label masks)``, mean over images.

    Args:
        score: ``"lung_change_share"`` or ``"lesion_contrast"``.
        lung_labels, lesion_label: labels of the masks, see :func:`lesion_change_scores`.
        reduction: aggregation over images.
    """

    def __init__(
        self,
        score: str = "lesion_contrast",
        lung_labels: Sequence[int] = (1, 2),
        lesion_label: int = 2,
        reduction: MetricReduction | str = MetricReduction.MEAN,
    ) -> None:
        super().__init__()
        if score not in LESION_SCORES:
            raise ConfigError(f"score must be one of {list(LESION_SCORES)}, got {score!r}.")
        self.column = LESION_SCORES.index(score)
        self.lung_labels, self.lesion_label, self.reduction = tuple(lung_labels), int(lesion_label), reduction

    def _compute_tensor(  # type: ignore[override]
        self, y_pred: torch.Tensor, y: torch.Tensor | None = None
    ) -> torch.Tensor:
        if y is None:
            raise ConfigError("LesionChangeMetric needs the label masks as `y`; add a `mask` to the items.")
        scores = lesion_change_scores(y_pred, y, self.lung_labels, self.lesion_label)
        return scores[:, self.column : self.column + 1]

    def aggregate(self) -> torch.Tensor:  # type: ignore[override]
        data = self.get_buffer()
        if not isinstance(data, torch.Tensor):
            raise ConfigError("LesionChangeMetric has no data to aggregate; run it on at least one batch first.")
        value, _ = do_metric_reduction(data, self.reduction)
        return value


class _ChangeAndMask:
    """``output_transform``: ``(changed − reference, mask)`` lists from an evaluator's (decollated) output."""

    def __init__(self, changed_key: str, reference_key: str, mask_key: str) -> None:
        self.select = from_engine([changed_key, reference_key, mask_key])

    def __call__(self, output: Any) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
        changed, reference, masks = self.select(output)
        return [c.float() - r.float() for c, r in zip(changed, reference)], list(masks)


def lesion_change_handler(
    score: str = "lesion_contrast",
    changed_key: str = "pred",
    reference_key: str = "image",
    mask_key: str = "mask",
    **kwargs: Any,
) -> IgniteMetricHandler:
    """Ignite metric handler of :class:`LesionChangeMetric` on an evaluator's output: the change
    ``output[changed_key] − output[reference_key]`` scored against the label masks under ``mask_key`` (same geometry
    as the images). ``"pred"`` − ``"image"`` is what the generator changed, ``"image"`` − ``"image"`` the
    copy-the-input floor, ``"label"`` − ``"image"`` the true change of a paired target."""
    return IgniteMetricHandler(
        metric_fn=LesionChangeMetric(score, **kwargs),
        output_transform=_ChangeAndMask(changed_key, reference_key, mask_key),
    )
