"""Pix2Pix U-Net generator (the reference ``unet_256`` / ``unet_128`` of pytorch-CycleGAN-and-pix2pix)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from monai.networks.utils import normal_init
from torch import nn

from monai_xrgan.utils.errors import ConfigError

__all__ = ["Pix2PixUNet", "EvalDropout"]


class EvalDropout(nn.Dropout):
    """Dropout that can stay active in ``eval()`` mode.

    pix2pix keeps dropout on at test time as its only noise source; ``active_in_eval`` makes that a switch
    (``nn.Dropout`` alone always turns off in eval mode).
    """

    def __init__(self, p: float = 0.5, active_in_eval: bool = False) -> None:
        super().__init__(p=p)
        self.active_in_eval = active_in_eval

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.dropout(x, self.p, self.training or self.active_in_eval, self.inplace)


class Pix2PixUNet(nn.Module):
    """U-Net generator of pix2pix with ``num_downs`` stride-2 down-samplings and channel-concatenation skips.

    Encoder level ``i`` has ``base_channels * min(2**i, 8)`` channels; with ``num_downs = log2(image size)`` the
    bottleneck is 1x1 (``num_downs=8`` for 256², 7 for 128²). Layer for layer as the reference: 4x4 stride-2
    convolutions, LeakyReLU(0.2) before every encoder convolution but the first, batch norm after every encoder
    convolution but the first and the innermost; decoder blocks ReLU -> 4x4 stride-2 transposed convolution ->
    batch norm, dropout in the 512-channel blocks between the innermost and level 4, and a biased outermost
    transposed convolution followed by tanh (with ``residual``: see below). Convolutions followed by batch norm have no
    bias.

    Args:
        in_channels: channels of the input image (1 for grey radiographs).
        out_channels: channels of the generated image.
        num_downs: number of down-samplings; input sizes must be multiples of ``2**num_downs``.
        base_channels: channels of the first encoder level (``ngf``).
        dropout: dropout probability of the inner decoder blocks (0 disables them).
        dropout_in_eval: keep dropout active in eval mode (the reference's test-time behaviour).
        residual: predict a change of the input instead of a new image, ``tanh(atanh(x) + U(x))`` with the
            outermost transposed convolution initialised at zero, so that the untrained generator returns its input
            (not part of the reference; needs ``in_channels == out_channels`` and inputs in ``[-1, 1]``).
    """

    def __init__(
        self,
        in_channels: int = 1,
        out_channels: int = 1,
        num_downs: int = 8,
        base_channels: int = 64,
        dropout: float = 0.5,
        dropout_in_eval: bool = False,
        residual: bool = False,
    ) -> None:
        super().__init__()
        if num_downs < 5:
            raise ConfigError(f"num_downs must be at least 5 (the reference's smallest U-Net), got {num_downs}.")
        if residual and in_channels != out_channels:
            raise ConfigError(
                f"residual=True adds the output to the input and needs in_channels == out_channels, got "
                f"{in_channels} and {out_channels}; set residual=False."
            )
        self.num_downs = num_downs
        self.residual = residual
        channels = [base_channels * min(2**i, 8) for i in range(num_downs)]
        innermost = num_downs - 1

        self.encoders = nn.ModuleList()
        for i in range(num_downs):
            conv = nn.Conv2d(in_channels if i == 0 else channels[i - 1], channels[i], 4, 2, 1, bias=False)
            layers: list[nn.Module] = [] if i == 0 else [nn.LeakyReLU(0.2, inplace=True)]
            layers.append(conv)
            if 0 < i < innermost:
                layers.append(nn.BatchNorm2d(channels[i]))
            self.encoders.append(nn.Sequential(*layers))

        # decoders run innermost first; decoder i (i > 0) takes [encoder skip, previous decoder output]
        self.decoders = nn.ModuleList()
        for level in range(innermost, -1, -1):
            in_ch = channels[level] if level == innermost else 2 * channels[level]
            if level == 0:
                layers = [nn.ReLU(inplace=True), nn.ConvTranspose2d(in_ch, out_channels, 4, 2, 1, bias=True)]
                if not residual:  # the residual output applies tanh after adding the input (forward)
                    layers.append(nn.Tanh())
            else:
                layers = [
                    nn.ReLU(inplace=True),
                    nn.ConvTranspose2d(in_ch, channels[level - 1], 4, 2, 1, bias=False),
                    nn.BatchNorm2d(channels[level - 1]),
                ]
                # the reference's dropout blocks: 512-channel levels strictly inside (4 .. innermost-1)
                if dropout > 0 and 4 <= level < innermost:
                    layers.append(EvalDropout(dropout, active_in_eval=dropout_in_eval))
            self.decoders.append(nn.Sequential(*layers))

        self.apply(normal_init)
        if residual:  # zero change at initialisation: the generator starts as the identity
            nn.init.zeros_(self.decoders[-1][-1].weight)
            nn.init.zeros_(self.decoders[-1][-1].bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        factor = 2**self.num_downs
        if x.shape[-1] % factor or x.shape[-2] % factor:
            raise ConfigError(
                f"Pix2PixUNet with num_downs={self.num_downs} needs spatial sizes divisible by {factor}, "
                f"got {x.shape[-2]}x{x.shape[-1]}; resize/pad the input or change num_downs."
            )
        skips: list[torch.Tensor] = []
        h = x
        for encoder in self.encoders:
            h = encoder(h)
            skips.append(h)
        for i, decoder in enumerate(self.decoders):
            if i > 0:
                h = torch.cat([skips[self.num_downs - 1 - i], h], dim=1)
            h = decoder(h)
        if self.residual:
            # input clamped to ±0.999 before atanh (min-max scaled images reach ±1): error ≤ 1e-3 at init
            return torch.tanh(torch.atanh(x.clamp(-0.999, 0.999)) + h)
        return h
