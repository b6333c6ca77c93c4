"""Scores of generated images read by a classifier trained on real images, so that nothing is downloaded.

* :func:`frechet_distance`: the Fréchet distance between Gaussians fitted to two sets of feature vectors, the
  formula of FID (Heusel et al. 2017). FID proper uses ImageNet Inception-v3 features; here the features are the
  penultimate activations (the input of the last linear layer) of a classifier trained on the real training images,
  e.g. :func:`monai_xrgan.workflows.train_classifier`'s ResNet. Values are comparable only between runs that use the
  same classifier and the same numbers of images.
* :func:`condition_accuracy`: how often that classifier assigns generated images to the class they were generated
  for.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from monai_xrgan.utils.errors import ConfigError

__all__ = ["frechet_distance", "classifier_outputs", "condition_accuracy"]


def _psd_sqrt(matrix: torch.Tensor) -> torch.Tensor:
    """Square root of a symmetric positive semi-definite matrix (negative round-off eigenvalues set to 0)."""
    values, vectors = torch.linalg.eigh(matrix)
    return (vectors * values.clamp(min=0).sqrt()) @ vectors.T


def frechet_distance(features_a: torch.Tensor, features_b: torch.Tensor) -> float:
    """``|mu_a - mu_b|² + tr(S_a + S_b - 2 (S_a S_b)^½)`` of two feature sets ``(N, D)`` and ``(M, D)``.

    Computed in float64 with symmetric eigendecompositions (``tr (S_a S_b)^½`` is the sum of the square roots of the
    eigenvalues of ``S_a^½ S_b S_a^½``), so it needs no SciPy (MONAI's ``FIDMetric`` calls ``scipy.linalg.sqrtm``)
    and stays real for the rank-deficient covariances of a few hundred images.
    """
    if features_a.ndim != 2 or features_b.ndim != 2 or features_a.shape[1] != features_b.shape[1]:
        raise ConfigError(
            f"feature sets must be (N, D) and (M, D), got {tuple(features_a.shape)} and {tuple(features_b.shape)}."
        )
    if min(len(features_a), len(features_b)) < 2:
        raise ConfigError("the Fréchet distance needs at least 2 feature vectors per set.")
    a, b = features_a.double(), features_b.double()
    cov_a, cov_b = torch.cov(a.T).reshape(a.shape[1], -1), torch.cov(b.T).reshape(b.shape[1], -1)
    root_a = _psd_sqrt(cov_a)
    cross = torch.linalg.eigvalsh(root_a @ cov_b @ root_a).clamp(min=0).sqrt().sum()
    distance = (a.mean(0) - b.mean(0)).square().sum() + torch.trace(cov_a) + torch.trace(cov_b) - 2 * cross
    return float(distance.clamp(min=0))


@torch.no_grad()
def classifier_outputs(
    classifier: nn.Module,
    images: torch.Tensor,
    value_range: Sequence[float] = (-1.0, 1.0),
    feature_layer: str = "fc",
    batch_size: int = 64,
) -> tuple[torch.Tensor, torch.Tensor]:
    """``(logits, features)`` of ``classifier`` (eval mode) on ``images`` ``(N, C, X, Y)``, returned on the CPU.

    Images are rescaled from ``value_range`` to the ``[0, 1]`` the classifiers of :mod:`monai_xrgan.workflows` are
    trained on; the features are the input of the submodule ``feature_layer`` (``"fc"`` for MONAI's ResNets).
    """
    layer = dict(classifier.named_modules()).get(feature_layer)
    if layer is None:
        raise ConfigError(
            f"the classifier has no submodule {feature_layer!r} to read features from; "
            "set `feature_layer` to the name of its last linear layer."
        )
    captured: list[torch.Tensor] = []
    hook = layer.register_forward_hook(lambda module, inputs, output: captured.append(inputs[0].flatten(1)))
    classifier.eval()
    device = next(classifier.parameters()).device
    low, high = float(value_range[0]), float(value_range[1])
    try:
        logits = [
            classifier(((chunk.float() - low) / (high - low)).clamp(0, 1).to(device))
            for chunk in images.split(batch_size)
        ]
    finally:
        hook.remove()
    return torch.cat(logits).float().cpu(), torch.cat(captured).double().cpu()


def condition_accuracy(logits: torch.Tensor, conditions: torch.Tensor) -> float:
    """Fraction of images whose predicted class (``argmax`` of ``logits``) is the condition they were made for."""
    conditions = conditions.long().view(-1)
    if len(logits) != len(conditions) or len(conditions) == 0:
        raise ConfigError(f"need one condition per image, got {len(logits)} images and {len(conditions)} conditions.")
    return float((logits.argmax(dim=1).cpu() == conditions.cpu()).double().mean())
