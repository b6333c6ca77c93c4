"""R2C-GAN training: cycle-consistent training of two generators with classification branches on unpaired data."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn
from torch.optim import Optimizer
from torch.optim.lr_scheduler import LRScheduler

from monai_xrgan.engines.base import MultiNetworkTrainer
from monai_xrgan.engines.image_pool import ImagePool
from monai_xrgan.engines.utils import CyclingLoader
from monai_xrgan.losses import GANLoss, probability_cross_entropy
from monai_xrgan.utils.checks import require_count
from monai_xrgan.utils.errors import ConfigError

__all__ = ["R2CGANTrainer"]


class R2CGANTrainer(MultiNetworkTrainer):
    """Train an R2C-GAN: CycleGAN between a poor-quality domain A (``lq``) and a good-quality domain B (``hq``) whose
    generators also classify, on unpaired batches.

    One iteration, as the reference's ``train_G`` then ``train_D`` (``G = generator: A -> B``, ``F =
    inverse_generator: B -> A``; every generator call also returns class probabilities, scored with cross-entropy
    against the label of the image it started from):

    * generator step (discriminators frozen; one optimiser over both generators):
      ``L_G = [LS(D_B(G(a))) + LS(D_A(F(b))) + w_adv·(CE_G(a) + CE_F(b))]
      + lambda_cycle·[L1(a, F(G(a))) + L1(b, G(F(b))) + w_cycle·(CE_F(G(a)) + CE_G(F(b)))]
      + lambda_identity·[L1(a, F(a)) + L1(b, G(b)) + w_identity·(CE_F(a) + CE_G(b))]``;
    * discriminator step (one optimiser over both discriminators) on the generated images passed through a history
      pool of ``pool_size`` images each: ``LS(D_A(a), 1) + LS(D_A(pool(F(b))), 0) + LS(D_B(b), 1) +
      LS(D_B(pool(G(a))), 0)``.

    ``LS`` is the least-squares GAN loss (:class:`~monai_xrgan.losses.GANLoss` ``"lsgan"``), ``CE``
    :func:`~monai_xrgan.losses.probability_cross_entropy`, ``(w_adv, w_cycle, w_identity) = class_weights``.

    Each iteration takes the next batch of ``train_data_loader`` (domain A, with labels) and the next batch of
    ``hq_data_loader`` (domain B), which is restarted (and re-shuffled) whenever it runs out; an epoch is as long as the
    longer of the two, the reference's zip of the two shuffled sets.

    Args:
        train_data_loader: batches of domain A, dictionaries with ``lq_key`` and ``label_key``.
        hq_data_loader: batches of domain B, dictionaries with ``hq_key`` and ``label_key``.
        generator: ``G: A -> B`` (the restoration network), ``G(x, return_probs=True) -> (image, probabilities)``.
        inverse_generator: ``F: B -> A``, same interface.
        discriminator_lq, discriminator_hq: ``D_A`` and ``D_B``; each may return a list of features whose last
            element is the patch map (``monai.networks.nets.PatchDiscriminator``).
        g_optimizer: optimiser over the parameters of both generators.
        d_optimizer: optimiser over the parameters of both discriminators.
        g_lr_scheduler, d_lr_scheduler: optional epoch-level schedulers (:class:`~monai_xrgan.engines.LinearDecayLR`).
        lq_key, hq_key, label_key: batch keys of the images of each domain and of their class indices.
        lambda_cycle: weight of the cycle-consistency terms (10).
        lambda_identity: weight of the identity terms (5).
        class_weights: weights of the classification losses in the adversarial, cycle and identity terms
            ``(0.1, 0.01, 0.02)``.
        pool_size: images in each history pool (50; 0 disables the pools).
        adversarial_warmup: iterations at the start with the generators' adversarial terms switched off (weight 0,
            then 1; 0: the reference, full weight from the first iteration). The discriminators train throughout, so
            they learn what each domain looks like before they push the generators. A hold, not a linear ramp: while
            the adversarial terms are the only ones with a gradient at the identity start, Adam's step does not
            depend on their weight, so a ramp changes nothing.
        epoch_length: iterations per epoch, default ``max(len(train_data_loader), len(hq_data_loader))``.
        kwargs: the other :class:`MultiNetworkTrainer` arguments (``device``, ``max_epochs``, ``train_handlers``,
            ``amp``, ...).
    """

    def __init__(
        self,
        train_data_loader: Iterable,
        hq_data_loader: Iterable,
        generator: nn.Module,
        inverse_generator: nn.Module,
        discriminator_lq: nn.Module,
        discriminator_hq: nn.Module,
        g_optimizer: Optimizer,
        d_optimizer: Optimizer,
        g_lr_scheduler: LRScheduler | None = None,
        d_lr_scheduler: LRScheduler | None = None,
        lq_key: str = "lq",
        hq_key: str = "hq",
        label_key: str = "label",
        lambda_cycle: float = 10.0,
        lambda_identity: float = 5.0,
        class_weights: Sequence[float] = (0.1, 0.01, 0.02),
        pool_size: int = 50,
        adversarial_warmup: int = 0,
        epoch_length: int | None = None,
        **kwargs: Any,
    ) -> None:
        if len(class_weights) != 3:
            raise ConfigError(f"class_weights must be 3 weights (adversarial, cycle, identity), got {class_weights!r}.")
        if epoch_length is None:
            epoch_length = max(len(train_data_loader), len(hq_data_loader))  # type: ignore[arg-type]
        # set before the base class attaches the handlers: the checkpointer reads the pools
        self.hq_data_loader = hq_data_loader
        self.lq_key, self.hq_key, self.label_key = lq_key, hq_key, label_key
        self.lambda_cycle = lambda_cycle
        self.lambda_identity = lambda_identity
        self.class_weights = tuple(float(w) for w in class_weights)
        self.adversarial_warmup = require_count(adversarial_warmup, "adversarial_warmup")
        self.pools = {"lq": ImagePool(pool_size), "hq": ImagePool(pool_size)}
        self.gan_loss = GANLoss("lsgan")
        self.hq_batches = CyclingLoader(hq_data_loader, "hq_data_loader")
        super().__init__(
            train_data_loader=train_data_loader,
            networks={
                "generator": generator,
                "inverse_generator": inverse_generator,
                "discriminator_lq": discriminator_lq,
                "discriminator_hq": discriminator_hq,
            },
            optimizers={"generators": g_optimizer, "discriminators": d_optimizer},
            lr_schedulers={"generators": g_lr_scheduler, "discriminators": d_lr_scheduler},
            epoch_length=epoch_length,
            **kwargs,
        )

    def checkpoint_objects(self) -> dict[str, Any]:
        """The base class's objects plus the two history pools, so that a resumed run continues exactly."""
        return {**super().checkpoint_objects(), **{f"image_pool_{name}": pool for name, pool in self.pools.items()}}

    def adversarial_weight(self) -> float:
        """Weight of the generators' adversarial terms at the current iteration (see ``adversarial_warmup``)."""
        iteration = max(self.state.iteration, 1)  # 0 outside ``run()``: a step called directly counts as the first
        return 0.0 if iteration <= self.adversarial_warmup else 1.0

    def _discriminate(self, name: str, image: torch.Tensor) -> torch.Tensor:
        out = self.networks[name](image)
        return out[-1] if isinstance(out, (list, tuple)) else out

    def train_step(self, batch: dict[str, torch.Tensor]) -> dict[str, Any]:
        lq_batch, hq_batch = batch, self.batch(next(self.hq_batches))
        real_a, label_a = lq_batch[self.lq_key], lq_batch[self.label_key]
        real_b, label_b = hq_batch[self.hq_key], hq_batch[self.label_key]
        g_ab, g_ba = self.networks["generator"], self.networks["inverse_generator"]

        with self.frozen("discriminator_lq", "discriminator_hq"):
            with self.autocast():
                fake_b, p_fake_b = g_ab(real_a, return_probs=True)
                fake_a, p_fake_a = g_ba(real_b, return_probs=True)
                rec_a, p_rec_a = g_ba(fake_b, return_probs=True)
                rec_b, p_rec_b = g_ab(fake_a, return_probs=True)
                idt_a, p_idt_a = g_ba(real_a, return_probs=True)
                idt_b, p_idt_b = g_ab(real_b, return_probs=True)
                adv_b = self._discriminate("discriminator_hq", fake_b)
                adv_a = self._discriminate("discriminator_lq", fake_a)
            ce = probability_cross_entropy
            w_adv, w_cycle, w_identity = self.class_weights
            loss_adv = self.gan_loss(adv_b, True, for_discriminator=False) + self.gan_loss(
                adv_a, True, for_discriminator=False
            )
            w_gan = self.adversarial_weight()
            loss_cycle = F.l1_loss(rec_a.float(), real_a.float()) + F.l1_loss(rec_b.float(), real_b.float())
            loss_identity = F.l1_loss(idt_a.float(), real_a.float()) + F.l1_loss(idt_b.float(), real_b.float())
            loss_class = (
                w_adv * (ce(p_fake_b, label_a) + ce(p_fake_a, label_b))
                + self.lambda_cycle * w_cycle * (ce(p_rec_a, label_a) + ce(p_rec_b, label_b))
                + self.lambda_identity * w_identity * (ce(p_idt_a, label_a) + ce(p_idt_b, label_b))
            )
            loss_g = w_gan * loss_adv + self.lambda_cycle * loss_cycle + self.lambda_identity * loss_identity
            loss_g = loss_g + loss_class
            self.optimize(loss_g, "generators")

        pooled_a, pooled_b = self.pools["lq"](fake_a), self.pools["hq"](fake_b)
        with self.autocast():
            d_real_a, d_fake_a = (
                self._discriminate("discriminator_lq", real_a),
                self._discriminate("discriminator_lq", pooled_a),
            )
            d_real_b, d_fake_b = (
                self._discriminate("discriminator_hq", real_b),
                self._discriminate("discriminator_hq", pooled_b),
            )
        gan = self.gan_loss
        loss_d = gan(d_real_a, True) + gan(d_fake_a, False) + gan(d_real_b, True) + gan(d_fake_b, False)
        self.optimize(loss_d, "discriminators")

        return {
            "lq": real_a,
            "hq": real_b,
            "pred": fake_b.detach(),
            "inverse": fake_a.detach(),
            "probs": p_fake_b.detach(),
            "loss_g": loss_g.detach(),
            "loss_g_adv": loss_adv.detach(),
            "loss_g_cycle": loss_cycle.detach(),
            "loss_g_identity": loss_identity.detach(),
            "loss_g_class": loss_class.detach(),
            "loss_d": loss_d.detach(),
        }
