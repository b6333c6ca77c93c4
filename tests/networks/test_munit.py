"""MUNIT networks: the NVlabs parameter counts, shapes, AdaIN style control and the translator."""

from __future__ import annotations

import pytest
import torch

from monai_xrgan.networks import MUNITDiscriminator, MUNITGenerator, MUNITTranslator, munit_init
from monai_xrgan.utils.errors import ConfigError


def _count(module: torch.nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def test_parameter_counts_match_the_reference():
    gen, dis = MUNITGenerator(in_channels=1), MUNITDiscriminator(in_channels=1)
    assert _count(gen) == 15_007_369
    assert _count(gen.enc_content) == 5_379_584
    assert _count(gen.enc_style) == 2_758_664
    assert _count(gen.dec) - _count(gen.dec.mlp) == 5_748_353
    assert _count(gen.dec.mlp) == 1_120_768
    assert _count(dis) == 8_265_027


def test_shapes_and_style_controls_the_output():
    torch.manual_seed(0)
    gen = munit_init(MUNITGenerator(dim=8, style_dim=4, mlp_dim=16), "kaiming").eval()
    x = torch.rand(2, 1, 32, 32) * 2 - 1
    content, style = gen.encode(x)
    assert content.shape == (2, 32, 8, 8) and style.shape == (2, 4, 1, 1)
    out = gen.decode(content, style)
    assert out.shape == x.shape and out.abs().max() <= 1.0
    other = gen.decode(content, gen.random_style(2, "cpu", torch.Generator().manual_seed(1)))
    assert not torch.allclose(out, other)
    logits = MUNITDiscriminator(dim=8, n_layers=3)(x)
    assert [tuple(o.shape) for o in logits] == [(2, 1, 4, 4), (2, 1, 2, 2), (2, 1, 1, 1)]


def test_translator_is_seeded():
    torch.manual_seed(0)
    a, b = MUNITGenerator(dim=8, style_dim=4, mlp_dim=16), MUNITGenerator(dim=8, style_dim=4, mlp_dim=16)
    x = torch.rand(1, 1, 16, 16)
    translator = MUNITTranslator(a, b, seed=3)
    torch.testing.assert_close(translator(x), translator(x))
    assert not torch.allclose(translator(x), MUNITTranslator(a, b, seed=4)(x))


def test_init_kinds():
    dis = munit_init(MUNITDiscriminator(dim=8), "gaussian")
    weights = torch.cat([m.weight.flatten() for m in dis.modules() if isinstance(m, torch.nn.Conv2d)])
    assert weights.std().item() == pytest.approx(0.02, rel=0.2)
    with pytest.raises(ConfigError, match="kaiming"):
        munit_init(dis, "xavier")
