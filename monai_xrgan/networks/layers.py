"""Small layers shared by the methods' networks."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

__all__ = ["GradientReversalFunction", "gradient_reversal", "GradientReversal"]


class GradientReversalFunction(torch.autograd.Function):
    """Identity in the forward pass; multiplies the incoming gradient by ``-scale`` in the backward pass
    (Ganin & Lempitsky, "Unsupervised Domain Adaptation by Backpropagation", ICML 2015)."""

    @staticmethod
    def forward(ctx: Any, x: torch.Tensor, scale: float) -> torch.Tensor:
        ctx.scale = scale
        return x.view_as(x)

    @staticmethod
    def backward(ctx: Any, grad_output: torch.Tensor) -> tuple[torch.Tensor, None]:
        return grad_output.neg() * ctx.scale, None


def gradient_reversal(x: torch.Tensor, scale: float = 1.0) -> torch.Tensor:
    """Apply :class:`GradientReversalFunction`: ``x`` unchanged, gradients reversed and scaled by ``scale``.

    Args:
        x: any tensor.
        scale: factor of the reversed gradient (``lambda`` of the papers), ``>= 0``.
    """
    if scale < 0:
        raise ValueError(f"gradient reversal scale must be >= 0, got {scale}.")
    return GradientReversalFunction.apply(x, float(scale))


class GradientReversal(nn.Module):
    """Module form of :func:`gradient_reversal`: a network placed after it learns to minimise its loss while
    everything before it receives ``-scale`` times that loss's gradient, i.e. learns to maximise it.

    Args:
        scale: factor of the reversed gradient.
    """

    def __init__(self, scale: float = 1.0) -> None:
        super().__init__()
        if scale < 0:
            raise ValueError(f"gradient reversal scale must be >= 0, got {scale}.")
        self.scale = float(scale)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return gradient_reversal(x, self.scale)

    def extra_repr(self) -> str:
        return f"scale={self.scale}"
