"""StarGAN generator and discriminator (Choi et al. 2018, reference ``yunjey/stargan``) with MI-GAN's key-domain
attention branch.

One generator translates an image into any of ``num_domains`` domains: the target domain is given as a one-hot
label, broadcast to constant maps and concatenated to the image. The discriminator is a PatchGAN critic with an
auxiliary domain classifier. MI-GAN adds, for translations into one *key* domain, an attention head on the
generator's decoder features: a mask ``A`` in ``[0, 1]`` and a content image ``C`` give ``A * C + (1 - A) * x``, so
that those translations change only the regions the mask selects (GANimation-style heads, our reading of the
paper's "key migration branch"). Translations into every other domain are residual, ``x + tanh(.)``, so that every
translation keeps the anatomy of its input and the untrained generator returns (close to) its input.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Optional

import torch
import torch.nn.functional as F
from torch import nn

from monai_xrgan.utils.checks import check_int
from monai_xrgan.utils.errors import ConfigError

__all__ = ["StarGANGenerator", "StarGANDiscriminator", "domain_condition", "domain_index"]

#: initial bias of the key branch's attention logits: ``A = sigmoid(-3)`` about 0.05, close to no change
_ATTENTION_BIAS = -3.0


def _check_domain(name: str, value: int | None, num_domains: int) -> int:
    """A domain index in ``[0, num_domains)`` (``-1`` for ``None``, TorchScript has no optional ints as attributes)."""
    if value is None:
        return -1
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < num_domains:
        raise ConfigError(f"{name} must be a domain index in [0, {num_domains - 1}] or null, got {value!r}.")
    return value


def domain_index(domain: int | str, domains: Sequence[str], key: str = "target_domain") -> int:
    """The index of ``domain`` (a name of ``domains`` or an index into them); a one-line error naming ``key``."""
    if isinstance(domain, str) and domain in domains:
        return list(domains).index(domain)
    if isinstance(domain, str) and domain.lstrip("-").isdigit():
        domain = int(domain)
    if isinstance(domain, int) and not isinstance(domain, bool) and 0 <= domain < len(domains):
        return domain
    choices = ", ".join(f"{i} {name}" for i, name in enumerate(domains))
    raise ConfigError(f"{key} {domain!r} is not a domain; use a name or index of: {choices}.")


def domain_condition(c: torch.Tensor, num_domains: int, batch: int, dtype: torch.dtype) -> torch.Tensor:
    """Target-domain labels as float ``(B, num_domains)``: class indices (``(B,)``, or one index for the whole batch)
    become one-hot vectors, ``(B, num_domains)`` labels (one-hot or soft) pass through."""
    if c.dim() == 2:
        if c.shape[1] != num_domains:
            raise ValueError(f"domain labels must have {num_domains} columns, got shape {list(c.shape)}.")
        return c.to(dtype)
    if c.dim() > 1:
        raise ValueError(f"domain labels must be indices (B,) or (B, num_domains) vectors, got shape {list(c.shape)}.")
    index = c.reshape(-1).long()
    if index.numel() == 1:
        index = index.expand(batch)
    if bool((index < 0).any()) or bool((index >= num_domains).any()):
        raise ValueError(f"domain indices must be in [0, {num_domains - 1}].")
    return F.one_hot(index, num_domains).to(dtype)


class _ResidualBlock(nn.Module):
    """3x3 conv -> IN -> ReLU -> 3x3 conv -> IN, plus the identity (the reference's ``ResidualBlock``)."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(channels, channels, 3, 1, 1, bias=False),
            nn.InstanceNorm2d(channels, affine=True),
            nn.ReLU(inplace=True),
            nn.Conv2d(channels, channels, 3, 1, 1, bias=False),
            nn.InstanceNorm2d(channels, affine=True),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


def _conv_in_relu(conv: nn.Module, channels: int) -> list[nn.Module]:
    return [conv, nn.InstanceNorm2d(channels, affine=True), nn.ReLU(inplace=True)]


class StarGANGenerator(nn.Module):
    """StarGAN generator: ``G(x, c)`` translates ``x`` (in ``[-1, 1]``) into target domain ``c``.

    Layer for layer the reference: 7x7 conv (``base_channels``) -> IN -> ReLU; two 4x4 stride-2 convs doubling the
    channels, each IN + ReLU; ``num_res_blocks`` residual blocks; two 4x4 stride-2 transposed convs halving them,
    each IN + ReLU; 7x7 conv to the image channels -> tanh. Convolutions have no bias, instance norms are affine.
    Instance norms always use the statistics of the image itself (the reference keeps running averages but never
    switches to them, its networks stay in train mode at test time). 1 channel, 3 domains: 8,411,712 parameters.
    Unlike the reference the output is residual, ``clamp(x + tanh(.), -1, 1)``, and the last conv starts at zero:
    the untrained generator returns its input, and a translation can only edit the input, never replace it by a
    domain template (what the reference's free output did on the 2-patient key domain of the demo).

    With ``key_domain`` the generator has MI-GAN's key migration branch: two 7x7 convs on the last decoder features
    give an attention mask ``A = sigmoid(.)`` (1 channel, with a bias starting at ``-3``: ``A`` about 0.05) and a
    content image ``C = tanh(.)`` (starting at 0); translations into ``key_domain`` return ``A * C + (1 - A) * x``
    instead of the residual head's image (+6,273 parameters for 1 channel). Both heads run for every sample and the
    result is selected per sample, so every parameter takes part in every forward pass (as
    ``DistributedDataParallel`` expects).

    Args:
        in_channels: image channels (also the output channels).
        num_domains: number of domains (length of the one-hot condition).
        base_channels: channels of the first convolution (``g_conv_dim``, 64).
        num_res_blocks: residual blocks in the bottleneck (``g_repeat_num``, 6).
        key_domain: index of the key domain that gets the attention branch, or ``None`` (plain StarGAN).
        target_domain: domain used when ``forward`` is called without ``c`` (single-input inference, export,
            serving), or ``None`` to require ``c``.
    """

    def __init__(
        self,
        in_channels: int = 1,
        num_domains: int = 3,
        base_channels: int = 64,
        num_res_blocks: int = 6,
        key_domain: int | None = None,
        target_domain: int | None = None,
    ) -> None:
        super().__init__()
        self.in_channels = check_int("in_channels", in_channels, 1)
        self.num_domains = check_int("num_domains", num_domains, 1)
        if num_domains < 2:
            raise ConfigError(f"num_domains must be at least 2, got {num_domains}.")
        width = check_int("base_channels", base_channels, 1)
        check_int("num_res_blocks", num_res_blocks, 1)
        self.key_domain = _check_domain("key_domain", key_domain, num_domains)
        self.target_domain = _check_domain("target_domain", target_domain, num_domains)
        self.encoder = nn.Sequential(
            *_conv_in_relu(nn.Conv2d(in_channels + num_domains, width, 7, 1, 3, bias=False), width),
            *_conv_in_relu(nn.Conv2d(width, 2 * width, 4, 2, 1, bias=False), 2 * width),
            *_conv_in_relu(nn.Conv2d(2 * width, 4 * width, 4, 2, 1, bias=False), 4 * width),
        )
        self.bottleneck = nn.Sequential(*(_ResidualBlock(4 * width) for _ in range(num_res_blocks)))
        self.decoder = nn.Sequential(
            *_conv_in_relu(nn.ConvTranspose2d(4 * width, 2 * width, 4, 2, 1, bias=False), 2 * width),
            *_conv_in_relu(nn.ConvTranspose2d(2 * width, width, 4, 2, 1, bias=False), width),
        )
        self.to_image = nn.Conv2d(width, in_channels, 7, 1, 3, bias=False)
        nn.init.zeros_(self.to_image.weight)  # residual output: the untrained generator is the identity
        self.key_attention: nn.Conv2d | None = None
        self.key_content: nn.Conv2d | None = None
        if self.key_domain >= 0:
            self.key_attention = nn.Conv2d(width, 1, 7, 1, 3)
            nn.init.zeros_(self.key_attention.weight)
            nn.init.constant_(self.key_attention.bias, _ATTENTION_BIAS)
            self.key_content = nn.Conv2d(width, in_channels, 7, 1, 3, bias=False)
            nn.init.zeros_(self.key_content.weight)

    @property
    def has_key_branch(self) -> bool:
        """Whether the generator has the key migration branch."""
        return self.key_domain >= 0

    def condition(self, x: torch.Tensor, c: Optional[torch.Tensor] = None) -> torch.Tensor:
        """The float ``(B, num_domains)`` target labels of a batch ``x`` (``c`` or ``target_domain``)."""
        if c is None:  # a one-hot built without data-dependent checks, so that the network exports to ONNX
            if self.target_domain < 0:
                raise ValueError("no target domain: pass c, or build the generator with target_domain.")
            labels = torch.zeros((x.shape[0], self.num_domains), dtype=x.dtype, device=x.device)
            labels[:, self.target_domain] = 1.0
            return labels
        return domain_condition(c, self.num_domains, x.shape[0], x.dtype)

    def _with_label_maps(self, x: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        maps = labels[:, :, None, None].expand(-1, -1, x.shape[2], x.shape[3])
        return torch.cat([x, maps.to(x.dtype)], dim=1)

    def encode(self, x: torch.Tensor, c: Optional[torch.Tensor] = None) -> torch.Tensor:
        """Encoder features (after the two down-samplings, ``4 * base_channels`` channels at 1/4 of the size)."""
        return self.encoder(self._with_label_maps(x, self.condition(x, c)))

    def forward(self, x: torch.Tensor, c: Optional[torch.Tensor] = None, with_attention: bool = False) -> torch.Tensor:
        """Translate ``x`` ``(B, in_channels, H, W)`` (H, W multiples of 4) into the domains ``c``.

        Args:
            x: images in ``[-1, 1]``.
            c: target domains: indices ``(B,)`` (or one index), or ``(B, num_domains)`` labels; ``None`` uses
                ``target_domain``.
            with_attention: also return the key branch's attention mask, appended as the last channel (zeros for
                samples not translated into the key domain and for generators without the branch).
        """
        labels = self.condition(x, c)
        features = self.decoder(self.bottleneck(self.encoder(self._with_label_maps(x, labels))))
        image = torch.clamp(x + torch.tanh(self.to_image(features)), -1.0, 1.0)
        mask = torch.zeros_like(image[:, :1])
        if self.key_attention is not None and self.key_content is not None:
            attention = torch.sigmoid(self.key_attention(features))
            keyed = attention * torch.tanh(self.key_content(features)) + (1.0 - attention) * x
            into_key = (labels[:, self.key_domain] > 0.5).reshape(-1, 1, 1, 1)
            image = torch.where(into_key, keyed, image)
            mask = attention * into_key.to(attention.dtype)
        return torch.cat([image, mask], dim=1) if with_attention else image


class StarGANDiscriminator(nn.Module):
    """StarGAN discriminator: a PatchGAN critic with an auxiliary domain classifier.

    ``num_layers`` 4x4 stride-2 convs (with bias) each followed by LeakyReLU(0.01), from ``base_channels`` doubling
    (64 ... 2048 for 6 layers); heads: a 3x3 conv to 1 channel (the critic's patch map) and a conv whose kernel
    covers the whole remaining map (``image_size / 2**num_layers``) to ``num_domains`` logits, both without bias.
    1 channel, 128², 3 domains: 44,743,616 parameters.

    Args:
        in_channels: image channels.
        num_domains: number of domains.
        image_size: side of the square input images (a multiple of ``2**num_layers``).
        base_channels: channels of the first convolution (``d_conv_dim``, 64).
        num_layers: stride-2 convolutions (``d_repeat_num``, 6).
    """

    def __init__(
        self,
        in_channels: int = 1,
        num_domains: int = 3,
        image_size: int = 128,
        base_channels: int = 64,
        num_layers: int = 6,
    ) -> None:
        super().__init__()
        check_int("in_channels", in_channels, 1)
        self.num_domains = check_int("num_domains", num_domains, 1)
        check_int("base_channels", base_channels, 1)
        check_int("num_layers", num_layers, 1)
        if check_int("image_size", image_size, 1) % 2**num_layers:
            raise ConfigError(
                f"image_size must be a multiple of 2**num_layers = {2**num_layers} (the discriminator halves it "
                f"{num_layers} times), got {image_size}; change image_size or num_layers."
            )
        layers: list[nn.Module] = []
        channels = in_channels
        for i in range(num_layers):
            layers += [nn.Conv2d(channels, base_channels * 2**i, 4, 2, 1), nn.LeakyReLU(0.01)]
            channels = base_channels * 2**i
        self.trunk = nn.ModuleList(layers)
        self.critic = nn.Conv2d(channels, 1, 3, 1, 1, bias=False)
        self.classifier = nn.Conv2d(channels, num_domains, image_size // 2**num_layers, bias=False)

    def forward(
        self, x: torch.Tensor, return_features: bool = False
    ) -> tuple[torch.Tensor, torch.Tensor] | tuple[torch.Tensor, torch.Tensor, list[torch.Tensor]]:
        """``(critic patch map (B, 1, h, w), domain logits (B, num_domains))``, plus with ``return_features`` the
        output of every LeakyReLU of the trunk (the intermediate features of MI-GAN's feature matching)."""
        features = []
        h = x
        for layer in self.trunk:
            h = layer(h)
            if isinstance(layer, nn.LeakyReLU):
                features.append(h)
        logits = self.classifier(h).reshape(x.shape[0], self.num_domains)
        if return_features:
            return self.critic(h), logits, features
        return self.critic(h), logits
