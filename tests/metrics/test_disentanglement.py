from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from monai.data import MetaTensor

from monai_xrgan.metrics.disentanglement import (
    disentanglement_report,
    encode_images,
    probe_accuracy,
    probe_r2,
    stack_batches,
)
from monai_xrgan.networks.drai import DRAIEncoder
from monai_xrgan.utils.errors import ConfigError


def synthetic_codes(n: int = 240, seed: int = 0) -> dict[str, torch.Tensor]:
    """Codes whose content holds the class (one-hot + noise) and whose style holds 4 factors (linear + noise)."""
    g = torch.Generator().manual_seed(seed)
    labels = torch.arange(n) % 3
    factors = torch.randn(n, 4, generator=g)
    content = torch.cat([3 * F.one_hot(labels, 3).float(), torch.randn(n, 3, generator=g)], 1) + 0.2 * torch.randn(
        n, 6, generator=g
    )
    style = factors @ torch.randn(4, 5, generator=g) + 0.05 * torch.randn(n, 5, generator=g)
    return {"content": content, "style": style, "label": labels, "factors": factors}


def split(codes: dict[str, torch.Tensor], n_train: int = 160) -> tuple[dict, dict]:
    return {k: v[:n_train] for k, v in codes.items()}, {k: v[n_train:] for k, v in codes.items()}


def test_perfectly_separated_codes_score_close_to_one():
    report = disentanglement_report(*split(synthetic_codes()), num_classes=3, factor_names=["a", "b", "c", "d"])
    assert report["disentanglement_score"] > 0.95
    assert report["class_accuracy"]["content"] == 1.0 and report["class_information"]["style"] < 0.15
    assert report["style_r2"]["style"] > 0.95 and report["style_r2"]["content"] < 0.1
    assert set(report["style_r2_per_factor"]["style"]) == {"a", "b", "c", "d"}
    assert report["majority_rate"] == pytest.approx(1 / 3, abs=0.02)


def test_swapped_codes_score_close_to_minus_one():
    codes = synthetic_codes()
    codes["content"], codes["style"] = codes["style"], codes["content"]
    assert disentanglement_report(*split(codes), num_classes=3)["disentanglement_score"] < -0.9


def test_a_missing_style_code_carries_no_information():
    """One-latent ablation: a single code holding class and style scores (class information - style R²) / 2."""
    codes = synthetic_codes()
    codes["content"] = torch.cat([codes["content"], codes["style"]], 1)
    codes["style"] = torch.zeros(len(codes["label"]), 0)
    report = disentanglement_report(*split(codes), num_classes=3)
    assert report["class_information"]["style"] == 0.0 and report["style_r2"]["style"] == 0.0
    expected = 0.5 * (report["class_information"]["content"] - report["style_r2"]["content"])
    assert report["disentanglement_score"] == pytest.approx(expected)
    assert abs(report["disentanglement_score"]) < 0.1  # holds both: no separation


def test_probes():
    x = torch.randn(200, 3, generator=torch.Generator().manual_seed(1))
    targets = torch.stack([2 * x[:, 0] - x[:, 2] + 5, torch.randn(200, generator=torch.Generator().manual_seed(2))], 1)
    r2 = probe_r2(x[:150], targets[:150], x[150:], targets[150:])
    assert r2[0] > 0.99 and r2[1] < 0.1
    labels = (x[:, 1] > 0).long()
    assert probe_accuracy(x[:150], labels[:150], x[150:], labels[150:], num_classes=2) > 0.95
    empty = torch.zeros(200, 0)
    assert probe_r2(empty[:150], targets[:150], empty[150:], targets[150:])[0] <= 0.0


def test_stack_batches_stacks_lists_and_drops_metadata():
    batches = [
        {
            "image": MetaTensor(torch.zeros(2, 1, 4, 4)),
            "label": torch.tensor([0, 1]),
            "style": [torch.tensor([1.0, 2.0]), torch.tensor([3.0, 4.0])],
        }
    ] * 2
    out = stack_batches(batches)
    assert type(out["image"]) is torch.Tensor and out["image"].shape == (4, 1, 4, 4)
    torch.testing.assert_close(out["style"][:2], torch.tensor([[1.0, 3.0], [2.0, 4.0]]))
    with pytest.raises(ConfigError, match="no 'style'"):
        stack_batches([{"image": torch.zeros(1), "label": torch.zeros(1)}])
    with pytest.raises(ConfigError, match="empty"):
        stack_batches([])


def test_encode_images_in_eval_mode_on_the_cpu():
    encoder = DRAIEncoder(3, 4, 2, image_size=32, base_channels=4)
    logits, content, style = encode_images(encoder, torch.rand(5, 1, 32, 32), batch_size=2)
    assert logits.shape == (5, 3) and content.shape == (5, 4) and style.shape == (5, 2) and not encoder.training


def test_inconsistent_inputs_raise_config_errors():
    train, test = split(synthetic_codes())
    with pytest.raises(ConfigError, match="no \\['factors'\\]"):
        disentanglement_report(train, {k: v for k, v in test.items() if k != "factors"}, 3)
    with pytest.raises(ConfigError, match="style factors"):
        disentanglement_report(train, test, 3, factor_names=["only_one"])


def test_report_is_deterministic():
    a = disentanglement_report(*split(synthetic_codes(seed=3)), num_classes=3)
    b = disentanglement_report(*split(synthetic_codes(seed=3)), num_classes=3)
    assert a == b and np.isfinite(a["disentanglement_score"])
