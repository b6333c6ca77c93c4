"""MUNIT training step (Huang et al. 2018, NVlabs/MUNIT ``trainer.py``) on unpaired batches of two domains."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn
from torch.optim import Optimizer
from torch.optim.lr_scheduler import LRScheduler

from monai_xrgan.engines.base import MultiNetworkTrainer
from monai_xrgan.engines.utils import CyclingLoader
from monai_xrgan.losses import GANLoss

__all__ = ["MUNITTrainer"]


def _l1(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    return F.l1_loss(x.float(), y.float())


class MUNITTrainer(MultiNetworkTrainer):
    """Train the MUNIT generators ``generator_a``/``generator_b`` (:class:`~monai_xrgan.networks.MUNITGenerator`) and
    discriminators ``discriminator_a``/``discriminator_b`` (:class:`~monai_xrgan.networks.MUNITDiscriminator`).

    One iteration, as the reference: random styles ``s_a, s_b ~ N(0, I)``; discriminator step on
    ``gan_w * [LS(D_a(x_ba), 0) + LS(D_a(x_a), 1) + LS(D_b(x_ab), 0) + LS(D_b(x_b), 1)]`` (summed over scales) with
    ``x_ba = G_a.dec(c_b, s_a)``, ``x_ab = G_b.dec(c_a, s_b)``; generator step (discriminators frozen) on
    ``gan_w * adversarial + recon_x_w * |x - G(x)| + recon_s_w * |s - E_s(x_translated)| +
    recon_c_w * |c - E_c(x_translated)|`` for both domains.

    Args:
        b_data_loader: batches of domain B (``b_key``), cycled independently (the domains are unpaired) by a
            :class:`~monai_xrgan.engines.utils.CyclingLoader`.
        generator_a, generator_b, discriminator_a, discriminator_b: the networks.
        g_optimizer: optimiser of both generators; d_optimizer: of both discriminators.
        g_lr_scheduler, d_lr_scheduler: optional epoch-level schedulers (the reference halves the rates every 100k
            iterations).
        a_key, b_key: batch keys of the two domains' images.
        gan_w, recon_x_w, recon_s_w, recon_c_w: loss weights (reference 1, 10, 1, 1).
        kwargs: the other :class:`MultiNetworkTrainer` arguments: ``device``, ``max_epochs``, ``train_data_loader``
            (batches of domain A, ``a_key``; its length is the epoch length), ``amp``, ...
    """

    def __init__(
        self,
        b_data_loader: Iterable,
        generator_a: nn.Module,
        generator_b: nn.Module,
        discriminator_a: nn.Module,
        discriminator_b: nn.Module,
        g_optimizer: Optimizer,
        d_optimizer: Optimizer,
        g_lr_scheduler: LRScheduler | None = None,
        d_lr_scheduler: LRScheduler | None = None,
        a_key: str = "image_a",
        b_key: str = "image_b",
        gan_w: float = 1.0,
        recon_x_w: float = 10.0,
        recon_s_w: float = 1.0,
        recon_c_w: float = 1.0,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            networks={"generator_a": generator_a, "generator_b": generator_b,
                      "discriminator_a": discriminator_a, "discriminator_b": discriminator_b},
            optimizers={"generator": g_optimizer, "discriminator": d_optimizer},
            lr_schedulers={"generator": g_lr_scheduler, "discriminator": d_lr_scheduler},
            **kwargs,
        )  # fmt: skip
        self.b_data_loader = b_data_loader
        self.b_batches = CyclingLoader(b_data_loader, "b_data_loader")
        self.a_key, self.b_key = a_key, b_key
        self.weights = {"gan": gan_w, "recon_x": recon_x_w, "recon_s": recon_s_w, "recon_c": recon_c_w}
        self.gan_loss = GANLoss("lsgan")

    def _adversarial(self, name: str, image: torch.Tensor, real: bool, for_discriminator: bool = True) -> torch.Tensor:
        outputs = self.networks[name](image)
        return sum(self.gan_loss(o, target_is_real=real, for_discriminator=for_discriminator) for o in outputs)

    def train_step(self, batch: dict[str, torch.Tensor]) -> dict[str, Any]:
        x_a = batch[self.a_key]
        x_b = self.batch(next(self.b_batches))[self.b_key]
        gen_a, gen_b = self.networks["generator_a"], self.networks["generator_b"]
        style_dim = self.raw_networks["generator_a"].style_dim
        w = self.weights

        s_a = torch.randn(x_a.shape[0], style_dim, 1, 1, device=x_a.device)
        s_b = torch.randn(x_b.shape[0], style_dim, 1, 1, device=x_b.device)
        with torch.no_grad(), self.autocast():
            x_ba = gen_a.decode(gen_b.encode(x_b)[0], s_a)
            x_ab = gen_b.decode(gen_a.encode(x_a)[0], s_b)
        with self.autocast():
            loss_d_a = self._adversarial("discriminator_a", x_ba, False) + self._adversarial(
                "discriminator_a", x_a, True
            )
            loss_d_b = self._adversarial("discriminator_b", x_ab, False) + self._adversarial(
                "discriminator_b", x_b, True
            )
        loss_d = w["gan"] * (loss_d_a + loss_d_b)
        self.optimize(loss_d, "discriminator")

        s_a = torch.randn_like(s_a)
        s_b = torch.randn_like(s_b)
        with self.frozen("discriminator_a", "discriminator_b"):
            with self.autocast():
                c_a, s_a_prime = gen_a.encode(x_a)
                c_b, s_b_prime = gen_b.encode(x_b)
                x_a_recon, x_b_recon = gen_a.decode(c_a, s_a_prime), gen_b.decode(c_b, s_b_prime)
                x_ba, x_ab = gen_a.decode(c_b, s_a), gen_b.decode(c_a, s_b)
                c_b_recon, s_a_recon = gen_a.encode(x_ba)
                c_a_recon, s_b_recon = gen_b.encode(x_ab)
                loss_adv = self._adversarial("discriminator_a", x_ba, True, False) + self._adversarial(
                    "discriminator_b", x_ab, True, False
                )
            loss_recon_x = _l1(x_a_recon, x_a) + _l1(x_b_recon, x_b)
            loss_recon_s = _l1(s_a_recon, s_a) + _l1(s_b_recon, s_b)
            loss_recon_c = _l1(c_a_recon, c_a) + _l1(c_b_recon, c_b)
            loss_g = (
                w["gan"] * loss_adv
                + w["recon_x"] * loss_recon_x
                + w["recon_s"] * loss_recon_s
                + w["recon_c"] * loss_recon_c
            )
            self.optimize(loss_g, "generator")

        return {
            "image": x_a,
            "pred": x_ab.detach(),
            "image_b": x_b,
            "pred_b": x_ba.detach(),
            "loss_g": loss_g.detach(),
            "loss_g_gan": loss_adv.detach(),
            "loss_g_recon_x": loss_recon_x.detach(),
            "loss_g_recon_s": loss_recon_s.detach(),
            "loss_g_recon_c": loss_recon_c.detach(),
            "loss_d": loss_d.detach(),
        }
