"""DRAI training step: conditional adversarial inference with a content and a style latent, a gradient-reversal
regulariser and self-supervised latent-reconstruction, swap and transformation-consistency regularisers."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn
from torch.optim import Optimizer

from monai_xrgan.engines.base import MultiNetworkTrainer
from monai_xrgan.engines.utils import PrepareBatchDict
from monai_xrgan.losses import GANLoss
from monai_xrgan.networks.layers import gradient_reversal
from monai_xrgan.utils.checks import check_number
from monai_xrgan.utils.distributed import unwrap
from monai_xrgan.utils.errors import ConfigError

__all__ = ["DRAITrainer"]

_WEIGHTS = (
    "lambda_adv",
    "lambda_cls_real",
    "lambda_cls_fake",
    "lambda_grl",
    "lambda_latent",
    "lambda_swap",
    "lambda_transform",
)
#: weight of each term of the generator/encoder loss; the GRL's weight scales its reversed gradient instead, so the
#: style classifier's own loss enters with weight 1
_TERM_WEIGHTS = {
    "loss_adv": "lambda_adv",
    "loss_cls_real": "lambda_cls_real",
    "loss_cls_fake": "lambda_cls_fake",
    "loss_latent": "lambda_latent",
    "loss_swap": "lambda_swap",
    "loss_transform": "lambda_transform",
}


class DRAITrainer(MultiNetworkTrainer):
    """Train a DRAI generator ``G(c, z_c, z_s)``, encoder ``E(x) -> (ĉ, z_c, z_s)``, joint discriminator
    ``D(x, c, z_c, z_s)`` and style classifier ``h(z_s)``.

    One iteration on real images ``x`` with classes ``y`` (codes are ``[one-hot c, z_c, z_s]``):

    * prior codes ``p = [y, z_c ~ N(0, I), z_s ~ N(0, I)]`` (the batch's classes, so generated classes follow the
      data's), ``fake = G(p)``; inferred codes ``q = [y, E_c(x), E_s(x)]``;
    * discriminator step: ``L_D = GAN(D(x, q), real) + GAN(D(fake, p), fake)`` (codes and images detached);
    * generator + encoder (+ style classifier) step, D frozen, the sum of

      - ``lambda_adv * [GAN(D(fake, p), real) + GAN(D(x, q), fake)]``: adversarial inference, the labels swapped;
      - ``lambda_cls_real * CE(ĉ(x), y)``: content learned supervised from the condition;
      - ``lambda_cls_fake * CE(ĉ(fake), y)``: generated images must show their condition;
      - ``lambda_latent * L1(E(fake), (z_c, z_s))``: self-supervised latent reconstruction;
      - ``CE(h(GRL(E_s(x))), y)`` when ``lambda_grl > 0``: ``h`` learns to find the class in the style code, the
        gradient-reversal layer hands ``-lambda_grl`` times that gradient to the encoder, which removes it;
      - ``lambda_swap * [CE(ĉ(s), y) + L1(E_c(s), E_c(x)) + L1(E_s(s), E_s(x'))]`` for swaps
        ``s = G(y, E_c(x), E_s(x'))`` where ``x'`` is the next image of the batch: a swap keeps the condition and
        content of ``x`` and the style of ``x'``, as judged by the encoder (targets detached);
      - ``lambda_transform * [CE(ĉ(t), y) + L1(E_c(t), E_c(x))]`` for ``t = style_transform(x)``, a copy of ``x``
        whose style (pose, exposure, contrast, blur, noise) was changed at random: the content code must not see
        style changes (target detached).

    With one latent (the generator's ``style_dim`` is 0: the ablation ``G(c, z)``) the style terms (GRL, swap,
    transformation) drop out and the same step trains the remaining networks. A weight of 0 switches its
    regulariser off.

    Args:
        generator: :class:`~monai_xrgan.networks.drai.DRAIGenerator`.
        encoder: :class:`~monai_xrgan.networks.drai.DRAIEncoder` with the generator's latent layout.
        discriminator: :class:`~monai_xrgan.networks.drai.DRAIDiscriminator` with that layout.
        g_optimizer, e_optimizer, d_optimizer: optimisers of the three networks.
        style_classifier: :class:`~monai_xrgan.networks.drai.DRAIStyleClassifier`; needed when there is a style
            latent and ``lambda_grl > 0``, else ignored (give ``None``).
        h_optimizer: optimiser of the style classifier.
        image_key, label_key: batch keys of the images and of their class indices.
        style_transform: random style change of a batch of images (e.g.
            :class:`~monai_xrgan.transforms.RandomStyleTransform`), needed when ``lambda_transform > 0``.
        lambda_adv, lambda_cls_real, lambda_cls_fake, lambda_grl, lambda_latent, lambda_swap, lambda_transform: loss
            weights (the GRL's weight scales the reversed gradient).
        gan_mode: adversarial loss of :class:`monai_xrgan.losses.GANLoss` (``"vanilla"``: ALI/BiGAN's).
        prepare_batch: as in :class:`MultiNetworkTrainer`, default the tensors under ``image_key`` and ``label_key``.
        kwargs: the other :class:`MultiNetworkTrainer` arguments (``device``, ``max_epochs``, ``train_data_loader``,
            ``train_handlers``, ``amp``, ``lr_schedulers``, ...).
    """

    def __init__(
        self,
        generator: nn.Module,
        encoder: nn.Module,
        discriminator: nn.Module,
        g_optimizer: Optimizer,
        e_optimizer: Optimizer,
        d_optimizer: Optimizer,
        style_classifier: nn.Module | None = None,
        h_optimizer: Optimizer | None = None,
        style_transform: Callable[[torch.Tensor], torch.Tensor] | None = None,
        image_key: str = "image",
        label_key: str = "label",
        lambda_adv: float = 1.0,
        lambda_cls_real: float = 1.0,
        lambda_cls_fake: float = 1.0,
        lambda_grl: float = 1.0,
        lambda_latent: float = 1.0,
        lambda_swap: float = 1.0,
        lambda_transform: float = 0.0,
        gan_mode: str = "vanilla",
        prepare_batch: Callable | None = None,
        **kwargs: Any,
    ) -> None:
        weights = dict(
            zip(
                _WEIGHTS,
                (
                    lambda_adv,
                    lambda_cls_real,
                    lambda_cls_fake,
                    lambda_grl,
                    lambda_latent,
                    lambda_swap,
                    lambda_transform,
                ),
            )
        )
        for name, value in weights.items():
            check_number(f"DRAITrainer.{name}", value)
        layout = unwrap(generator).layout
        for name, net in (("encoder", encoder), ("discriminator", discriminator)):
            if unwrap(net).layout != layout:
                raise ConfigError(
                    f"the {name}'s latent layout {unwrap(net).layout} differs from the generator's "
                    f"{layout}; give every DRAI network the same num_classes, content_dim, style_dim."
                )
        self.layout = layout
        self.use_grl = layout.style_dim > 0 and lambda_grl > 0
        self.use_transform = layout.style_dim > 0 and lambda_transform > 0
        networks = {"generator": generator, "encoder": encoder, "discriminator": discriminator}
        optimizers = {"generator": g_optimizer, "encoder": e_optimizer, "discriminator": d_optimizer}
        if self.use_grl:
            if style_classifier is None or h_optimizer is None:
                raise ConfigError(
                    "DRAITrainer: the gradient-reversal regulariser (lambda_grl > 0, style_dim > 0) needs "
                    "`style_classifier` and `h_optimizer`; give them or set lambda_grl to 0."
                )
            networks["style_classifier"], optimizers["style_classifier"] = style_classifier, h_optimizer
        if self.use_transform and style_transform is None:
            raise ConfigError(
                "DRAITrainer: the transformation-consistency regulariser (lambda_transform > 0) needs a "
                "`style_transform`; give one or set lambda_transform to 0."
            )
        super().__init__(
            networks=networks,
            optimizers=optimizers,
            prepare_batch=prepare_batch or PrepareBatchDict((image_key, label_key)),
            **kwargs,
        )
        self.image_key = image_key
        self.label_key = label_key
        self.style_transform = style_transform
        self.weights = weights
        self.gan_loss = GANLoss(gan_mode)

    @staticmethod
    def _latent_l1(predicted: Sequence[torch.Tensor], target: Sequence[torch.Tensor]) -> torch.Tensor:
        """Mean absolute error over the concatenated codes."""
        return F.l1_loss(torch.cat(list(predicted), dim=1).float(), torch.cat(list(target), dim=1).float())

    def _style_terms(
        self, x: torch.Tensor, labels: torch.Tensor, content: torch.Tensor, style: torch.Tensor
    ) -> dict[str, torch.Tensor]:
        """The regularisers that need a style latent (GRL, swap, transformation consistency), by loss name."""
        nets, w, out = self.networks, self.weights, {}
        if self.use_grl:
            with self.autocast():
                logits = nets["style_classifier"](gradient_reversal(style, w["lambda_grl"]))
            out["loss_grl"] = F.cross_entropy(logits.float(), labels)
        if w["lambda_swap"] > 0:
            other_style = style[torch.roll(torch.arange(len(x), device=x.device), 1)]
            with self.autocast():
                swapped = nets["generator"](self.layout.code(labels, content, other_style))
                logits, content_swap, style_swap = nets["encoder"](swapped)
            out["loss_swap"] = F.cross_entropy(logits.float(), labels) + self._latent_l1(
                (content_swap, style_swap), (content.detach(), other_style.detach())
            )
        if self.use_transform:
            with self.autocast():
                logits, content_t, _ = nets["encoder"](self.style_transform(x))
            out["loss_transform"] = F.cross_entropy(logits.float(), labels) + self._latent_l1(
                (content_t,), (content.detach(),)
            )
        return out

    def train_step(self, batch: dict[str, torch.Tensor]) -> dict[str, Any]:
        x, labels = batch[self.image_key], batch[self.label_key].long().view(-1)
        nets, w, layout = self.networks, self.weights, self.layout

        prior = layout.sample(labels)
        with self.autocast():
            logits_real, content_real, style_real = nets["encoder"](x)
            fake = nets["generator"](prior)
        inferred = layout.code(labels, content_real, style_real)

        with self.autocast():
            d_real = nets["discriminator"](x, inferred.detach())
            d_fake = nets["discriminator"](fake.detach(), prior)
        loss_d_real = self.gan_loss(d_real, target_is_real=True)
        loss_d_fake = self.gan_loss(d_fake, target_is_real=False)
        loss_d = loss_d_real + loss_d_fake
        self.optimize(loss_d, "discriminator")

        with self.frozen("discriminator"):
            with self.autocast():
                d_real = nets["discriminator"](x, inferred)
                d_fake = nets["discriminator"](fake, prior)
                logits_fake, content_fake, style_fake = nets["encoder"](fake)
            out = {
                "loss_adv": self.gan_loss(d_fake, True, for_discriminator=False)
                + self.gan_loss(d_real, False, for_discriminator=False),
                "loss_cls_real": F.cross_entropy(logits_real.float(), labels),
                "loss_cls_fake": F.cross_entropy(logits_fake.float(), labels),
                "loss_latent": self._latent_l1((content_fake, style_fake), layout.split(prior)[1:]),
            }
            if layout.style_dim > 0:
                out.update(self._style_terms(x, labels, content_real, style_real))
            loss = sum(w[_TERM_WEIGHTS[k]] * v if k in _TERM_WEIGHTS else v for k, v in out.items())
            self.optimize(loss, *(name for name in self.optimizers if name != "discriminator"))

        return {
            "image": x,
            "label": labels,
            "pred": fake.detach(),
            "loss_g": loss.detach(),
            "loss_d": loss_d.detach(),
            "loss_d_real": loss_d_real.detach(),
            "loss_d_fake": loss_d_fake.detach(),
            **{k: v.detach() for k, v in out.items()},
        }
