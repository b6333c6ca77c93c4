"""Scores of joint restoration and classification: the classification report as flat engine metrics, and PSNR and
SSIM per degradation type of the inputs."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import torch
from ignite.engine import Engine
from ignite.metrics import Metric
from monai.handlers import from_engine
from monai.metrics import PSNRMetric, SSIMMetric
from monai.utils import CommonKeys

from monai_xrgan.metrics.classification import ClassificationReportHandler
from monai_xrgan.metrics.image import UnitRangePairs
from monai_xrgan.utils.errors import ConfigError

__all__ = ["DEGRADATION_GROUPS", "FlatClassificationReport", "ImageSimilarityByGroup", "degradation_kinds"]

#: degradation types of the per-type breakdown: type -> the :data:`~monai_xrgan.transforms.degradation.DEGRADATIONS`
#: kinds it covers
DEGRADATION_GROUPS = {
    "noise": ("gaussian_noise", "poisson_noise"),
    "blur": ("gaussian_blur", "motion_blur"),
    "overexposure": ("over_exposure",),
    "underexposure": ("under_exposure",),
}


class FlatClassificationReport(ClassificationReportHandler):
    """:class:`~monai_xrgan.metrics.ClassificationReportHandler` of ``probs`` vs ``label`` whose report goes to
    ``engine.state.metrics`` as flat entries named ``<name><key>`` (attach it under a prefix such as ``"val_"``):
    ``accuracy``, ``balanced_accuracy``, ``macro_f1``, ``macro_auc``, per class ``<class>_sensitivity``,
    ``_specificity``, ``_precision``, ``_f1``, ``_auc`` (undefined AUCs are left out) and ``confusion_matrix`` (rows:
    true class). MONAI's stats handlers log and plot the scalars; a nested report would be flattened without its names.

    Args:
        num_classes: number of classes.
        class_names: names of the classes.
    """

    def __init__(self, num_classes: int, class_names: Sequence[str] | None = None) -> None:
        super().__init__(num_classes, class_names, output_transform=from_engine(["probs", CommonKeys.LABEL]))

    def completed(self, engine: Engine, name: str) -> None:
        report = self.compute()
        flat: dict[str, Any] = {k: report[k] for k in ("accuracy", "balanced_accuracy", "macro_f1", "macro_auc")}
        for class_name, entry in report["per_class"].items():
            flat.update({f"{class_name}_{k}": v for k, v in entry.items() if k != "support"})
        flat["confusion_matrix"] = report["confusion_matrix"]
        engine.state.metrics.update({f"{name}{k}": v for k, v in flat.items() if v is not None})


def degradation_kinds(description: str) -> set[str]:
    """The kinds named by a degradation description of the demo datalists
    (:meth:`~monai_xrgan.transforms.degradation.RandDegradation.describe`): ``"motion_blur:3+poisson_noise:2"`` ->
    ``{"motion_blur", "poisson_noise"}``, ``"none"`` or ``""`` -> ``set()``."""
    if not isinstance(description, str):
        raise ConfigError(
            f"a degradation description must be a string like 'motion_blur:3+poisson_noise:2', got {description!r}."
        )
    return {part.split(":")[0].strip() for part in description.split("+") if part.strip() not in ("", "none")}


class ImageSimilarityByGroup(Metric):
    """PSNR and SSIM of ``pred`` vs ``target`` per image on ``[0, 1]`` intensities (as
    :func:`~monai_xrgan.metrics.image.image_similarity_metrics`), averaged over the images of each group: an image
    belongs to group ``g`` when its degradation description (``group`` output) names one of ``groups[g]`` (an image
    with blur and noise counts in both groups). Results go to ``engine.state.metrics`` as ``<prefix>psnr_<g>`` and
    ``<prefix>ssim_<g>``; a group without images is left out. For single-process evaluation (the per-image values are
    not gathered across ranks).

    Args:
        groups: group name -> degradation kinds, default :data:`DEGRADATION_GROUPS`.
        value_range: intensity range of the images.
        pred_key: output key of the image to score (``"image"`` scores the unrestored input).
        target_key: output key of the clean reference.
        group_key: output key of the degradation descriptions.
        prefix: prefix of the metric names, e.g. ``"test_"``.
    """

    def __init__(
        self,
        groups: Mapping[str, Sequence[str]] | None = None,
        value_range: Sequence[float] = (-1.0, 1.0),
        pred_key: str = CommonKeys.PRED,
        target_key: str = "target",
        group_key: str = "group",
        prefix: str = "",
    ) -> None:
        self.prefix = prefix
        self.groups = {str(g): frozenset(kinds) for g, kinds in (groups or DEGRADATION_GROUPS).items()}
        self.pairs = UnitRangePairs(value_range, pred_key, target_key)
        self.select_groups = from_engine(group_key)
        self.psnr, self.ssim = PSNRMetric(max_val=1.0), SSIMMetric(spatial_dims=2, data_range=1.0)
        super().__init__()

    def reset(self) -> None:
        self.records: list[tuple[float, float, set[str]]] = []

    def update(self, output: Any) -> None:
        preds, targets = self.pairs(output)
        descriptions = self.select_groups(output)
        pred, target = torch.stack(preds), torch.stack(targets)
        psnr, ssim = self.psnr(pred, target).view(-1), self.ssim(pred, target).view(-1)
        self.psnr.reset(), self.ssim.reset()
        for p, s, d in zip(psnr.tolist(), ssim.tolist(), descriptions):
            self.records.append((p, s, degradation_kinds(d)))

    def compute(self) -> dict[str, float]:
        results: dict[str, float] = {}
        for group, kinds in self.groups.items():
            members = [(p, s) for p, s, found in self.records if found & kinds]
            if members:
                results[f"psnr_{group}"] = sum(p for p, _ in members) / len(members)
                results[f"ssim_{group}"] = sum(s for _, s in members) / len(members)
        return results

    def completed(self, engine: Engine, name: str) -> None:
        engine.state.metrics.update({f"{self.prefix}{k}": v for k, v in self.compute().items()})
