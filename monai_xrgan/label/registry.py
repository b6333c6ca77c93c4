"""Which bundles the MONAI Label app serves, and how: one declarative :class:`ServedBundle` entry per bundle name.

Adding a bundle to the server is one entry in :data:`SERVED_BUNDLES`; the rest (network, preprocessing, inferer,
postprocessing, weights) is read from the bundle's own ``configs/inference.json`` and ``models/``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from monai_xrgan.utils.errors import ConfigError

__all__ = ["KINDS", "ServedBundle", "SERVED_BUNDLES"]

#: the task kinds of :mod:`monai_xrgan.label.tasks`
KINDS = ("image", "image_class", "translation")


@dataclass(frozen=True)
class ServedBundle:
    """How one bundle is served.

    Args:
        kind: ``"image"`` (image -> image: generators, restorers), ``"image_class"`` (image -> image + class
            scores, e.g. R2C-GAN) or ``"translation"`` (image + target domain -> translated image, e.g. MI-GAN).
        network_kwargs: keyword arguments of every forward call of ``network_def`` (e.g. ``{"return_probs": True}``).
        class_names: ``image_class``: names of the class scores, in the network's output order.
        softmax: ``image_class``: apply a softmax to the class output (``False`` when the network returns
            probabilities already).
        domains: ``translation``: names of the target domains, in the order of the network's one-hot condition.
        default_domain: ``translation``: domain of a request that names none (default: the first of ``domains``).
    """

    kind: str
    network_kwargs: Mapping[str, Any] = field(default_factory=dict)
    class_names: Sequence[str] = ()
    softmax: bool = False
    domains: Sequence[str] = ()
    default_domain: str | None = None

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ConfigError(f"ServedBundle.kind must be one of {KINDS}, got {self.kind!r}.")
        if (self.kind == "image_class") != bool(self.class_names):
            raise ConfigError(
                f"ServedBundle.class_names must be given for kind 'image_class' only (kind {self.kind!r})."
            )
        if (self.kind == "translation") != bool(self.domains):
            raise ConfigError(f"ServedBundle.domains must be given for kind 'translation' only (kind {self.kind!r}).")
        if self.default_domain is not None and self.default_domain not in self.domains:
            raise ConfigError(
                f"ServedBundle.default_domain {self.default_domain!r} is not one of {list(self.domains)}."
            )
        object.__setattr__(self, "network_kwargs", MappingProxyType(dict(self.network_kwargs)))
        object.__setattr__(self, "class_names", tuple(self.class_names))
        object.__setattr__(self, "domains", tuple(self.domains))


#: bundle folder name -> how it is served
SERVED_BUNDLES: dict[str, ServedBundle] = {
    "pix2pix_cxr": ServedBundle(kind="image"),
    "diffusionxray_drr": ServedBundle(kind="image"),
    "migan_ct": ServedBundle(
        kind="translation", domains=("normal", "viral_pneumonia", "covid_mild"), default_domain="covid_mild"
    ),
    "r2c_gan_cxr": ServedBundle(
        kind="image_class", network_kwargs={"return_probs": True}, class_names=("normal", "covid")
    ),
    # the generator behind the bundle's inferer, which encodes the image first: image -> reconstruction
    "drai_cxr": ServedBundle(kind="image"),
}
