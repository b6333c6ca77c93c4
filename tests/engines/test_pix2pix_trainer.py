from __future__ import annotations

import copy

import pytest
import torch
import torch.nn.functional as F

from monai_xrgan.engines import LinearDecayLR
from monai_xrgan.losses import GANLoss

from helpers.pix2pix import tiny_trainer


def test_one_iteration_matches_the_reference_losses():
    trainer = tiny_trainer()
    g0 = copy.deepcopy(trainer.raw_networks["generator"])
    d0 = copy.deepcopy(trainer.raw_networks["discriminator"])
    batch = next(iter(trainer.data_loader))
    trainer.state.iteration = 1
    out = trainer._iteration(trainer, batch)

    # L_D = 0.5 * [BCE(D(a, b), 1) + BCE(D(a, G(a)), 0)] with the networks before the update (train mode: batch stats)
    a, b = batch["image"], batch["target"]
    gan = GANLoss("vanilla")
    with torch.no_grad():
        fake = g0.train()(a)
        d0.train()
        expected_d = 0.5 * (gan(d0(torch.cat([a, fake], 1))[-1], False) + gan(d0(torch.cat([a, b], 1))[-1], True))
    torch.testing.assert_close(out["loss_d"], expected_d)
    torch.testing.assert_close(out["loss_g"], out["loss_g_gan"] + 100.0 * out["loss_g_l1"])
    torch.testing.assert_close(out["loss_g_l1"], F.l1_loss(out["pred"], b))
    assert set(out) >= {"image", "target", "pred", "loss_d_real", "loss_d_fake"}


def test_both_networks_are_updated_and_discriminator_unfrozen_after_generator_step():
    trainer = tiny_trainer()
    before = {name: copy.deepcopy(net.state_dict()) for name, net in trainer.raw_networks.items()}
    trainer.run()
    for name, net in trainer.raw_networks.items():
        changed = [
            k for k, v in net.state_dict().items() if v.is_floating_point() and not torch.equal(v, before[name][k])
        ]
        assert changed, f"{name} was not updated"
    assert all(p.requires_grad for p in trainer.raw_networks["discriminator"].parameters())


def test_frozen_discriminator_gets_no_gradient():
    trainer = tiny_trainer()
    disc = trainer.raw_networks["discriminator"]
    x = torch.zeros(1, 2, 32, 32, requires_grad=True)
    with trainer.frozen("discriminator"):
        disc(x)[-1].sum().backward()
    assert x.grad is not None  # gradients still flow through the critic to its input (the generator)
    assert all(p.grad is None for p in disc.parameters())


def test_bf16_autocast_runs_on_cpu():
    trainer = tiny_trainer(amp=True)
    trainer.run()
    assert torch.isfinite(trainer.state.output["loss_g"])
    assert not trainer.scaler.is_enabled()  # bfloat16 needs no loss scaling


def test_bad_amp_dtype_is_rejected():
    with pytest.raises(ValueError, match="amp_dtype"):
        tiny_trainer(amp=True, amp_dtype="float8")


def test_checkpoint_objects_hold_everything_to_resume():
    trainer = tiny_trainer(g_lr_scheduler=None)
    objects = trainer.checkpoint_objects()
    assert {
        "trainer",
        "network_generator",
        "network_discriminator",
        "optimizer_generator",
        "optimizer_discriminator",
        "grad_scaler",
    } <= set(objects)


@pytest.mark.slow
def test_torch_compile_switch_trains():
    trainer = tiny_trainer(compile=True)
    trainer.run()
    assert torch.isfinite(trainer.state.output["loss_g"])
    # weights live in the plain modules, so checkpoints have no `_orig_mod.` prefixes
    assert not any(k.startswith("_orig_mod") for k in trainer.raw_networks["generator"].state_dict())


def test_linear_decay_schedule_follows_reference_rule():
    opt = torch.optim.Adam([torch.nn.Parameter(torch.zeros(1))], lr=1.0)
    sched = LinearDecayLR(opt, constant_epochs=3, decay_epochs=4)
    rates = []
    for _ in range(7):
        rates.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    # reference: 1 - max(0, epoch + 1 - n_epochs) / (n_epochs_decay + 1)
    assert rates == pytest.approx([1, 1, 1, 0.8, 0.6, 0.4, 0.2])
