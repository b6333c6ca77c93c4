"""Sampling time of an evaluator's inferer, per image."""

from __future__ import annotations

from typing import Any

from ignite.exceptions import NotComputableError
from ignite.metrics import Metric

__all__ = ["SamplingTime"]


class SamplingTime(Metric):
    """Ignite metric of an evaluator that samples with ``sampler``: seconds of sampling per image.

    Each iteration adds the sampler's ``last_seconds`` (wall-clock on CUDA, CPU time on a CPU, as
    :class:`~monai_xrgan.inferers.DiffusionSampler` measures it) and the number of images under ``pred_key`` of the
    engine output (decollated or not); data loading, metrics and handlers are not counted.

    Args:
        sampler: the evaluator's inferer, with a ``last_seconds`` attribute.
        pred_key: output key of the sampled images.
    """

    def __init__(self, sampler: Any, pred_key: str = "pred") -> None:
        self.sampler, self.pred_key = sampler, pred_key
        super().__init__(output_transform=self._num_images)

    def _num_images(self, output: Any) -> int:
        return len(output) if isinstance(output, list) else len(output[self.pred_key])

    def reset(self) -> None:
        self._seconds, self._images = 0.0, 0

    def update(self, output: int) -> None:
        self._seconds += self.sampler.last_seconds
        self._images += output

    def compute(self) -> float:
        if not self._images:
            raise NotComputableError("SamplingTime needs at least one sampled batch.")
        return self._seconds / self._images
