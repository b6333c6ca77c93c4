"""Self-ONN operational layers: one fused convolution equal to the reference's sum of q convolutions."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from monai_xrgan.networks.operational import Oper2d, Oper2dTranspose, stack_powers
from monai_xrgan.utils.errors import ConfigError


def _bounded(*shape: int, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    return torch.rand(*shape, dtype=dtype) * 2 - 1


def test_stack_powers_is_power_major():
    x = _bounded(2, 3, 4, 4)
    stacked = stack_powers(x, 3)
    assert stacked.shape == (2, 9, 4, 4)
    for i in range(3):
        torch.testing.assert_close(stacked[:, 3 * i : 3 * (i + 1)], x ** (i + 1))
    assert stack_powers(x, 1) is x


def test_q1_equals_conv2d_with_the_same_weights():
    layer = Oper2d(3, 5, 3, stride=2, padding=1, q=1)
    conv = nn.Conv2d(3, 5, 3, stride=2, padding=1)
    with torch.no_grad():
        conv.weight.copy_(layer.weight[:, 0])
        conv.bias.copy_(layer.bias[0] + 0.5)
        layer.bias.add_(0.5)
    x = _bounded(2, 3, 16, 16)
    torch.testing.assert_close(layer(x), conv(x))


def test_q1_transpose_equals_conv_transpose2d_with_the_same_weights():
    layer = Oper2dTranspose(4, 2, 3, stride=2, padding=1, output_padding=1, q=1)
    conv = nn.ConvTranspose2d(4, 2, 3, stride=2, padding=1, output_padding=1)
    with torch.no_grad():
        conv.weight.copy_(layer.weight[0])
        layer.bias.normal_()
        conv.bias.copy_(layer.bias[0])
    x = _bounded(2, 4, 8, 8)
    out = layer(x)
    assert out.shape == (2, 2, 16, 16)
    torch.testing.assert_close(out, conv(x))


@pytest.mark.parametrize("bias", [True, False])
def test_fused_convolution_equals_the_reference_sum_of_q_convolutions(bias):
    layer = Oper2d(3, 4, 3, stride=1, padding=1, q=3, bias=bias)
    if bias:
        nn.init.normal_(layer.bias)
    x = _bounded(2, 3, 12, 12)
    naive = sum(
        F.conv2d(x ** (i + 1), layer.weight[:, i], None if layer.bias is None else layer.bias[i], 1, 1)
        for i in range(3)
    )
    torch.testing.assert_close(layer(x), naive, rtol=1e-5, atol=1e-5)


def test_fused_transposed_convolution_equals_the_reference_sum():
    layer = Oper2dTranspose(3, 2, 3, stride=2, padding=1, output_padding=1, q=3)
    nn.init.normal_(layer.bias)
    x = _bounded(1, 3, 6, 6)
    naive = sum(F.conv_transpose2d(x ** (i + 1), layer.weight[i], layer.bias[i], 2, 1, 1) for i in range(3))
    torch.testing.assert_close(layer(x), naive, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("q", [1, 2, 3, 5])
def test_parameter_count_is_q_times_the_matching_convolution(q):
    count = lambda m: sum(p.numel() for p in m.parameters())  # noqa: E731
    assert count(Oper2d(3, 8, 3, q=q)) == q * count(nn.Conv2d(3, 8, 3))
    assert count(Oper2d(3, 8, 4, q=q, bias=False)) == q * count(nn.Conv2d(3, 8, 4, bias=False))
    assert count(Oper2dTranspose(8, 3, 3, q=q)) == q * count(nn.ConvTranspose2d(8, 3, 3))


@pytest.mark.parametrize(
    "layer", [Oper2d(2, 2, 3, padding=1, q=3), Oper2dTranspose(2, 2, 3, stride=2, padding=1, output_padding=1, q=3)]
)
def test_gradcheck_with_respect_to_input_kernels_and_biases(layer):
    layer = layer.double()
    x = _bounded(1, 2, 4, 4, dtype=torch.float64).requires_grad_()
    weight, bias = (p.detach().clone().normal_().requires_grad_() for p in (layer.weight, layer.bias))

    def forward(inp: torch.Tensor, w: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        return torch.func.functional_call(layer, {"weight": w, "bias": b}, (inp,))

    assert torch.autograd.gradcheck(forward, (x, weight, bias), eps=1e-6, atol=1e-5)


@pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel lengths")
def test_same_padding_keeps_the_size_for_even_kernels():
    out = Oper2d(2, 3, 4, padding="same", q=2)(_bounded(1, 2, 10, 10))
    assert out.shape == (1, 3, 10, 10)


def test_keras_initialisation_glorot_uniform_and_zero_bias():
    layer = Oper2d(16, 32, 3, q=3)
    bound = math.sqrt(6.0 / ((16 + 32) * 9))
    assert layer.weight.abs().max() <= bound and layer.weight.abs().max() > 0.9 * bound
    assert torch.count_nonzero(layer.bias) == 0


def test_torchscript_matches_eager():
    layer = Oper2d(2, 3, 3, padding=1, q=3)
    x = _bounded(1, 2, 8, 8)
    torch.testing.assert_close(torch.jit.script(layer)(x), layer(x))


@pytest.mark.parametrize("kwargs", [{"q": 0}, {"q": 1.5}, {"in_channels": 0}, {"kernel_size": True}])
def test_invalid_arguments_are_config_errors(kwargs):
    args = {"in_channels": 1, "out_channels": 1, "kernel_size": 3, **kwargs}
    with pytest.raises(ConfigError, match=next(iter(kwargs))):
        Oper2d(**args)
