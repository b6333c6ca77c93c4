"""WGAN-GP gradient penalty (Gulrajani et al. 2017), as StarGAN computes it."""

from __future__ import annotations

from collections.abc import Callable

import torch

__all__ = ["gradient_penalty"]


def gradient_penalty(
    critic: Callable[[torch.Tensor], torch.Tensor],
    real: torch.Tensor,
    fake: torch.Tensor,
    scaler: torch.amp.GradScaler | None = None,
    eps: float = 1e-12,
) -> torch.Tensor:
    """``mean((||d critic(x_hat) / d x_hat||_2 - 1)^2)`` at ``x_hat = a * real + (1 - a) * fake``, ``a ~ U(0, 1)``
    drawn per sample (from the global torch generator).

    The gradient is taken with ``create_graph=True``, so the returned penalty back-propagates into the critic's
    parameters; ``fake`` is detached. Scores are summed over the critic's output (a patch map gives the gradient of
    its sum, as the reference's ``grad_outputs=ones``).

    Args:
        critic: maps images to critic scores (e.g. ``lambda x: discriminator(x)[0]``); it may run under autocast.
        real: real images ``(B, ...)``.
        fake: generated images of the same shape.
        scaler: the training's ``GradScaler``; when it is enabled (float16 autocast) the scores are scaled before
            differentiation and the gradient unscaled after, so that small gradients do not underflow.
        eps: added under the square root, so that the penalty's gradient is finite at a zero gradient.
    """
    if real.shape != fake.shape:
        raise ValueError(f"real and fake must have the same shape, got {list(real.shape)} and {list(fake.shape)}.")
    alpha = torch.rand((real.shape[0],) + (1,) * (real.dim() - 1), device=real.device, dtype=real.dtype)
    x_hat = (alpha * real.detach() + (1.0 - alpha) * fake.detach()).requires_grad_(True)
    score = critic(x_hat).float().sum()
    scaled = scaler is not None and scaler.is_enabled()
    (grad,) = torch.autograd.grad(scaler.scale(score) if scaled else score, x_hat, create_graph=True)
    grad = grad.float()
    if scaled:
        grad = grad / scaler.get_scale()
    norm = torch.sqrt(grad.reshape(grad.shape[0], -1).square().sum(dim=1) + eps)
    return (norm - 1.0).square().mean()
