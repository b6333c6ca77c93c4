"""pix2pix training step (Isola et al. 2017): conditional GAN loss + lambda * L1 to the paired target."""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F

from monai_xrgan.engines.base import GeneratorDiscriminatorTrainer
from monai_xrgan.losses import GANLoss

__all__ = ["Pix2PixTrainer"]


class Pix2PixTrainer(GeneratorDiscriminatorTrainer):
    """Train a pix2pix generator ``G: image -> target`` against a conditional PatchGAN ``D(image, target)``.

    One iteration, as in the reference implementation: ``fake = G(a)``; discriminator step on
    ``L_D = d_loss_weight * [GAN(D(a, b), real) + GAN(D(a, fake), fake)]``; generator step (D frozen) on
    ``L_G = GAN(D(a, fake), real) + lambda_l1 * L1(fake, b)``.

    Args:
        input_key, target_key: batch keys of the condition ``a`` and the paired target ``b``.
        lambda_l1: weight of the L1 term (100 in the paper).
        gan_mode: adversarial loss, ``"vanilla"`` for pix2pix (see :class:`monai_xrgan.losses.GANLoss`).
        d_loss_weight: factor of the discriminator loss (0.5 halves D's learning speed, as in the reference).
        kwargs: the :class:`GeneratorDiscriminatorTrainer` arguments: ``generator`` (image-to-image), ``discriminator``
            (conditional, over the channel concatenation ``[a, b]``; it may return a list of features whose last
            element is the patch logits, as ``monai.networks.nets.PatchDiscriminator``), their optimisers
            ``g_optimizer``, ``d_optimizer`` and optional schedulers ``g_lr_scheduler``, ``d_lr_scheduler`` (the
            reference keeps the rate constant, then decays it linearly to zero, see
            :class:`monai_xrgan.engines.LinearDecayLR`), and the other :class:`MultiNetworkTrainer` arguments
            (``device``, ``max_epochs``, ``train_data_loader``, ``train_handlers``, ``amp``, ...).
    """

    def __init__(
        self,
        *,
        input_key: str = "image",
        target_key: str = "target",
        lambda_l1: float = 100.0,
        gan_mode: str = "vanilla",
        d_loss_weight: float = 0.5,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.input_key = input_key
        self.target_key = target_key
        self.lambda_l1 = lambda_l1
        self.d_loss_weight = d_loss_weight
        self.gan_loss = GANLoss(gan_mode)

    def _discriminate(self, condition: torch.Tensor, image: torch.Tensor) -> torch.Tensor:
        out = self.networks["discriminator"](torch.cat([condition, image], dim=1))
        return out[-1] if isinstance(out, (list, tuple)) else out

    def train_step(self, batch: dict[str, torch.Tensor]) -> dict[str, Any]:
        real_a, real_b = batch[self.input_key], batch[self.target_key]

        with self.autocast():
            fake_b = self.networks["generator"](real_a)

        with self.autocast():
            logits_fake = self._discriminate(real_a, fake_b.detach())
            logits_real = self._discriminate(real_a, real_b)
        loss_d_fake = self.gan_loss(logits_fake, target_is_real=False)
        loss_d_real = self.gan_loss(logits_real, target_is_real=True)
        loss_d = self.d_loss_weight * (loss_d_real + loss_d_fake)
        self.optimize(loss_d, "discriminator")

        with self.frozen("discriminator"):
            with self.autocast():
                logits_fake = self._discriminate(real_a, fake_b)
            loss_g_gan = self.gan_loss(logits_fake, target_is_real=True, for_discriminator=False)
            loss_g_l1 = F.l1_loss(fake_b.float(), real_b.float())
            loss_g = loss_g_gan + self.lambda_l1 * loss_g_l1
            self.optimize(loss_g, "generator")

        return {
            "image": real_a,
            "target": real_b,
            "pred": fake_b.detach(),
            "loss_g": loss_g.detach(),
            "loss_g_gan": loss_g_gan.detach(),
            "loss_g_l1": loss_g_l1.detach(),
            "loss_d": loss_d.detach(),
            "loss_d_real": loss_d_real.detach(),
            "loss_d_fake": loss_d_fake.detach(),
        }
