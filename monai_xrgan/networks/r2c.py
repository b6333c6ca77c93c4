"""R2C-GAN networks (Ahishali et al., "R2C-GAN: Restore-to-Classify GANs for blind X-ray restoration and COVID-19
classification"): generators that restore a radiograph and classify it, and their discriminators.

Layer for layer as the reference's Keras models (``module.py`` of meteahishali/R2C-GAN), with the channel counts as
parameters (1 grey channel for CXR instead of the reference's 3):

* ``"operational"`` (the paper's model, ``q = 3``): :class:`OperationalGenerator` and :class:`OperationalDiscriminator`
  built from Self-ONN layers (:mod:`monai_xrgan.networks.operational`);
* ``"convolutional"``: the CycleGAN ResNet generator with the classification branch (:class:`ResNetGenerator`) and a
  3-down-sampling PatchGAN (MONAI's :class:`~monai.networks.nets.PatchDiscriminator`);
* ``"convolutional-light"``: the operational architecture with ``q = 1`` (plain convolutions).

Pick one with :func:`r2c_generator` / :func:`r2c_discriminator` (``variant``, ``q``). Two generator switches
deviate from the reference by default (see the bundle's model card for the measurements):

* ``residual_output=True``: the generator returns ``clamp(x + r, -1, 1)`` where ``r`` is its last layer's output
  without the ``tanh``, and that layer starts at zero, so an untrained generator is exactly the identity (the
  reference, ``False``, ends in ``tanh`` and must learn the identity from scratch);
* ``head_pooling="avg"``: the classification branch averages the features over the image (the reference's
  ``"max"`` pools ``tanh``-saturated features, nearly the same vector for every image at initialisation).

 Every operational layer of the
generator sees inputs in ``[-1, 1]``: the image, or a ``tanh`` output (the reference applies ``tanh`` before and
inside its residual block). As in the reference, the discriminator's second and third layers see LeakyReLU outputs.
Weights start from Keras' defaults (Glorot-uniform kernels, zero biases), instance norms use the TensorFlow-Addons
defaults (affine, ``eps = 1e-3``).
"""

from __future__ import annotations

from typing import Union

import torch
from monai.networks.nets import PatchDiscriminator
from torch import nn

from monai_xrgan.networks.operational import Oper2d, Oper2dTranspose
from monai_xrgan.utils.checks import check_int
from monai_xrgan.utils.errors import ConfigError

__all__ = [
    "VARIANTS",
    "HEAD_POOLINGS",
    "JointGenerator",
    "OperationalResidualBlock",
    "OperationalGenerator",
    "OperationalDiscriminator",
    "ResidualBlock",
    "ResNetGenerator",
    "keras_init_",
    "r2c_generator",
    "r2c_discriminator",
]

#: the reference's ``--method`` values
VARIANTS = ("operational", "convolutional", "convolutional-light")
#: global poolings of the classification branch: the reference's ``"max"`` or ``"avg"``
HEAD_POOLINGS = ("avg", "max")


def keras_init_(module: nn.Module) -> nn.Module:
    """Re-initialise ``module`` in place with Keras' defaults (the reference's): Glorot-uniform weights and zero biases
    for (transposed) convolutions and dense layers, unit scale and zero shift for norms; returns ``module``."""
    for m in module.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
            nn.init.xavier_uniform_(m.weight)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, (nn.InstanceNorm2d, nn.BatchNorm2d)) and m.affine:
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)
    return module


def _instance_norm(channels: int) -> nn.InstanceNorm2d:
    """``tfa.layers.InstanceNormalization()`` defaults: learnable scale and shift, ``epsilon = 1e-3``."""
    return nn.InstanceNorm2d(channels, eps=1e-3, affine=True)


class JointGenerator(nn.Module):
    """A generator with a classification branch: ``encoder`` -> (``decoder`` -> restored image, ``head`` -> class
    probabilities).

    ``forward(x)`` returns the restored image only, the single tensor MONAI's bundle tools (``verify_net_in_out``,
    ``ckpt_export``, ``onnx_export``) expect of a ``network_def``; ``forward(x, return_probs=True)`` returns
    ``(image, probabilities)`` like the reference's two-output model (the trainer and the evaluators call it so).
    The probabilities are a softmax over ``num_classes``, computed in float32. Subclasses set ``encoder``,
    ``decoder``, ``head`` and ``residual_output``: when true, the decoder's output is a residual added to the input,
    ``clamp(x + decoder(features), -1, 1)`` (input and output channels must match).
    """

    def forward(
        self, x: torch.Tensor, return_probs: bool = False
    ) -> Union[torch.Tensor, tuple[torch.Tensor, torch.Tensor]]:  # noqa: UP007 (TorchScript needs typing.Union)
        features = self.encoder(x)
        image = self.decoder(features)
        if self.residual_output:
            image = (x + image).clamp(-1.0, 1.0)
        if return_probs:
            return image, torch.softmax(self.head(features).float(), dim=1)
        return image


def _class_head(channels: int, num_classes: int, pooling: str) -> nn.Sequential:
    """The classification branch: global ``pooling`` (``"max"``: the reference's) -> dense layer (softmax in the
    forward pass)."""
    if pooling not in HEAD_POOLINGS:
        raise ConfigError(f"head_pooling must be one of {HEAD_POOLINGS}, got {pooling!r}.")
    pool = nn.AdaptiveAvgPool2d(1) if pooling == "avg" else nn.AdaptiveMaxPool2d(1)
    return nn.Sequential(pool, nn.Flatten(), nn.Linear(channels, check_int("num_classes", num_classes, 1)))


def _output_layer(layer: nn.Module, residual_output: bool, in_channels: int, out_channels: int) -> nn.Sequential:
    """The generator's last layer: followed by ``tanh`` (the reference), or zero-initialised as the residual of an
    identity start (:class:`JointGenerator` adds it to the input)."""
    if not residual_output:
        return nn.Sequential(layer, nn.Tanh())
    if in_channels != out_channels:
        raise ConfigError(
            f"residual_output needs in_channels == out_channels, got {in_channels} and {out_channels}; "
            "set residual_output False."
        )
    for p in layer.parameters():
        nn.init.zeros_(p)
    return nn.Sequential(layer)


class OperationalResidualBlock(nn.Module):
    """The reference's operational residual block: ``tanh(h + B(tanh(h)))`` with
    ``B = reflect-pad 1 -> Oper2d 3x3 -> IN -> tanh -> reflect-pad 1 -> Oper2d 3x3 -> IN`` (no biases).

    Args:
        channels: input and output channels.
        q: order of the operational layers.
    """

    def __init__(self, channels: int, q: int) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.Tanh(),
            nn.ReflectionPad2d(1),
            Oper2d(channels, channels, 3, q=q, bias=False),
            _instance_norm(channels),
            nn.Tanh(),
            nn.ReflectionPad2d(1),
            Oper2d(channels, channels, 3, q=q, bias=False),
            _instance_norm(channels),
        )

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        return torch.tanh(h + self.body(h))


class OperationalGenerator(JointGenerator):
    """R2C-GAN's operational generator (``OpGenerator``): ``Oper2d(2b, 3x3, stride 2, no bias) -> IN ->``
    :class:`OperationalResidualBlock` ``->`` [classification branch: global pool -> dense -> softmax] ``->
    Oper2dTranspose(out, 3x3, stride 2, bias) -> tanh`` (with ``residual_output``: ``clamp(x + Oper2dTranspose)``,
    the layer zero-initialised).

    Parameters for 3 channels and ``base_channels = 64``: ``q * 301,827 + 1,026`` (906,507 for ``q = 3``); for one
    grey channel ``q * 297,217 + 1,026`` (892,677 for ``q = 3``). Input sides must be even.

    Args:
        in_channels: image channels of the input.
        out_channels: image channels of the output.
        num_classes: classes of the classification branch (2: COVID-19 or not, in the paper).
        q: order of the operational layers (3 in the paper; 1 is the ``"convolutional-light"`` variant).
        base_channels: the reference's ``dim``; the network works at ``2 * base_channels`` channels (128).
        residual_output: identity start, ``clamp(x + residual)`` (``False``: the reference's ``tanh`` output).
        head_pooling: global pooling of the classification branch, ``"avg"`` or the reference's ``"max"``.
    """

    def __init__(
        self,
        in_channels: int = 1,
        out_channels: int = 1,
        num_classes: int = 2,
        q: int = 3,
        base_channels: int = 64,
        residual_output: bool = True,
        head_pooling: str = "avg",
    ) -> None:
        super().__init__()
        width = 2 * check_int("base_channels", base_channels, 1)
        self.residual_output = bool(residual_output)
        self.encoder = nn.Sequential(
            Oper2d(check_int("in_channels", in_channels, 1), width, 3, stride=2, padding=1, q=q, bias=False),
            _instance_norm(width),
            OperationalResidualBlock(width, q),
        )
        self.head = keras_init_(_class_head(width, num_classes, head_pooling))
        last = Oper2dTranspose(
            width, check_int("out_channels", out_channels, 1), 3, stride=2, padding=1, output_padding=1, q=q
        )
        self.decoder = _output_layer(last, self.residual_output, in_channels, out_channels)


class OperationalDiscriminator(nn.Module):
    """R2C-GAN's operational PatchGAN (``OpDiscriminator``): ``Oper2d(b, 4x4, stride 2, bias) -> LReLU(0.2) ->
    Oper2d(2b, 4x4, stride 4, no bias) -> IN -> LReLU -> Oper2d(1, 4x4, stride 1, bias) -> LReLU``, a patch map of
    side ``size / 8`` (TensorFlow ``"same"`` paddings; the last LeakyReLU is the reference's).

    Parameters for 3 channels and ``base_channels = 64``: ``q * 136,257 + 256`` (409,027 for ``q = 3``); for one grey
    channel ``q * 134,209 + 256`` (402,883 for ``q = 3``). Input sides must be multiples of 8.

    Args:
        in_channels: image channels.
        q: order of the operational layers.
        base_channels: channels of the first layer (the reference's ``dim``, 64).
    """

    def __init__(self, in_channels: int = 1, q: int = 3, base_channels: int = 64) -> None:
        super().__init__()
        b = check_int("base_channels", base_channels, 1)
        self.model = nn.Sequential(
            Oper2d(check_int("in_channels", in_channels, 1), b, 4, stride=2, padding=1, q=q),
            nn.LeakyReLU(0.2),
            Oper2d(b, 2 * b, 4, stride=4, q=q, bias=False),
            _instance_norm(2 * b),
            nn.LeakyReLU(0.2),
            nn.ZeroPad2d((1, 2, 1, 2)),  # TensorFlow's "same" for a 4x4 kernel at stride 1
            Oper2d(2 * b, 1, 4, q=q),
            nn.LeakyReLU(0.2),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x)


class ResidualBlock(nn.Module):
    """CycleGAN residual block: ``x + IN(conv3x3(pad(ReLU(IN(conv3x3(pad(x)))))))``, reflection padding, no biases."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.ReflectionPad2d(1),
            nn.Conv2d(channels, channels, 3, bias=False),
            _instance_norm(channels),
            nn.ReLU(),
            nn.ReflectionPad2d(1),
            nn.Conv2d(channels, channels, 3, bias=False),
            _instance_norm(channels),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


class ResNetGenerator(JointGenerator):
    """R2C-GAN's convolutional generator (``ConvGenerator``): the CycleGAN ResNet generator with a classification
    branch after the 5th residual block.

    ``reflect-pad 3 -> conv 7x7 (b) -> IN -> ReLU``, two ``conv 3x3 stride 2 -> IN -> ReLU`` (2b, 4b),
    ``num_blocks`` :class:`ResidualBlock` (the branch taps the output of block ``class_block``), two ``transposed
    conv 3x3 stride 2 -> IN -> ReLU`` (2b, b), ``reflect-pad 3 -> conv 7x7 (bias) -> tanh``; convolutions before a
    norm have no bias (with ``residual_output``: no ``tanh``, the last convolution zero-initialised and its output
    added to the input). Parameters for one grey channel and ``b = 64``: 11,371,395 (3 channels: 11,383,941). Input
    sides must be multiples of 4.

    Args:
        in_channels: image channels of the input.
        out_channels: image channels of the output.
        num_classes: classes of the classification branch.
        base_channels: channels of the first convolution (the reference's ``dim``, 64).
        num_blocks: residual blocks (9).
        class_block: number of residual blocks before the classification branch (5).
        residual_output: identity start, ``clamp(x + residual)`` (``False``: the reference's ``tanh`` output).
        head_pooling: global pooling of the classification branch, ``"avg"`` or the reference's ``"max"``.
    """

    def __init__(
        self,
        in_channels: int = 1,
        out_channels: int = 1,
        num_classes: int = 2,
        base_channels: int = 64,
        num_blocks: int = 9,
        class_block: int = 5,
        residual_output: bool = True,
        head_pooling: str = "avg",
    ) -> None:
        super().__init__()
        b = check_int("base_channels", base_channels, 1)
        self.residual_output = bool(residual_output)
        if not 1 <= class_block <= num_blocks:
            raise ConfigError(f"class_block must be in [1, num_blocks={num_blocks}], got {class_block!r}.")
        down: list[nn.Module] = [
            nn.ReflectionPad2d(3),
            nn.Conv2d(check_int("in_channels", in_channels, 1), b, 7, bias=False),
            _instance_norm(b),
            nn.ReLU(),
        ]
        for c in (b, 2 * b):
            down += [nn.Conv2d(c, 2 * c, 3, stride=2, padding=1, bias=False), _instance_norm(2 * c), nn.ReLU()]
        up: list[nn.Module] = []
        for c in (4 * b, 2 * b):
            up += [
                nn.ConvTranspose2d(c, c // 2, 3, stride=2, padding=1, output_padding=1, bias=False),
                _instance_norm(c // 2),
                nn.ReLU(),
            ]
        self.encoder = nn.Sequential(*down, *(ResidualBlock(4 * b) for _ in range(class_block)))
        self.head = _class_head(4 * b, num_classes, head_pooling)
        self.decoder = nn.Sequential(
            *(ResidualBlock(4 * b) for _ in range(num_blocks - class_block)), *up, nn.ReflectionPad2d(3)
        )
        keras_init_(self)
        last = nn.Conv2d(b, check_int("out_channels", out_channels, 1), 7)
        self.decoder.extend(_output_layer(keras_init_(last), self.residual_output, in_channels, out_channels))


def _check_variant(variant: str, q: int) -> None:
    if variant not in VARIANTS:
        raise ConfigError(f"variant must be one of {VARIANTS}, got {variant!r}.")
    check_int("q", q, 1)


def r2c_generator(
    variant: str = "operational",
    in_channels: int = 1,
    out_channels: int = 1,
    num_classes: int = 2,
    q: int = 3,
    base_channels: int = 64,
    residual_output: bool = True,
    head_pooling: str = "avg",
) -> JointGenerator:
    """The generator of an R2C-GAN ``variant`` (see :data:`VARIANTS`; the bundles' ``network_def``).

    Args:
        variant: ``"operational"`` (:class:`OperationalGenerator` of order ``q``), ``"convolutional"``
            (:class:`ResNetGenerator`, ``q`` unused) or ``"convolutional-light"`` (:class:`OperationalGenerator` with
            ``q = 1``).
        in_channels, out_channels: image channels.
        num_classes: classes of the classification branch.
        q: order of the operational layers.
        base_channels: the reference's ``dim`` (64).
        residual_output: identity start, ``clamp(x + residual, -1, 1)`` with the last layer zero-initialised
            (``False``: the reference's ``tanh`` output).
        head_pooling: global pooling of the classification branch, ``"avg"`` or the reference's ``"max"``.
    """
    _check_variant(variant, q)
    options = {"residual_output": residual_output, "head_pooling": head_pooling}
    if variant == "convolutional":
        return ResNetGenerator(in_channels, out_channels, num_classes, base_channels, **options)
    return OperationalGenerator(
        in_channels, out_channels, num_classes, 1 if variant == "convolutional-light" else q, base_channels, **options
    )


def r2c_discriminator(
    variant: str = "operational", in_channels: int = 1, q: int = 3, base_channels: int = 64
) -> nn.Module:
    """The discriminator of an R2C-GAN ``variant``: :class:`OperationalDiscriminator` (order ``q``, or 1 for
    ``"convolutional-light"``), or for ``"convolutional"`` MONAI's
    :class:`~monai.networks.nets.PatchDiscriminator` with 3 down-samplings, affine instance norms and Keras
    initialisation (the reference's ``ConvDiscriminator``; it returns a list of features whose last element is the
    patch map; 2,763,585 parameters for one channel).

    Args:
        variant: see :data:`VARIANTS`.
        in_channels: image channels.
        q: order of the operational layers.
        base_channels: channels of the first layer (64).
    """
    _check_variant(variant, q)
    if variant == "convolutional":
        return keras_init_(
            PatchDiscriminator(
                spatial_dims=2,
                channels=check_int("base_channels", base_channels, 1),
                in_channels=check_int("in_channels", in_channels, 1),
                num_layers_d=3,
                norm=("INSTANCE", {"affine": True, "eps": 1e-3}),
                bias=False,
                padding=1,
            )
        )
    return OperationalDiscriminator(in_channels, 1 if variant == "convolutional-light" else q, base_channels)
