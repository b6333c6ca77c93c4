"""R2C-GAN networks: the reference's layer tables, parameter counts, outputs and input bounding."""

from __future__ import annotations

import pytest
import torch
from monai.networks.nets import PatchDiscriminator

from monai_xrgan.networks.operational import Oper2d, Oper2dTranspose
from monai_xrgan.networks.r2c import (
    VARIANTS,
    OperationalDiscriminator,
    OperationalGenerator,
    ResNetGenerator,
    r2c_discriminator,
    r2c_generator,
)
from monai_xrgan.utils.errors import ConfigError


def count(module: torch.nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


@pytest.mark.parametrize("q", [1, 3])
def test_operational_parameter_counts_follow_the_spec_formulas_for_3_channels(q):
    assert count(OperationalGenerator(3, 3, q=q)) == q * 301_827 + 1_026
    assert count(OperationalDiscriminator(3, q=q)) == q * 136_257 + 256


def test_reference_parameter_counts():
    assert count(OperationalGenerator(3, 3, q=3)) == 906_507
    assert count(OperationalDiscriminator(3, q=3)) == 409_027
    assert count(OperationalGenerator(3, 3, q=1)) == 302_853


@pytest.mark.parametrize("q", [1, 3])
def test_operational_parameter_counts_for_one_grey_channel(q):
    # documented in bundles/r2c_gan_cxr/docs/README.md: 892,677 / 402,883 for q = 3
    assert count(r2c_generator(q=q)) == q * 297_217 + 1_026
    assert count(r2c_discriminator(q=q)) == q * 134_209 + 256


def test_convolutional_variant_parameter_counts():
    assert count(ResNetGenerator(3, 3)) == 11_383_941
    assert count(r2c_generator("convolutional")) == 11_371_395
    assert count(r2c_discriminator("convolutional", in_channels=3)) == 2_765_633
    assert count(r2c_discriminator("convolutional")) == 2_763_585


def test_convolutional_light_is_the_operational_architecture_with_q1():
    light, op1 = r2c_generator("convolutional-light", q=3), r2c_generator("operational", q=1)
    assert [p.shape for p in light.parameters()] == [p.shape for p in op1.parameters()]
    assert all(m.q == 1 for m in light.modules() if isinstance(m, (Oper2d, Oper2dTranspose)))
    assert count(r2c_discriminator("convolutional-light", q=3)) == count(r2c_discriminator(q=1))


@pytest.mark.parametrize("variant", VARIANTS)
def test_generator_restores_and_classifies(variant):
    net = r2c_generator(variant, base_channels=4).eval()
    x = torch.rand(2, 1, 32, 32) * 2 - 1
    with torch.no_grad():
        image = net(x)
        restored, probs = net(x, return_probs=True)
    assert image.shape == restored.shape == (2, 1, 32, 32) and image.abs().max() <= 1
    torch.testing.assert_close(image, restored)
    assert probs.shape == (2, 2) and probs.dtype == torch.float32
    torch.testing.assert_close(probs.sum(1), torch.ones(2))


@pytest.mark.parametrize("variant", VARIANTS)
def test_discriminators_give_patch_maps(variant):
    out = r2c_discriminator(variant, base_channels=4)(torch.rand(2, 1, 64, 64) * 2 - 1)
    out = out[-1] if isinstance(out, list) else out
    assert out.shape[:2] == (2, 1) and 6 <= out.shape[-1] <= 8


def test_operational_discriminator_patch_map_is_size_over_8_like_tensorflow_same():
    assert OperationalDiscriminator(base_channels=4)(torch.zeros(1, 1, 256, 256)).shape == (1, 1, 32, 32)


def test_convolutional_discriminator_is_monai_patchgan_with_affine_instance_norm():
    d = r2c_discriminator("convolutional", base_channels=4)
    assert isinstance(d, PatchDiscriminator)
    norms = [m for m in d.modules() if isinstance(m, torch.nn.InstanceNorm2d)]
    assert len(norms) == 3 and all(n.affine and n.eps == 1e-3 for n in norms)


def _operational_input_maxima(net: torch.nn.Module, x: torch.Tensor) -> list[float]:
    seen: list[float] = []
    for layer in net.modules():
        if isinstance(layer, (Oper2d, Oper2dTranspose)):
            layer.register_forward_hook(lambda m, inputs, out: seen.append(float(inputs[0].detach().abs().max())))
    net(x)
    return seen


def test_operational_layer_inputs_are_bounded_as_in_the_reference():
    x = torch.rand(2, 1, 32, 32) * 2 - 1
    # generator: the image, tanh(h) twice inside the residual block, tanh(h + block) before the transposed layer
    seen = _operational_input_maxima(r2c_generator(base_channels=4), x)
    assert len(seen) == 4 and max(seen) <= 1.0
    # discriminator: the image; the reference feeds LeakyReLU outputs to its 2nd and 3rd layers
    seen = _operational_input_maxima(r2c_discriminator(base_channels=4), x)
    assert len(seen) == 3 and seen[0] <= 1.0


@pytest.mark.parametrize("variant", VARIANTS)
def test_identity_start_returns_the_input_exactly_at_initialisation(variant):
    x = torch.rand(2, 1, 32, 32) * 2 - 1
    with torch.no_grad():
        assert torch.equal(r2c_generator(variant, base_channels=4)(x), x)
        reference = r2c_generator(variant, base_channels=4, residual_output=False)(x)
    assert (reference - x).abs().mean() > 0.1  # the reference's tanh output starts far from its input


def test_residual_output_is_the_input_plus_the_last_layer_clamped():
    net = r2c_generator(base_channels=4).eval()
    last = net.decoder[-1]
    with torch.no_grad():
        last.bias[0].fill_(0.5)  # the zero-initialised layer now outputs 0.5 everywhere
        x = torch.rand(2, 1, 32, 32) * 2 - 1
        torch.testing.assert_close(net(x), (x + 0.5).clamp(-1, 1))


def _smooth_images(n: int, size: int = 32) -> torch.Tensor:
    """``n`` different smooth images on [-1, 1]: random low-resolution fields upsampled, at different brightness."""
    torch.manual_seed(0)
    fields = torch.nn.functional.interpolate(torch.rand(n, 1, 4, 4), size=size, mode="bilinear")
    return (fields * 1.5 - 0.75 + torch.linspace(-0.25, 0.25, n).view(n, 1, 1, 1)).clamp(-1, 1)


def _covid_spread(pooling: str, variant: str = "operational") -> float:
    torch.manual_seed(1)
    net = r2c_generator(variant, base_channels=8, head_pooling=pooling).eval()
    with torch.no_grad():
        return net(_smooth_images(8), return_probs=True)[1][:, 1].std().item()


@pytest.mark.parametrize("variant", VARIANTS)
def test_average_pooled_head_separates_different_inputs_at_initialisation(variant):
    spread = _covid_spread("avg", variant)
    assert spread > 5e-3
    assert spread > 2 * _covid_spread("max", variant)  # the reference's max pool tells the inputs apart less


def test_torchscript_keeps_both_call_forms():
    net = r2c_generator(base_channels=4).eval()
    with torch.no_grad():
        net.decoder[-1].bias[0].fill_(0.25)  # not the identity, so that the residual path is compared
    scripted = torch.jit.script(net)
    x = torch.rand(1, 1, 32, 32) * 2 - 1
    torch.testing.assert_close(scripted(x), net(x))
    torch.testing.assert_close(scripted(x, True)[1], net(x, return_probs=True)[1])


@pytest.mark.parametrize(
    "kwargs,message",
    [
        ({"variant": "cnn"}, "variant"),
        ({"q": 0}, "q"),
        ({"base_channels": 0}, "base_channels"),
        ({"num_classes": 0}, "num_classes"),
        ({"head_pooling": "sum"}, "head_pooling"),
        ({"in_channels": 3, "out_channels": 1}, "residual_output"),
    ],
)
def test_invalid_settings_are_config_errors(kwargs, message):
    with pytest.raises(ConfigError, match=message):
        r2c_generator(**kwargs)
