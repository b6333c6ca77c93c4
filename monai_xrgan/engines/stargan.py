"""StarGAN training (WGAN-GP, domain classification, cycle reconstruction) with MI-GAN's key-domain terms."""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from monai_xrgan.engines.base import GeneratorDiscriminatorTrainer
from monai_xrgan.losses import (
    GANLoss,
    attention_loss,
    feature_matching_loss,
    gradient_penalty,
    total_variation,
    weighted_mean,
)
from monai_xrgan.utils.checks import check_int, check_number
from monai_xrgan.utils.errors import ConfigError

__all__ = ["StarGANTrainer"]


class StarGANTrainer(GeneratorDiscriminatorTrainer):
    """Train a StarGAN generator ``G(x, c)`` against a critic + domain classifier ``D(x) -> (score, logits)`` on
    batches of images with their domain labels, with MI-GAN's optional key-domain terms.

    Every iteration is one discriminator step; every ``n_critic``-th iteration (of the whole run) is also a
    generator step on the same batch, as in the reference. With ``x`` the batch, ``c`` its domains and ``c'``
    sampled target domains:

    * discriminator: ``-mean D_src(x) + mean D_src(G(x, c')) + lambda_cls CE(D_cls(x), c) + lambda_gp GP``
      (:func:`~monai_xrgan.losses.gradient_penalty`), plus with ``lambda_key_fake`` that weight x the cross entropy
      of D's classifier on the translations into ``key_domain`` against their *source* domains (not in the paper);
    * generator (D frozen): ``-mean D_src(G(x, c')) + lambda_cls CE(D_cls(G(x, c')), c')
      + lambda_rec L1(x, G(G(x, c'), c))`` plus, for the translations into ``key_domain`` (MI-GAN):
      ``lambda_key`` x their cross-entropy again (extra weight on D's key-domain classification),
      ``lambda_att`` x :func:`~monai_xrgan.losses.attention_loss` (the mean weight ``1 - A`` that the output gives
      the input, as GANimation penalises it: it keeps the mask from saturating to "no change") and ``lambda_tv`` x
      the total variation of ``A`` (:func:`~monai_xrgan.losses.total_variation`), ``lambda_fm`` x
      :func:`~monai_xrgan.losses.feature_matching_loss` between D's trunk
      features of those translations and of the batch's real key-domain images, and ``lambda_cp`` x the L1 between
      the generator's encoder features of ``x`` and of ``G(x, c')`` outside the attention mask (both encoded with
      ``c'``; the mask is average-pooled to the feature size and not optimised by this term).

    Target domains: with ``p_key`` each sample's target is ``key_domain`` with probability ``p_key`` and one of the
    other domains uniformly otherwise; without it, the batch's own labels in random order (the reference). With
    every MI-GAN weight 0, no ``p_key`` and a generator without the key branch this is plain StarGAN.

    Args:
        image_key, domain_key: batch keys of the images ``(B, C, H, W)`` in ``[-1, 1]`` and of their ``(B,)`` domain
            indices.
        n_critic: discriminator steps per generator step (5).
        lambda_cls, lambda_rec, lambda_gp: StarGAN's weights (1, 10, 10).
        key_domain: the key (scarce) domain of MI-GAN, or ``None``.
        p_key: probability of ``key_domain`` as a target, or ``None`` for the reference's label permutation.
        lambda_key, lambda_att, lambda_tv, lambda_fm, lambda_cp: MI-GAN's weights (0 switches a term off);
            ``lambda_att``, ``lambda_tv`` and ``lambda_cp`` need a generator with the key branch.
        lambda_key_fake: weight of the critic's classification of the translations into ``key_domain`` as their
            source domains (0: off, the paper). Trained on the few real key images alone, D's classifier accepts
            translations that do not carry the key finding; seeing those translations too, it made the generator
            paint the finding on a toy but not on the migan_ct demo (measured in its model card).
        kwargs: the :class:`GeneratorDiscriminatorTrainer` arguments: ``generator``
            (:class:`~monai_xrgan.networks.stargan.StarGANGenerator` or a wrapper of one), ``discriminator``
            (:class:`~monai_xrgan.networks.stargan.StarGANDiscriminator` or a wrapper of one), ``g_optimizer``,
            ``d_optimizer``, optional ``g_lr_scheduler``, ``d_lr_scheduler``, and the other
            :class:`MultiNetworkTrainer` arguments (``device``, ``max_epochs``, ``train_data_loader``,
            ``train_handlers``, ``amp``, ...).
    """

    def __init__(
        self,
        *,
        image_key: str = "image",
        domain_key: str = "domain",
        n_critic: int = 5,
        lambda_cls: float = 1.0,
        lambda_rec: float = 10.0,
        lambda_gp: float = 10.0,
        key_domain: int | None = None,
        p_key: float | None = None,
        lambda_key: float = 0.0,
        lambda_att: float = 0.0,
        lambda_tv: float = 0.0,
        lambda_fm: float = 0.0,
        lambda_cp: float = 0.0,
        lambda_key_fake: float = 0.0,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        g, d = self.raw_networks["generator"], self.raw_networks["discriminator"]
        self.num_domains = int(g.num_domains)
        if int(d.num_domains) != self.num_domains:
            raise ConfigError(
                f"the generator has {self.num_domains} domains but the discriminator {d.num_domains}; "
                "give both networks the same num_domains."
            )
        self.image_key, self.domain_key, self.n_critic = image_key, domain_key, check_int("n_critic", n_critic, 1)
        self.lambdas = {
            name: check_number(f"lambda_{name}", value)
            for name, value in (("cls", lambda_cls), ("rec", lambda_rec), ("gp", lambda_gp), ("key", lambda_key),
                                ("att", lambda_att), ("tv", lambda_tv), ("fm", lambda_fm), ("cp", lambda_cp),
                                ("key_fake", lambda_key_fake))
        }  # fmt: skip
        self.key_domain = self._check_key(key_domain, p_key, g)
        self.p_key = None if p_key is None else float(p_key)
        self.wgan = GANLoss("wgan")

    def _check_key(self, key_domain: int | None, p_key: float | None, generator: nn.Module) -> int | None:
        if key_domain is not None and (
            isinstance(key_domain, bool) or not isinstance(key_domain, int) or not 0 <= key_domain < self.num_domains
        ):
            raise ConfigError(
                f"key_domain must be a domain index in [0, {self.num_domains - 1}] or null, got {key_domain!r}."
            )
        if p_key is not None and (
            isinstance(p_key, bool) or not isinstance(p_key, (int, float)) or not 0 <= p_key <= 1
        ):
            raise ConfigError(f"p_key must be a probability in [0, 1] or null, got {p_key!r}.")
        needs_key = [n for n in ("key", "att", "tv", "fm", "cp", "key_fake") if self.lambdas[n] > 0] + (
            ["p_key"] if p_key is not None else []
        )
        if needs_key and key_domain is None:
            raise ConfigError(
                f"{', '.join(needs_key)} need a key_domain; set key_domain or switch them off (0 / null)."
            )
        needs_branch = [f"lambda_{n}" for n in ("att", "tv", "cp") if self.lambdas[n] > 0]
        branch = generator.key_domain if generator.has_key_branch else None
        if needs_branch and branch is None:
            raise ConfigError(f"{', '.join(needs_branch)} need the generator's key branch; build it with key_domain.")
        if branch is not None and branch != key_domain:
            raise ConfigError(
                f"the generator's key branch is for domain {branch} but the trainer's key_domain is {key_domain}."
            )
        return key_domain

    def sample_targets(self, source: torch.Tensor) -> torch.Tensor:
        """Target domains for a batch whose domains are ``source`` (drawn on the CPU generator, then moved)."""
        batch = source.shape[0]
        if self.p_key is None or self.key_domain is None:
            return source[torch.randperm(batch).to(source.device)]
        others = torch.randint(0, self.num_domains - 1, (batch,))
        others = others + (others >= self.key_domain).long()  # uniform over the domains other than the key one
        targets = torch.where(torch.rand(batch) < self.p_key, torch.full_like(others, self.key_domain), others)
        return targets.to(source.device)

    def _domains(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        domains = batch[self.domain_key].reshape(-1).long()
        if bool(((domains < 0) | (domains >= self.num_domains)).any()):
            raise ConfigError(
                f"batch '{self.domain_key}' values {sorted(set(domains.tolist()))} are not all domain indices in "
                f"[0, {self.num_domains - 1}]; fix the datalist or num_domains."
            )
        return domains

    def _into_key(self, target: torch.Tensor) -> torch.Tensor:
        """Per-sample weight 1 for the translations into ``key_domain`` (all 0 without a key domain)."""
        if self.key_domain is None:
            return torch.zeros_like(target, dtype=torch.float)
        return (target == self.key_domain).float()

    def _discriminator_step(
        self, x: torch.Tensor, fake: torch.Tensor, source: torch.Tensor, target: torch.Tensor
    ) -> dict[str, torch.Tensor]:
        d = self.networks["discriminator"]
        with self.autocast():
            score_real, logits_real = d(x)
            score_fake, logits_fake = d(fake)
        losses = {
            "loss_d_real": self.wgan(score_real, target_is_real=True),
            "loss_d_fake": self.wgan(score_fake, target_is_real=False),
            "loss_d_cls": F.cross_entropy(logits_real.float(), source),
        }

        def critic(images: torch.Tensor) -> torch.Tensor:
            with self.autocast():
                return d(images)[0]

        losses["loss_d_gp"] = gradient_penalty(critic, x, fake, self.scaler)
        loss = losses["loss_d_real"] + losses["loss_d_fake"]
        loss = loss + self.lambdas["cls"] * losses["loss_d_cls"] + self.lambdas["gp"] * losses["loss_d_gp"]
        if self.lambdas["key_fake"] > 0:
            ce_fake = F.cross_entropy(logits_fake.float(), source, reduction="none")
            losses["loss_d_key_fake"] = weighted_mean(ce_fake, self._into_key(target))
            loss = loss + self.lambdas["key_fake"] * losses["loss_d_key_fake"]
        self.optimize(loss, "discriminator")
        return {"loss_d": loss.detach(), **{k: v.detach() for k, v in losses.items()}}

    def _generator_step(
        self, x: torch.Tensor, source: torch.Tensor, target: torch.Tensor
    ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        g, d = self.networks["generator"], self.networks["discriminator"]
        lam = self.lambdas
        into_key = self._into_key(target)
        with self.frozen("discriminator"):
            with self.autocast():
                out = g(x, target, with_attention=True)
                fake, mask = out[:, :-1], out[:, -1:]
                d_out = d(fake, return_features=lam["fm"] > 0)
                reconstruction = g(fake, source)
            ce = F.cross_entropy(d_out[1].float(), target, reduction="none")
            losses = {
                "loss_g_adv": self.wgan(d_out[0], target_is_real=True, for_discriminator=False),
                "loss_g_cls": ce.mean(),
                "loss_g_rec": F.l1_loss(reconstruction.float(), x.float()),
            }
            if lam["key"] > 0:
                losses["loss_g_key"] = weighted_mean(ce, into_key)
            if lam["att"] > 0:
                losses["loss_g_att"] = weighted_mean(attention_loss(mask.float()), into_key)
            if lam["tv"] > 0:
                losses["loss_g_tv"] = weighted_mean(total_variation(mask.float()), into_key)
            if lam["fm"] > 0:
                with torch.no_grad(), self.autocast():
                    real_features = d(x, return_features=True)[2]
                real_key = (source == self.key_domain).float()
                losses["loss_g_fm"] = feature_matching_loss(d_out[2], real_features, into_key, real_key)
            if lam["cp"] > 0:
                losses["loss_g_cp"] = self._content_loss(x, fake, mask, target, into_key)
            loss = losses["loss_g_adv"] + lam["cls"] * losses["loss_g_cls"] + lam["rec"] * losses["loss_g_rec"]
            for name in ("key", "att", "tv", "fm", "cp"):
                if f"loss_g_{name}" in losses:
                    loss = loss + lam[name] * losses[f"loss_g_{name}"]
            self.optimize(loss, "generator")
        return fake.detach(), {"loss_g": loss.detach(), **{k: v.detach() for k, v in losses.items()}}

    def _content_loss(
        self, x: torch.Tensor, fake: torch.Tensor, mask: torch.Tensor, target: torch.Tensor, into_key: torch.Tensor
    ) -> torch.Tensor:
        """L1 between the encoder features of ``x`` and ``fake`` outside the (pooled, fixed) attention mask."""
        encoder = self.raw_networks["generator"]  # plain module: an extra use of the DDP forward's parameters
        with self.autocast():
            with torch.no_grad():
                reference = encoder.encode(x, target)
            features = encoder.encode(fake, target)
        scale = x.shape[-1] // features.shape[-1]
        outside = 1.0 - F.avg_pool2d(mask.detach().float(), scale)
        difference = (features.float() - reference.float()).abs().mean(dim=1, keepdim=True) * outside
        return weighted_mean(difference.mean(dim=(1, 2, 3)), into_key)

    def train_step(self, batch: dict[str, torch.Tensor]) -> dict[str, Any]:
        x = batch[self.image_key]
        source = self._domains(batch)
        target = self.sample_targets(source)

        with torch.no_grad(), self.autocast():
            fake = self.networks["generator"](x, target)
        output = self._discriminator_step(x, fake, source, target)
        if self.state.iteration % self.n_critic == 0:
            fake, g_losses = self._generator_step(x, source, target)
            output.update(g_losses)
        return {"image": x, "pred": fake.detach(), "domain": source, "target_domain": target, **output}
