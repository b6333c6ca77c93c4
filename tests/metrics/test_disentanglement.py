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
    split_code,
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
    assert report["disentanglement"] > 0.95 and report["code_sizes"] == {"content": 6, "style": 5}
    assert report["class_accuracy"]["content"] == 1.0 and report["class_information"]["style"] < 0.15
    assert report["style_r2"]["style"] > 0.95 and report["style_r2"]["content"] < 0.1
    assert set(report["style_r2_per_factor"]["style"]) == {"a", "b", "c", "d"}
    assert report["majority_rate"] == pytest.approx(1 / 3, abs=0.02)


def test_swapped_codes_score_close_to_minus_one():
    codes = synthetic_codes()
    codes["content"], codes["style"] = codes["style"], codes["content"]
    report = disentanglement_report(*split(codes), num_classes=3)
    assert report["disentanglement"] < -0.9
    assert report["disentanglement_class"] < -0.85 and report["disentanglement_style"] < -0.85


def test_one_latent_and_two_latent_models_with_the_same_code_score_the_same():
    """A one-latent model's code ``z`` (no style code) is cut at ``content_dim`` as a two-latent model's
    ``[z_c, z_s]``: the same code gives the same score, whichever part a model calls style."""
    codes = synthetic_codes()
    one_latent = {**codes, "content": torch.cat([codes["content"], codes["style"]], 1), "style": torch.zeros(240, 0)}
    two = disentanglement_report(*split(codes), num_classes=3, content_dim=6)
    one = disentanglement_report(*split(one_latent), num_classes=3, content_dim=6)
    assert one == two and two == disentanglement_report(*split(codes), num_classes=3)
    assert one["code_sizes"] == {"content": 6, "style": 5} and one["disentanglement"] > 0.95


def test_an_empty_style_code_is_refused_not_scored_zero():
    """Scoring an empty code as 0 class and 0 style information capped a one-latent model at 0.5."""
    codes = synthetic_codes()
    one_latent = {**codes, "content": torch.cat([codes["content"], codes["style"]], 1), "style": torch.zeros(240, 0)}
    with pytest.raises(ConfigError, match="style code is empty.*content_dim"):
        disentanglement_report(*split(one_latent), num_classes=3)


def test_split_code_keeps_a_two_latent_code_and_cuts_a_one_latent_code():
    content, style = torch.randn(5, 4), torch.randn(5, 3)
    for parts in (split_code(content, style, 4), split_code(torch.cat([content, style], 1), torch.zeros(5, 0), 4)):
        torch.testing.assert_close(parts[0], content)
        torch.testing.assert_close(parts[1], style)
    for bad in (0, 7, True, 2.0):
        with pytest.raises(ConfigError, match="content_dim must be an integer in \\[1, 6\\]"):
            split_code(content, style, bad)


def test_probes():
    x = torch.randn(200, 3, generator=torch.Generator().manual_seed(1))
    targets = torch.stack([2 * x[:, 0] - x[:, 2] + 5, torch.randn(200, generator=torch.Generator().manual_seed(2))], 1)
    r2 = probe_r2(x[:150], targets[:150], x[150:], targets[150:])
    assert r2[0] > 0.99 and r2[1] < 0.1
    labels = (x[:, 1] > 0).long()
    assert probe_accuracy(x[:150], labels[:150], x[150:], labels[150:], num_classes=2) > 0.95


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
    assert a == b and np.isfinite(a["disentanglement"])
