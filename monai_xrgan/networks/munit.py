"""MUNIT (Huang et al. 2018, NVlabs/MUNIT): content/style encoders, AdaIN decoder and multi-scale LSGAN discriminator.

Layouts and defaults follow the reference ``networks.py`` and ``configs/edges2handbags_folder.yaml``: ``dim`` 64,
2 down-samplings, 4 residual blocks, ``style_dim`` 8, MLP 256 units, reflect padding, ReLU; discriminator of 4
layers at 3 scales, no norm, leaky ReLU 0.2. With one channel at 256^2 one domain's generator has 15,007,369
parameters and one discriminator 8,265,027, as the reference. DiffusionXRay uses it to translate high-quality
radiographs into the DRR style (MUNIT-LQ).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from monai_xrgan.utils.errors import ConfigError

__all__ = [
    "MUNITLayerNorm",
    "MUNITContentEncoder",
    "MUNITStyleEncoder",
    "MUNITDecoder",
    "MUNITGenerator",
    "MUNITDiscriminator",
    "MUNITTranslator",
    "munit_init",
]


class MUNITLayerNorm(nn.Module):
    """The reference's layer norm: each sample normalised over ``(C, H, W)`` by its mean and (unbiased) standard
    deviation, then a per-channel affine."""

    def __init__(self, num_features: int, eps: float = 1e-5) -> None:
        super().__init__()
        self.eps = eps
        self.gamma = nn.Parameter(torch.rand(num_features))
        self.beta = nn.Parameter(torch.zeros(num_features))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        flat = x.reshape(x.shape[0], -1)
        shape = (-1,) + (1,) * (x.ndim - 1)
        x = (x - flat.mean(1).view(shape)) / (flat.std(1).view(shape) + self.eps)
        affine = (1, -1) + (1,) * (x.ndim - 2)
        return x * self.gamma.view(affine) + self.beta.view(affine)


def _conv_block(
    cin: int, cout: int, kernel: int, stride: int, padding: int, norm: str, activation: str
) -> nn.Sequential:
    """Reflect padding, convolution (with bias), norm (``"in"``, ``"ln"`` or ``"none"``), activation."""
    layers: list[nn.Module] = [nn.ReflectionPad2d(padding), nn.Conv2d(cin, cout, kernel, stride)]
    if norm == "in":
        layers.append(nn.InstanceNorm2d(cout))
    elif norm == "ln":
        layers.append(MUNITLayerNorm(cout))
    acts = {"relu": nn.ReLU(inplace=True), "lrelu": nn.LeakyReLU(0.2, inplace=True), "tanh": nn.Tanh()}
    if activation in acts:
        layers.append(acts[activation])
    return nn.Sequential(*layers)


class _ResBlock(nn.Module):
    """``x + conv(relu(norm(conv(x))))`` with instance norm, or with AdaIN whose parameters come with the call."""

    def __init__(self, dim: int, adain: bool) -> None:
        super().__init__()
        norm = "none" if adain else "in"
        self.conv1 = _conv_block(dim, dim, 3, 1, 1, norm, "none")
        self.conv2 = _conv_block(dim, dim, 3, 1, 1, norm, "none")

    @staticmethod
    def _adain(x: torch.Tensor, params: torch.Tensor) -> torch.Tensor:
        mean, std = params.chunk(2, dim=1)
        return F.instance_norm(x) * std[:, :, None, None] + mean[:, :, None, None]

    def forward(self, x: torch.Tensor, params: torch.Tensor | None = None) -> torch.Tensor:
        if params is None:
            return x + self.conv2(F.relu(self.conv1(x)))
        p1, p2 = params.chunk(2, dim=1)
        y = F.relu(self._adain(self.conv1(x), p1))
        return x + self._adain(self.conv2(y), p2)


class MUNITContentEncoder(nn.Module):
    """7x7 conv ``dim`` -> ``n_downsample`` stride-2 4x4 convs (doubling) -> ``n_res`` residual blocks, instance
    norm."""

    def __init__(self, in_channels: int = 1, dim: int = 64, n_downsample: int = 2, n_res: int = 4) -> None:
        super().__init__()
        layers = [_conv_block(in_channels, dim, 7, 1, 3, "in", "relu")]
        for _ in range(n_downsample):
            layers.append(_conv_block(dim, 2 * dim, 4, 2, 1, "in", "relu"))
            dim *= 2
        self.down = nn.Sequential(*layers)
        self.res = nn.Sequential(*[_ResBlock(dim, adain=False) for _ in range(n_res)])
        self.out_channels = dim

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.res(self.down(x))


class MUNITStyleEncoder(nn.Module):
    """7x7 conv ``dim`` -> 2 doubling + ``n_downsample - 2`` stride-2 4x4 convs, no norm -> global average pool ->
    1x1 conv to ``style_dim``; returns ``(B, style_dim, 1, 1)``."""

    def __init__(self, in_channels: int = 1, dim: int = 64, style_dim: int = 8, n_downsample: int = 4) -> None:
        super().__init__()
        layers = [_conv_block(in_channels, dim, 7, 1, 3, "none", "relu")]
        for i in range(n_downsample):
            out = 2 * dim if i < 2 else dim
            layers.append(_conv_block(dim, out, 4, 2, 1, "none", "relu"))
            dim = out
        layers += [nn.AdaptiveAvgPool2d(1), nn.Conv2d(dim, style_dim, 1)]
        self.model = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x)


class MUNITDecoder(nn.Module):
    """``n_res`` AdaIN residual blocks -> ``n_upsample`` x (nearest x2, 5x5 conv, layer norm) -> 7x7 conv -> tanh;
    the AdaIN means and standard deviations come from a 3-layer MLP of the style code."""

    def __init__(
        self, dim: int = 256, out_channels: int = 1, n_upsample: int = 2, n_res: int = 4, style_dim: int = 8,
        mlp_dim: int = 256,
    ) -> None:  # fmt: skip
        super().__init__()
        self.res = nn.ModuleList([_ResBlock(dim, adain=True) for _ in range(n_res)])
        self.num_adain_params = 4 * dim * n_res  # (mean, std) for the 2 AdaIN layers of each block
        layers: list[nn.Module] = []
        for _ in range(n_upsample):
            layers += [nn.Upsample(scale_factor=2), _conv_block(dim, dim // 2, 5, 1, 2, "ln", "relu")]
            dim //= 2
        layers.append(_conv_block(dim, out_channels, 7, 1, 3, "none", "tanh"))
        self.up = nn.Sequential(*layers)
        self.mlp = nn.Sequential(
            nn.Linear(style_dim, mlp_dim), nn.ReLU(inplace=True), nn.Linear(mlp_dim, mlp_dim), nn.ReLU(inplace=True),
            nn.Linear(mlp_dim, self.num_adain_params),
        )  # fmt: skip

    def forward(self, content: torch.Tensor, style: torch.Tensor) -> torch.Tensor:
        params = self.mlp(style.flatten(1))
        x = content
        # per block (mean, std) of its first and then its second AdaIN layer, in the reference's order
        for block, p in zip(self.res, params.chunk(len(self.res), dim=1)):
            x = block(x, p)
        return self.up(x)


class MUNITGenerator(nn.Module):
    """One domain's MUNIT auto-encoder: ``encode(x) -> (content, style)``, ``decode(content, style) -> image``;
    ``forward(x)`` reconstructs ``x``."""

    def __init__(
        self, in_channels: int = 1, dim: int = 64, style_dim: int = 8, n_downsample: int = 2, n_res: int = 4,
        mlp_dim: int = 256,
    ) -> None:  # fmt: skip
        super().__init__()
        if dim < 1 or style_dim < 1 or n_downsample < 0 or n_res < 0:
            raise ConfigError(f"MUNITGenerator: dim, style_dim > 0 and n_downsample, n_res >= 0, got {dim}, "
                              f"{style_dim}, {n_downsample}, {n_res}.")  # fmt: skip
        self.style_dim = style_dim
        self.enc_content = MUNITContentEncoder(in_channels, dim, n_downsample, n_res)
        self.enc_style = MUNITStyleEncoder(in_channels, dim, style_dim, 4)
        self.dec = MUNITDecoder(self.enc_content.out_channels, in_channels, n_downsample, n_res, style_dim, mlp_dim)

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.enc_content(x), self.enc_style(x)

    def decode(self, content: torch.Tensor, style: torch.Tensor) -> torch.Tensor:
        return self.dec(content, style)

    def random_style(
        self, batch: int, device: torch.device | str, generator: torch.Generator | None = None
    ) -> torch.Tensor:
        """Style codes drawn from the prior ``N(0, I)``."""
        return torch.randn(batch, self.style_dim, 1, 1, device=device, generator=generator)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.decode(*self.encode(x))


class MUNITDiscriminator(nn.Module):
    """Multi-scale discriminator: at each of ``num_scales`` scales (3x3 average-pool down-sampling between them)
    ``n_layers`` x [4x4 stride-2 conv, leaky ReLU 0.2] (channels doubling from ``dim``) + 1x1 conv; returns the
    list of logit maps."""

    def __init__(self, in_channels: int = 1, dim: int = 64, n_layers: int = 4, num_scales: int = 3) -> None:
        super().__init__()
        nets = []
        for _ in range(num_scales):
            layers, d = [_conv_block(in_channels, dim, 4, 2, 1, "none", "lrelu")], dim
            for _ in range(n_layers - 1):
                layers.append(_conv_block(d, 2 * d, 4, 2, 1, "none", "lrelu"))
                d *= 2
            layers.append(nn.Conv2d(d, 1, 1))
            nets.append(nn.Sequential(*layers))
        self.nets = nn.ModuleList(nets)
        self.downsample = nn.AvgPool2d(3, stride=2, padding=1, count_include_pad=False)

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        outputs = []
        for net in self.nets:
            outputs.append(net(x))
            x = self.downsample(x)
        return outputs


class MUNITTranslator(nn.Module):
    """Translate domain A into domain B: ``target.decode(source.enc_content(x), s)`` with a style ``s ~ N(0, I)`` of
    B, drawn from ``seed`` at every call (the same image gets the same translation), or from the global random state
    when ``seed`` is ``None``."""

    def __init__(self, source: MUNITGenerator, target: MUNITGenerator, seed: int | None = 0) -> None:
        super().__init__()
        self.source, self.target, self.seed = source, target, seed

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        generator = None if self.seed is None else torch.Generator(device=x.device).manual_seed(self.seed)
        style = self.target.random_style(x.shape[0], x.device, generator)
        return self.target.decode(self.source.enc_content(x), style)


def munit_init(module: nn.Module, kind: str = "kaiming") -> nn.Module:
    """The reference's weight init of convolutions and linear layers: ``"kaiming"`` (generators, fan-in) or
    ``"gaussian"`` (discriminators, N(0, 0.02)); biases zero. Returns ``module``."""
    if kind not in ("kaiming", "gaussian"):
        raise ConfigError(f"munit_init kind must be 'kaiming' or 'gaussian', got {kind!r}.")
    for m in module.modules():
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            if kind == "kaiming":
                nn.init.kaiming_normal_(m.weight, a=0, mode="fan_in")
            else:
                nn.init.normal_(m.weight, 0.0, 0.02)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
    return module
