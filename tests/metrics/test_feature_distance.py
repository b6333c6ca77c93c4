from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from monai_xrgan.metrics.feature_distance import classifier_outputs, condition_accuracy, frechet_distance
from monai_xrgan.utils.errors import ConfigError


def reference_fid(a: np.ndarray, b: np.ndarray) -> float:
    """The textbook formula: tr sqrt(S_a S_b) from the (real, non-negative) eigenvalues of S_a S_b."""
    cov_a, cov_b = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    cross = np.sqrt(np.clip(np.linalg.eigvals(cov_a @ cov_b).real, 0, None)).sum()
    return float(((a.mean(0) - b.mean(0)) ** 2).sum() + np.trace(cov_a) + np.trace(cov_b) - 2 * cross)


def test_frechet_distance_matches_the_formula():
    g = torch.Generator().manual_seed(0)
    a = torch.randn(300, 6, generator=g) @ torch.randn(6, 6, generator=g)
    b = torch.randn(200, 6, generator=g) * 2 + 1
    assert frechet_distance(a, b) == pytest.approx(reference_fid(a.numpy(), b.numpy()), rel=1e-6)


def test_identical_and_shifted_sets():
    a = torch.randn(100, 4, generator=torch.Generator().manual_seed(1))
    assert frechet_distance(a, a) == pytest.approx(0.0, abs=1e-8)
    shift = torch.tensor([1.0, -2.0, 0.0, 0.5])
    assert frechet_distance(a, a + shift) == pytest.approx(float(shift.square().sum()), rel=1e-6)


def test_rank_deficient_covariances_stay_finite():
    g = torch.Generator().manual_seed(2)
    value = frechet_distance(torch.randn(10, 64, generator=g), torch.randn(12, 64, generator=g))
    assert np.isfinite(value) and value > 0


def test_bad_feature_sets_raise():
    with pytest.raises(ConfigError, match="\\(N, D\\)"):
        frechet_distance(torch.zeros(5, 3), torch.zeros(5, 4))
    with pytest.raises(ConfigError, match="at least 2"):
        frechet_distance(torch.zeros(1, 3), torch.zeros(5, 3))


class TinyClassifier(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.body = nn.Sequential(nn.Flatten(), nn.Linear(16, 5))
        self.fc = nn.Linear(5, 3)
        self.seen: list[torch.Tensor] = []

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.seen.append(x)
        return self.fc(self.body(x))


def test_classifier_outputs_rescale_images_and_read_the_penultimate_features():
    model = TinyClassifier()
    images = torch.linspace(-1, 1, 7 * 16).view(7, 1, 4, 4)
    logits, features = classifier_outputs(model, images, batch_size=3)
    assert logits.shape == (7, 3) and features.shape == (7, 5) and not model.training
    seen = torch.cat(model.seen)
    assert seen.min() == 0 and seen.max() == 1  # [-1, 1] -> [0, 1]
    with torch.no_grad():
        torch.testing.assert_close(features.float(), model.body(seen))
    assert not model.fc._forward_hooks  # the hook is removed
    with pytest.raises(ConfigError, match="no submodule 'head'"):
        classifier_outputs(model, images, feature_layer="head")


def test_condition_accuracy():
    logits = torch.tensor([[2.0, 0, 0], [0, 2.0, 0], [0, 0, 2.0], [2.0, 0, 0]])
    assert condition_accuracy(logits, torch.tensor([0, 1, 2, 2])) == 0.75
    with pytest.raises(ConfigError, match="one condition per image"):
        condition_accuracy(logits, torch.tensor([0, 1]))
