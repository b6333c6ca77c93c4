from __future__ import annotations

import copy
from typing import Any

import pytest
import torch
import torch.nn.functional as F

from monai_xrgan.engines.drai import DRAITrainer
from monai_xrgan.networks.drai import (
    DRAIDiscriminator,
    DRAIEncoder,
    DRAIGenerator,
    DRAIStyleClassifier,
)
from monai_xrgan.transforms import RandomStyleTransform
from monai_xrgan.utils.errors import ConfigError

SIZE = 32


def tiny_trainer(style_dim: int = 4, batches: int = 2, lr: float = 2e-4, **kwargs: Any) -> DRAITrainer:
    g = torch.Generator().manual_seed(1)
    data = [{"image": torch.rand(1, SIZE, SIZE, generator=g) * 2 - 1, "label": i % 3} for i in range(4 * batches)]
    loader = torch.utils.data.DataLoader(data, batch_size=4)
    dims = {"num_classes": 3, "content_dim": 4, "style_dim": style_dim, "image_size": SIZE, "base_channels": 4}
    nets = [
        DRAIGenerator(**dims),
        DRAIEncoder(**dims),
        DRAIDiscriminator(**dims, hidden_channels=16),
        DRAIStyleClassifier(max(style_dim, 1), 3, hidden_channels=8),
    ]
    opts = [torch.optim.Adam(n.parameters(), lr, betas=(0.5, 0.999)) for n in nets]
    return DRAITrainer(*nets[:3], *opts[:3], nets[3], opts[3], device="cpu", max_epochs=1, train_data_loader=loader,
                       **kwargs)  # fmt: skip


def one_iteration(trainer: DRAITrainer, batch: dict[str, Any] | None = None) -> dict[str, Any]:
    trainer.state.iteration = 1
    return trainer._iteration(trainer, batch if batch is not None else next(iter(trainer.data_loader)))


def test_losses_are_the_weighted_sum_of_their_parts():
    weights = {
        "lambda_adv": 0.5,
        "lambda_cls_real": 2.0,
        "lambda_cls_fake": 3.0,
        "lambda_grl": 1.5,
        "lambda_latent": 4.0,
        "lambda_swap": 0.25,
        "lambda_transform": 0.75,
    }
    out = one_iteration(tiny_trainer(style_transform=RandomStyleTransform(), **weights))
    expected_g = (
        0.5 * out["loss_adv"]
        + 2.0 * out["loss_cls_real"]
        + 3.0 * out["loss_cls_fake"]
        + 4.0 * out["loss_latent"]
        + out["loss_grl"]
        + 0.25 * out["loss_swap"]
        + 0.75 * out["loss_transform"]
    )
    torch.testing.assert_close(out["loss_g"], expected_g)
    torch.testing.assert_close(out["loss_d"], out["loss_d_real"] + out["loss_d_fake"])
    assert out["pred"].shape == out["image"].shape == (4, 1, SIZE, SIZE)


def test_discriminator_loss_matches_the_joint_pairs():
    trainer = tiny_trainer()
    nets = {name: copy.deepcopy(net) for name, net in trainer.raw_networks.items()}
    batch = next(iter(trainer.data_loader))
    torch.manual_seed(7)
    out = one_iteration(trainer, batch)
    # replay the step's random draws (prior codes, then the discriminator's dropout) on the networks before the update
    torch.manual_seed(7)
    labels = batch["label"]
    layout = nets["generator"].layout
    prior = layout.sample(labels)
    with torch.no_grad():
        _, content, style = nets["encoder"].train()(batch["image"])
        fake = nets["generator"].train()(prior)
        disc = nets["discriminator"].train()
        d_real = disc(batch["image"], layout.code(labels, content, style))
        d_fake = disc(fake, prior)
    torch.testing.assert_close(out["loss_d_real"], F.binary_cross_entropy_with_logits(d_real, torch.ones_like(d_real)))
    torch.testing.assert_close(out["loss_d_fake"], F.binary_cross_entropy_with_logits(d_fake, torch.zeros_like(d_fake)))


def test_every_network_is_updated_and_the_discriminator_unfrozen():
    trainer = tiny_trainer()
    before = {name: copy.deepcopy(net.state_dict()) for name, net in trainer.raw_networks.items()}
    trainer.run()
    assert set(trainer.raw_networks) == {"generator", "encoder", "discriminator", "style_classifier"}
    for name, net in trainer.raw_networks.items():
        changed = [
            k for k, v in net.state_dict().items() if v.is_floating_point() and not torch.equal(v, before[name][k])
        ]
        assert changed, f"{name} was not updated"
    assert all(p.requires_grad for p in trainer.raw_networks["discriminator"].parameters())


def test_gradient_reversal_makes_the_encoder_hide_the_class_from_the_style_code():
    """Only the GRL term on: h gets better at finding the class in z_s, the encoder makes z_s worse for h."""
    off = {k: 0.0 for k in ("lambda_adv", "lambda_cls_real", "lambda_cls_fake", "lambda_latent", "lambda_swap")}
    trainer = tiny_trainer(lr=1e-3, lambda_grl=1.0, **off)
    encoder, head = trainer.raw_networks["encoder"], trainer.raw_networks["style_classifier"]
    batch = next(iter(trainer.data_loader))
    x, y = batch["image"], batch["label"]
    with torch.no_grad():
        style_before, head_before = encoder(x)[2], copy.deepcopy(head)
        loss_before = F.cross_entropy(head(style_before), y)
    out = one_iteration(trainer)
    torch.testing.assert_close(out["loss_grl"], loss_before)
    with torch.no_grad():
        assert F.cross_entropy(head(style_before), y) < loss_before  # h minimises
        assert F.cross_entropy(head_before(encoder(x)[2]), y) > loss_before  # the encoder maximises


def test_transformation_consistency_compares_the_content_of_a_restyled_copy():
    """With an identity 'style change' the restyled copy is the image itself: the loss is the class cross-entropy."""
    still = RandomStyleTransform(rotate=0, translate=0, scale=0, gamma=(1, 1), blur_sigma=0, noise_std=0)
    out = one_iteration(tiny_trainer(style_transform=still, lambda_transform=1.0))
    torch.testing.assert_close(out["loss_transform"], out["loss_cls_real"], atol=1e-5, rtol=0)


def test_one_latent_ablation_drops_the_style_terms():
    trainer = tiny_trainer(style_dim=0, style_transform=RandomStyleTransform(), lambda_transform=1.0)
    out = one_iteration(trainer)
    assert "loss_grl" not in out and "loss_swap" not in out and "loss_transform" not in out
    assert set(trainer.raw_networks) == {"generator", "encoder", "discriminator"}
    trainer.run()
    assert torch.isfinite(trainer.state.output["loss_g"])


def test_zero_weights_switch_regularisers_off():
    out = one_iteration(tiny_trainer(lambda_grl=0.0, lambda_swap=0.0, lambda_transform=0.0))
    assert "loss_grl" not in out and "loss_swap" not in out and "loss_transform" not in out


def test_checkpoint_objects_include_the_style_classifier():
    objects = tiny_trainer().checkpoint_objects()
    assert {"network_style_classifier", "optimizer_style_classifier", "optimizer_encoder", "grad_scaler"} <= set(
        objects
    )


def test_bf16_autocast_runs_on_cpu():
    trainer = tiny_trainer(amp=True)
    trainer.run()
    assert torch.isfinite(trainer.state.output["loss_g"])


def test_configuration_mistakes_are_one_line_errors():
    with pytest.raises(ConfigError, match="lambda_swap"):
        tiny_trainer(lambda_swap=-1.0)
    trainer = tiny_trainer()
    g, e, d = (trainer.raw_networks[k] for k in ("generator", "encoder", "discriminator"))
    opt = trainer.optimizers["generator"]
    engine = {"device": "cpu", "max_epochs": 1, "train_data_loader": trainer.data_loader}
    with pytest.raises(ConfigError, match="style_classifier"):
        DRAITrainer(g, e, d, opt, opt, opt, **engine)
    with pytest.raises(ConfigError, match="style_transform"):
        DRAITrainer(g, e, d, opt, opt, opt, lambda_grl=0.0, lambda_transform=1.0, **engine)
    other = DRAIEncoder(3, 5, 4, image_size=SIZE, base_channels=4)
    with pytest.raises(ConfigError, match="encoder's latent layout"):
        DRAITrainer(g, other, d, opt, opt, opt, lambda_grl=0.0, **engine)
