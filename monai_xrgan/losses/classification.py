"""Cross-entropy of class probabilities, for networks whose classification heads end in a softmax."""

from __future__ import annotations

import torch
import torch.nn.functional as F

__all__ = ["probability_cross_entropy"]

#: Keras' clipping of probabilities in its categorical cross-entropy
_EPS = 1e-7


def probability_cross_entropy(probs: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Mean cross-entropy of class probabilities ``(B, C)`` against class indices ``(B,)``, in float32, with the
    probabilities clipped to ``[1e-7, 1 - 1e-7]`` (Keras' ``CategoricalCrossentropy``, the reference's loss)."""
    return F.nll_loss(torch.log(probs.float().clamp(_EPS, 1.0 - _EPS)), labels.long().view(-1))
