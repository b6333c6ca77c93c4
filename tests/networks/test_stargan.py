from __future__ import annotations

import pytest
import torch

from monai_xrgan.networks import StarGANDiscriminator, StarGANGenerator
from monai_xrgan.networks.stargan import domain_condition, domain_index
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
    assert _count(keyed) - _count(plain) == 2 * 64 * 7 * 7 + 1  # attention and content convs, the attention's bias
    assert keyed.has_key_branch and not plain.has_key_branch


@pytest.mark.parametrize("key_domain", [None, 2])
def test_untrained_generator_returns_its_input_for_every_target(key_domain):
    torch.manual_seed(0)
    g = StarGANGenerator(1, 3, base_channels=8, num_res_blocks=1, key_domain=key_domain)
    x = torch.rand(6, 1, 32, 32) * 2 - 1
    targets = torch.tensor([0, 1, 2, 0, 1, 2])
    out = g(x, targets)
    plain = targets != key_domain
    torch.testing.assert_close(out[plain], x[plain])  # residual head: exactly the input
    if key_domain is not None:  # key branch: 0.95 x + 0.05 * 0 (A = sigmoid(-3), C = 0)
        assert (out[~plain] - x[~plain]).abs().max() <= 0.05 * x.abs().max() + 1e-6
        assert torch.corrcoef(torch.stack([out[~plain].flatten(), x[~plain].flatten()]))[0, 1] > 0.999


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
    for head in (g.to_image, g.key_attention, g.key_content):  # away from the identity start
        torch.nn.init.normal_(head.weight, std=0.05)
    x = torch.rand(3, 1, 32, 32) * 2 - 1
    out = g(x, torch.tensor([2, 0, 1]), with_attention=True)
    image, mask = out[:, :1], out[:, 1:]
    assert (mask[1:] == 0).all() and (mask[0] > 0).all() and (mask[0] < 1).all()
    with torch.no_grad():
        features = g.decoder(g.bottleneck(g.encoder(g._with_label_maps(x[:1], g.condition(x[:1], torch.tensor([2]))))))
        content = torch.tanh(g.key_content(features))
    torch.testing.assert_close(image[:1], mask[:1] * content + (1 - mask[:1]) * x[:1])
    residual = torch.tanh(
        g.to_image(
            g.decoder(g.bottleneck(g.encoder(g._with_label_maps(x[1:], g.condition(x[1:], torch.tensor([0, 1]))))))
        )
    )
    torch.testing.assert_close(image[1:], (x[1:] + residual).clamp(-1, 1))
    assert (image[1:] - x[1:]).abs().max() > 0.01


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


def test_target_domain_by_name_or_index():
    domains = ["normal", "viral_pneumonia", "covid_mild"]
    assert [domain_index(v, domains) for v in ("covid_mild", 1, "0")] == [2, 1, 0]
    for bad in ("covid", 3, -1, True, None):
        with pytest.raises(ConfigError, match="target_domain .* is not a domain; use a name or index of: 0 normal"):
            domain_index(bad, domains)
