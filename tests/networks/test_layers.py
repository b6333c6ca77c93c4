from __future__ import annotations

import pytest
import torch

from monai_xrgan.networks.layers import GradientReversal, GradientReversalFunction, gradient_reversal


@pytest.mark.parametrize("scale", [0.0, 0.5, 1.0, 3.0])
def test_gradient_reversal_is_identity_forward_and_negates_scaled_gradient_backward(scale):
    x = torch.randn(4, 5, requires_grad=True)
    upstream = torch.randn(4, 5)
    y = GradientReversal(scale)(x)
    torch.testing.assert_close(y, x)
    y.backward(upstream)
    torch.testing.assert_close(x.grad, -scale * upstream)


def test_a_network_behind_the_layer_minimises_while_the_input_side_maximises():
    """The DANN set-up: the head's parameters get the plain gradient, the features the reversed one."""
    features = torch.randn(8, 3, requires_grad=True)
    head = torch.nn.Linear(3, 1)
    loss = head(gradient_reversal(features, 2.0)).sum()
    loss.backward()
    plain_features_grad = head.weight.detach().expand(8, 3)
    torch.testing.assert_close(features.grad, -2.0 * plain_features_grad)
    torch.testing.assert_close(head.weight.grad, features.detach().sum(0, keepdim=True))


def test_function_gradient_is_minus_scale():
    x = torch.randn(3, 2, dtype=torch.float64, requires_grad=True)
    y = GradientReversalFunction.apply(x, 1.5)
    (grad,) = torch.autograd.grad(y.sum(), x)
    torch.testing.assert_close(grad, torch.full_like(x, -1.5))


def test_negative_scale_is_rejected():
    with pytest.raises(ValueError, match="scale"):
        GradientReversal(-1.0)
    with pytest.raises(ValueError, match="scale"):
        gradient_reversal(torch.zeros(1), -0.1)


def test_repr_names_the_scale():
    assert "scale=0.25" in repr(GradientReversal(0.25))
