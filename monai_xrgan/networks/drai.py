"""DRAI networks (Havaei et al., "Conditional Generation of Medical Images via Disentangled Adversarial Inference").

A latent code is the concatenation ``[one-hot condition c, content z_c, style z_s]`` (:class:`LatentLayout`); the
generator maps a code to an image, the encoder infers ``(class logits, z_c, z_s)`` from an image, the joint
discriminator judges ``(image, code)`` pairs (adversarial inference, ALI/BiGAN) and the style classifier is the
adversary that the gradient-reversal regulariser trains on ``z_s``. ``style_dim=0`` gives the one-latent ablation
``G(c, z)``: every network accepts it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from monai.networks.utils import normal_init
from torch import nn

from monai_xrgan.utils.checks import check_int
from monai_xrgan.utils.distributed import unwrap
from monai_xrgan.utils.errors import ConfigError

__all__ = [
    "LatentLayout",
    "DRAIGenerator",
    "DRAIEncoder",
    "DRAIDiscriminator",
    "DRAIStyleClassifier",
    "DRAIAutoencoder",
]


@dataclass(frozen=True)
class LatentLayout:
    """Sizes of the parts of a latent code ``[one-hot c, z_c, z_s]``, and the operations on codes.

    Args:
        num_classes: number of conditions (classes) of the one-hot part.
        content_dim: size of the content latent ``z_c``.
        style_dim: size of the style latent ``z_s`` (0: one latent).
    """

    num_classes: int
    content_dim: int
    style_dim: int

    def __post_init__(self) -> None:
        for name, low in (("num_classes", 2), ("content_dim", 1), ("style_dim", 0)):
            check_int(name, getattr(self, name), low)

    @property
    def code_dim(self) -> int:
        """Length of a whole code: ``num_classes + content_dim + style_dim``."""
        return self.num_classes + self.content_dim + self.style_dim

    def code(self, labels: torch.Tensor, content: torch.Tensor, style: torch.Tensor | None = None) -> torch.Tensor:
        """The code ``[one-hot(labels), content, style]`` of shape ``(B, code_dim)``.

        Args:
            labels: class indices ``(B,)``.
            content: ``(B, content_dim)``.
            style: ``(B, style_dim)``; ``None`` with one latent.
        """
        parts = [F.one_hot(labels.long().view(-1), self.num_classes).to(content.dtype), content]
        if style is not None:
            parts.append(style)
        code = torch.cat(parts, dim=1)
        if code.shape[1] != self.code_dim:
            raise ConfigError(
                f"latent code has {code.shape[1]} values, expected {self.code_dim} "
                f"(num_classes + content_dim + style_dim of {self})."
            )
        return code

    def split(self, code: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """``(condition, content, style)`` parts of codes ``(B, code_dim)`` (style is empty with one latent)."""
        condition, content, style = code.split([self.num_classes, self.content_dim, self.style_dim], dim=1)
        return condition, content, style

    def sample(self, labels: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        """Codes for ``labels`` with content and style drawn from the priors ``N(0, I)``."""
        labels = labels.long().view(-1)
        noise = torch.randn(
            len(labels),
            self.content_dim + self.style_dim,
            generator=generator,
            device=labels.device if generator is None else generator.device,
        )
        return self.code(labels, noise.to(labels.device))


def _num_levels(image_size: int) -> int:
    """Number of stride-2 stages between a 4x4 map and ``image_size`` (a power of two >= 16)."""
    levels = int(round(math.log2(image_size))) - 2 if isinstance(image_size, int) and image_size > 0 else -1
    if isinstance(image_size, bool) or levels < 2 or 4 * 2**levels != image_size:
        raise ConfigError(f"image_size must be a power of two >= 16 (64 or 128 for DRAI), got {image_size!r}.")
    return levels


def _down_trunk(in_channels: int, base_channels: int, image_size: int) -> tuple[nn.Sequential, int]:
    """DCGAN discriminator trunk: stride-2 4x4 convolutions from ``image_size`` down to 4x4, LeakyReLU(0.2), batch
    norm after every convolution but the first; returns the trunk and its output channels (the arguments checked)."""
    layers: list[nn.Module] = []
    channels = check_int("in_channels", in_channels, 1)
    base_channels = check_int("base_channels", base_channels, 1)
    for i in range(_num_levels(image_size)):
        out = base_channels * 2**i
        layers.append(nn.Conv2d(channels, out, 4, 2, 1, bias=i == 0))
        if i > 0:
            layers.append(nn.BatchNorm2d(out))
        layers.append(nn.LeakyReLU(0.2, inplace=True))
        channels = out
    return nn.Sequential(*layers), channels


class DRAIGenerator(nn.Module):
    """``G(c, z_c, z_s) -> image``: a DCGAN generator over the concatenated code.

    The code ``(B, code_dim)`` (or ``(B, code_dim, 1, 1)``) goes through a 4x4 transposed convolution to a 4x4 map
    with ``base_channels * 2**(L-1)`` channels, then ``L - 1`` stride-2 4x4 transposed convolutions halving the
    channels, each followed by batch norm and ReLU, and a last stride-2 transposed convolution to ``out_channels``
    with tanh (``L = log2(image_size) - 2``: 64² has channels 8-4-2-1 x ``base_channels``, as DCGAN). Weights
    start from N(0, 0.02) (batch norm scales from N(1, 0.02)).

    It takes one tensor so that it can be a bundle's ``network_def`` (MONAI's ``verify_net_in_out`` feeds one
    ``(1, code_dim)`` input); build codes with :attr:`layout` (``layout.code(labels, z_c, z_s)``).

    Args:
        num_classes: number of conditions.
        content_dim: size of ``z_c``.
        style_dim: size of ``z_s`` (0: one-latent ablation ``G(c, z)``).
        image_size: side of the square output, a power of two >= 16.
        base_channels: channels of the last hidden stage (``ngf``).
        out_channels: image channels.
    """

    def __init__(
        self,
        num_classes: int = 3,
        content_dim: int = 16,
        style_dim: int = 16,
        image_size: int = 64,
        base_channels: int = 64,
        out_channels: int = 1,
    ) -> None:
        super().__init__()
        self.layout = LatentLayout(num_classes, content_dim, style_dim)
        levels = _num_levels(image_size)
        base_channels = check_int("base_channels", base_channels, 1)
        self.image_size = image_size
        self.code_dim = self.layout.code_dim  # a plain int, for TorchScript
        channels = base_channels * 2 ** (levels - 1)
        layers: list[nn.Module] = [
            nn.ConvTranspose2d(self.layout.code_dim, channels, 4, 1, 0, bias=False),
            nn.BatchNorm2d(channels),
            nn.ReLU(inplace=True),
        ]
        for _ in range(levels - 1):
            layers += [
                nn.ConvTranspose2d(channels, channels // 2, 4, 2, 1, bias=False),
                nn.BatchNorm2d(channels // 2),
                nn.ReLU(inplace=True),
            ]
            channels //= 2
        layers += [nn.ConvTranspose2d(channels, check_int("out_channels", out_channels, 1), 4, 2, 1), nn.Tanh()]
        self.net = nn.Sequential(*layers)
        self.apply(normal_init)

    def forward(self, code: torch.Tensor) -> torch.Tensor:
        if code.ndim == 4 and code.shape[2:] == (1, 1):
            code = code.flatten(1)
        if code.ndim != 2 or code.shape[1] != self.code_dim:
            raise ValueError(
                f"DRAIGenerator expects codes of shape (B, {self.code_dim}) = [one-hot condition, "
                f"content, style], got {list(code.shape)}."
            )
        return self.net(code[:, :, None, None])


class DRAIEncoder(nn.Module):
    """``E(x) -> (class logits, z_c, z_s)``: a DCGAN discriminator trunk shared by three linear heads.

    The trunk (stride-2 4x4 convolutions to a 4x4 map, LeakyReLU 0.2, batch norm but after the first) is flattened
    and read by a class head (logits of the condition ``ĉ``), a content head and a style head (deterministic codes,
    as BiGAN's encoder). With ``style_dim=0`` the style output is an empty ``(B, 0)`` tensor.

    Args:
        num_classes: number of conditions.
        content_dim: size of ``z_c``.
        style_dim: size of ``z_s`` (0: one latent).
        image_size: side of the square input, a power of two >= 16.
        base_channels: channels of the first convolution (``ndf``).
        in_channels: image channels.
    """

    def __init__(
        self,
        num_classes: int = 3,
        content_dim: int = 16,
        style_dim: int = 16,
        image_size: int = 64,
        base_channels: int = 64,
        in_channels: int = 1,
    ) -> None:
        super().__init__()
        self.layout = LatentLayout(num_classes, content_dim, style_dim)
        self.trunk, channels = _down_trunk(in_channels, base_channels, image_size)
        features = channels * 16
        self.class_head = nn.Linear(features, num_classes)
        self.content_head = nn.Linear(features, content_dim)
        self.style_head = nn.Linear(features, style_dim) if style_dim > 0 else None
        self.apply(normal_init)

    def forward(self, image: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        h = self.trunk(image).flatten(1)
        style = self.style_head(h) if self.style_head is not None else h.new_zeros(len(h), 0)
        return self.class_head(h), self.content_head(h), style

    def code(self, image: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        """The inferred code of ``image``: condition = ``labels`` when given, else the predicted class."""
        logits, content, style = self(image)
        return self.layout.code(logits.argmax(dim=1) if labels is None else labels, content, style)


class DRAIDiscriminator(nn.Module):
    """``D(x, c, z_c, z_s) -> logit``: the joint discriminator of adversarial inference.

    Real pairs are ``(x, [c_x, E_c(x), E_s(x)])``, fake pairs ``(G(code), code)``. An image trunk (as the encoder's)
    and a two-layer latent MLP (``hidden_channels`` units, LeakyReLU 0.2) are fused by a two-layer joint MLP to one
    logit; dropout (0.2 in ALI) follows every latent and joint layer.

    Args:
        num_classes: number of conditions.
        content_dim: size of ``z_c``.
        style_dim: size of ``z_s`` (0: one latent).
        image_size: side of the square input, a power of two >= 16.
        base_channels: channels of the first convolution (``ndf``).
        hidden_channels: width of the latent and joint MLPs.
        dropout: dropout probability of the latent and joint MLPs.
        in_channels: image channels.
    """

    def __init__(
        self,
        num_classes: int = 3,
        content_dim: int = 16,
        style_dim: int = 16,
        image_size: int = 64,
        base_channels: int = 64,
        hidden_channels: int = 512,
        dropout: float = 0.2,
        in_channels: int = 1,
    ) -> None:
        super().__init__()
        if not 0.0 <= dropout < 1.0:
            raise ConfigError(f"dropout must be in [0, 1), got {dropout!r}.")
        self.layout = LatentLayout(num_classes, content_dim, style_dim)
        hidden = check_int("hidden_channels", hidden_channels, 1)
        self.image_trunk, channels = _down_trunk(in_channels, base_channels, image_size)

        def block(n_in: int, n_out: int) -> list[nn.Module]:
            return [nn.Linear(n_in, n_out), nn.LeakyReLU(0.2, inplace=True), nn.Dropout(dropout)]

        self.code_mlp = nn.Sequential(*block(self.layout.code_dim, hidden), *block(hidden, hidden))
        self.joint_mlp = nn.Sequential(*block(channels * 16 + hidden, hidden), nn.Linear(hidden, 1))
        self.apply(normal_init)

    def forward(self, image: torch.Tensor, code: torch.Tensor) -> torch.Tensor:
        """Logits ``(B,)`` that the pair ``(image, code)`` comes from the encoder side (real data)."""
        joint = torch.cat([self.image_trunk(image).flatten(1), self.code_mlp(code)], dim=1)
        return self.joint_mlp(joint).view(-1)


class DRAIStyleClassifier(nn.Module):
    """``h(z_s) -> class logits``: the adversary of the gradient-reversal regulariser.

    It learns to predict the condition from the style code; placed behind a gradient-reversal layer (the trainer's
    ``lambda_grl``), the encoder receives the reversed gradient and removes class information from ``z_s``.
    An MLP with two hidden layers of ``hidden_channels`` units and LeakyReLU(0.2), with PyTorch's default
    initialisation (DCGAN's N(0, 0.02) would shrink its outputs a hundredfold and leave it unable to learn).

    Args:
        style_dim: size of ``z_s``.
        num_classes: number of conditions.
        hidden_channels: width of the hidden layers.
    """

    def __init__(self, style_dim: int = 16, num_classes: int = 3, hidden_channels: int = 64) -> None:
        super().__init__()
        hidden = check_int("hidden_channels", hidden_channels, 1)
        self.net = nn.Sequential(
            nn.Linear(check_int("style_dim", style_dim, 1), hidden),
            nn.LeakyReLU(0.2, inplace=True),
            nn.Linear(hidden, hidden),
            nn.LeakyReLU(0.2, inplace=True),
            nn.Linear(hidden, check_int("num_classes", num_classes, 1)),
        )

    def forward(self, style: torch.Tensor) -> torch.Tensor:
        return self.net(style)


class DRAIAutoencoder(nn.Module):
    """A trained encoder and generator together: reconstructions ``G(E(x))`` and content/style swaps.

    ``forward(x)`` reconstructs ``x`` from its inferred code (condition = the predicted class), which is what the
    validation scores; :meth:`swap` keeps the condition and content of one image and takes the style of another.
    Only the networks' forward passes are called, so they may be ``DistributedDataParallel``-wrapped (validation
    under ``torchrun`` then keeps their batch-norm statistics in sync across processes).

    Args:
        encoder: a :class:`DRAIEncoder`.
        generator: a :class:`DRAIGenerator` with the same latent layout.
    """

    def __init__(self, encoder: nn.Module, generator: nn.Module) -> None:
        super().__init__()
        encoder_layout, self.layout = unwrap(encoder).layout, unwrap(generator).layout
        if encoder_layout != self.layout:
            raise ConfigError(
                f"encoder and generator latent layouts differ: {encoder_layout} vs {self.layout}; "
                "give both the same num_classes, content_dim and style_dim."
            )
        self.encoder = encoder
        self.generator = generator

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        logits, content, style = self.encoder(image)
        return self.generator(self.layout.code(logits.argmax(dim=1), content, style))

    def swap(self, content_image: torch.Tensor, style_image: torch.Tensor) -> torch.Tensor:
        """Images with the condition and content of ``content_image`` and the style of ``style_image`` (paired along
        the batch; one style image is broadcast to every content image)."""
        if self.layout.style_dim == 0:
            raise ConfigError("content/style swaps need a style latent; this model has one latent (style_dim=0).")
        logits, content, _ = self.encoder(content_image)
        style = self.encoder(style_image)[2].expand(len(content), -1)
        return self.generator(self.layout.code(logits.argmax(dim=1), content, style))
