"""Self-ONN operational layers (Kiranyaz et al.): 2-D convolutions of a q-term Maclaurin expansion of the nodal
function.

An operational layer of order ``q`` computes ``y = sum_{i=1..q} W_i * x^i + b``: each power of the input has its own
kernel. The reference (R2C-GAN, TensorFlow) runs ``q`` convolutions and adds them; here the powers are stacked along
the channels, ``[x, x^2, ..., x^q]``, and convolved ONCE with the kernels stacked the same way, which is the same sum
and a single (much faster) convolution. ``q = 1`` is a plain convolution.

Inputs must stay bounded (``|x| <= 1``): ``x^q`` of large activations explodes. The layers do not bound their input
themselves; networks built from them keep the inputs in ``[-1, 1]`` with ``tanh``, as the reference does (see
:mod:`monai_xrgan.networks.r2c`).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from monai_xrgan.utils.checks import check_int

__all__ = ["Oper2d", "Oper2dTranspose", "stack_powers"]


def stack_powers(x: torch.Tensor, q: int) -> torch.Tensor:
    """``[x, x^2, ..., x^q]`` concatenated along the channel dimension (power-major: channels ``i*C..(i+1)*C-1`` hold
    ``x^(i+1)``)."""
    if q == 1:
        return x
    powers = [x]
    for _ in range(q - 1):  # q-1 element-wise products: cheaper than pow and exact for negative inputs
        powers.append(powers[-1] * x)
    return torch.cat(powers, dim=1)


class _Operational(nn.Module):
    """Parameters shared by the operational layers: one kernel per power and, like the reference, one bias per power.

    ``weight`` has shape ``(out_channels, q, in_channels, k, k)`` for a convolution and ``(q, in_channels,
    out_channels, k, k)`` for a transposed one (each power's kernel laid out like ``nn.Conv2d.weight`` /
    ``nn.ConvTranspose2d.weight``), so that :meth:`fused_weight` is a view. The reference keeps a bias in each of its
    ``q`` convolutions; ``bias`` of shape ``(q, out_channels)`` keeps them and they are summed before the convolution:
    the same function, the reference's parameter count and, as each bias is its own Adam parameter, the reference's
    training dynamics.
    """

    def __init__(
        self, in_channels: int, out_channels: int, kernel_size: int, stride: int, q: int, bias: bool, transposed: bool
    ) -> None:
        super().__init__()
        self.in_channels = check_int("in_channels", in_channels, 1)
        self.out_channels = check_int("out_channels", out_channels, 1)
        self.kernel_size = check_int("kernel_size", kernel_size, 1)
        self.stride = check_int("stride", stride, 1)
        self.q = check_int("q", q, 1)
        self.transposed = transposed
        k = (kernel_size, kernel_size)
        shape = (q, in_channels, out_channels, *k) if transposed else (out_channels, q, in_channels, *k)
        self.weight = nn.Parameter(torch.empty(shape))
        if bias:
            self.bias = nn.Parameter(torch.empty(q, out_channels))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Keras defaults, as the reference: Glorot-uniform kernels (fans of one power's kernel, the same for a
        convolution and a transposed one), zero biases."""
        bound = math.sqrt(6.0 / ((self.in_channels + self.out_channels) * self.kernel_size**2))
        nn.init.uniform_(self.weight, -bound, bound)
        if self.bias is not None:
            nn.init.zeros_(self.bias)

    def fused_weight(self) -> torch.Tensor:
        """The kernels of all powers as the weight of one (transposed) convolution over :func:`stack_powers`."""
        k, channels = self.kernel_size, self.q * self.in_channels
        if self.transposed:
            return self.weight.reshape(channels, self.out_channels, k, k)
        return self.weight.reshape(self.out_channels, channels, k, k)

    def fused_bias(self) -> torch.Tensor | None:
        """The bias of the fused convolution: the sum of the per-power biases."""
        return None if self.bias is None else self.bias.sum(0)


class Oper2d(_Operational):
    """Operational 2-D convolution of order ``q`` (``Oper2D`` of the R2C-GAN reference), as one convolution.

    ``forward(x) = conv2d([x, x^2, ..., x^q], [W_1, ..., W_q]) + sum_i b_i``. Parameters: ``weight`` of shape
    ``(out_channels, q, in_channels, k, k)`` (``weight[:, i]`` is the kernel of ``x^(i+1)``) and ``bias`` of shape
    ``(q, out_channels)``: ``q`` times the parameters of the matching ``nn.Conv2d``. Inputs should lie in ``[-1, 1]``.

    Args:
        in_channels: input channels.
        out_channels: output channels.
        kernel_size: side of the square kernels.
        stride: stride of the convolution.
        padding: as in :func:`torch.nn.functional.conv2d` (an integer, ``"valid"``, or ``"same"`` for stride 1, which
            pads asymmetrically like TensorFlow's ``"same"``).
        q: order of the Maclaurin expansion (number of powers).
        bias: learn the biases.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int,
        stride: int = 1,
        padding: int | str = 0,
        q: int = 1,
        bias: bool = True,
    ) -> None:
        super().__init__(in_channels, out_channels, kernel_size, stride, q, bias, transposed=False)
        self.padding = padding

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.conv2d(stack_powers(x, self.q), self.fused_weight(), self.fused_bias(), self.stride, self.padding)

    def extra_repr(self) -> str:
        return (
            f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}, "
            f"padding={self.padding}, q={self.q}, bias={self.bias is not None}"
        )


class Oper2dTranspose(_Operational):
    """Operational 2-D transposed convolution of order ``q`` (``Oper2DTranspose`` of the reference), as one
    transposed convolution over ``[x, x^2, ..., x^q]``.

    Parameters: ``weight`` of shape ``(q, in_channels, out_channels, k, k)`` (``weight[i]`` is the kernel of
    ``x^(i+1)``, laid out like ``nn.ConvTranspose2d.weight``) and ``bias`` of shape ``(q, out_channels)``.

    Args:
        in_channels: input channels.
        out_channels: output channels.
        kernel_size: side of the square kernels.
        stride: stride of the transposed convolution.
        padding: implicit zero padding removed from the output, as in ``nn.ConvTranspose2d``.
        output_padding: extra rows/columns added to one side of the output (``stride=2, padding=1,
            output_padding=1`` doubles the size, like TensorFlow's ``"same"``).
        q: order of the Maclaurin expansion.
        bias: learn the biases.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int,
        stride: int = 1,
        padding: int = 0,
        output_padding: int = 0,
        q: int = 1,
        bias: bool = True,
    ) -> None:
        super().__init__(in_channels, out_channels, kernel_size, stride, q, bias, transposed=True)
        self.padding = padding
        self.output_padding = output_padding

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.conv_transpose2d(
            stack_powers(x, self.q),
            self.fused_weight(),
            self.fused_bias(),
            self.stride,
            self.padding,
            self.output_padding,
        )

    def extra_repr(self) -> str:
        return (
            f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}, "
            f"padding={self.padding}, output_padding={self.output_padding}, q={self.q}, "
            f"bias={self.bias is not None}"
        )
