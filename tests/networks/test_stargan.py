from __future__ import annotations

import pytest
import torch

from monai_xrgan.networks import StarGANDiscriminator, StarGANGenerator
from monai_xrgan.networks.stargan import domain_condition
from monai_xrgan.utils.errors import ConfigError


def _count(module: torch.nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


@pytest.mark.parametrize(
    "channels, domains, generator, discriminator",
    [(1, 3, 8_411_712, 44_743_616), (1, 4, 8_414_848, 44_751_808), (3, 5, 8_430_528, 44_762_048)],
)
def test_parameter_counts_equal_the_reference(channels, domains, generator, discriminator):
    assert _count(StarGANGenerator(channels, domains)) == generator
    assert _count(StarGANDiscriminator(channels, domains, image_size=128)) == discriminator


def test_key_branch_adds_two_heads():
    plain, keyed = StarGANGenerator(1, 3), StarGANGenerator(1, 3, key_domain=2)
    assert _count(keyed) - _count(plain) == 2 * 64 * 7 * 7
    assert keyed.has_key_branch and not plain.has_key_branch


def test_shapes_and_condition_forms():
    g = StarGANGenerator(1, 3, base_channels=8, num_res_blocks=1, target_domain=1)
    d = StarGANDiscriminator(1, 3, image_size=32, base_channels=8, num_layers=5)
    x = torch.rand(2, 1, 32, 32) * 2 - 1
    by_index = g(x, torch.tensor([1, 1]))
    torch.testing.assert_close(g(x, torch.tensor(1)), by_index)
    torch.testing.assert_close(g(x, torch.tensor([[0.0, 1.0, 0.0]] * 2)), by_index)
    torch.testing.assert_close(g(x), by_index)  # target_domain
    assert by_index.shape == x.shape and by_index.abs().max() <= 1
    score, logits, features = d(by_index, return_features=True)
    assert score.shape == (2, 1, 1, 1) and logits.shape == (2, 3) and len(features) == 5


def test_key_branch_only_changes_masked_regions_of_key_translations():
    torch.manual_seed(0)
    g = StarGANGenerator(1, 3, base_channels=8, num_res_blocks=1, key_domain=2).eval()
    x = torch.rand(3, 1, 32, 32) * 2 - 1
    out = g(x, torch.tensor([2, 0, 1]), with_attention=True)
    image, mask = out[:, :1], out[:, 1:]
    assert (mask[1:] == 0).all() and (mask[0] > 0).all() and (mask[0] < 1).all()
    with torch.no_grad():
        features = g.decoder(g.bottleneck(g.encoder(g._with_label_maps(x[:1], g.condition(x[:1], torch.tensor([2]))))))
        content = torch.tanh(g.key_content(features))
    torch.testing.assert_close(image[:1], mask[:1] * content + (1 - mask[:1]) * x[:1])
    plain = torch.tanh(
        g.to_image(
            g.decoder(g.bottleneck(g.encoder(g._with_label_maps(x[1:], g.condition(x[1:], torch.tensor([0, 1]))))))
        )
    )
    torch.testing.assert_close(image[1:], plain)


def test_torchscript_matches_eager():
    g = StarGANGenerator(1, 3, base_channels=8, num_res_blocks=1, key_domain=2, target_domain=2).eval()
    x = torch.rand(2, 1, 32, 32)
    scripted = torch.jit.script(g)
    torch.testing.assert_close(scripted(x), g(x))
    torch.testing.assert_close(scripted(x, torch.tensor([0, 2])), g(x, torch.tensor([0, 2])))


def test_bad_settings_and_conditions():
    with pytest.raises(ConfigError, match="num_domains must be at least 2"):
        StarGANGenerator(1, 1)
    with pytest.raises(ConfigError, match="key_domain must be a domain index"):
        StarGANGenerator(1, 3, key_domain=3)
    with pytest.raises(ConfigError, match="image_size must be a multiple of 2\\*\\*num_layers = 64"):
        StarGANDiscriminator(1, 3, image_size=96)
    with pytest.raises(ValueError, match="no target domain"):
        StarGANGenerator(1, 3, base_channels=8, num_res_blocks=1)(torch.zeros(1, 1, 32, 32))
    with pytest.raises(ValueError, match="domain indices must be in"):
        domain_condition(torch.tensor([3]), 3, 1, torch.float32)
    with pytest.raises(ValueError, match="must have 3 columns"):
        domain_condition(torch.zeros(1, 4), 3, 1, torch.float32)
