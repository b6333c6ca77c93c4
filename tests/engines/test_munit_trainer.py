"""MUNIT trainer: both optimisers step, losses are reported, domain B is cycled independently."""

from __future__ import annotations

import torch
from ignite.engine import Events

from monai_xrgan.engines import MUNITTrainer
from monai_xrgan.networks import MUNITDiscriminator, MUNITGenerator


def test_one_epoch_updates_every_network_and_cycles_domain_b():
    torch.manual_seed(0)
    nets = {"generator_a": MUNITGenerator(dim=8, style_dim=4, mlp_dim=16),
            "generator_b": MUNITGenerator(dim=8, style_dim=4, mlp_dim=16),
            "discriminator_a": MUNITDiscriminator(dim=8, n_layers=2, num_scales=2),
            "discriminator_b": MUNITDiscriminator(dim=8, n_layers=2, num_scales=2)}  # fmt: skip
    before = {k: [p.detach().clone() for p in n.parameters()] for k, n in nets.items()}
    a = [{"hq": torch.rand(1, 1, 32, 32) * 2 - 1} for _ in range(3)]
    b = [{"image": torch.rand(1, 1, 32, 32) * 2 - 1} for _ in range(2)]
    gens = list(nets["generator_a"].parameters()) + list(nets["generator_b"].parameters())
    diss = list(nets["discriminator_a"].parameters()) + list(nets["discriminator_b"].parameters())
    trainer = MUNITTrainer(
        device="cpu", max_epochs=1, train_data_loader=a, b_data_loader=b, **nets,
        g_optimizer=torch.optim.Adam(gens, 1e-4), d_optimizer=torch.optim.Adam(diss, 1e-4), a_key="hq", b_key="image",
    )  # fmt: skip
    outputs = []
    trainer.add_event_handler(Events.ITERATION_COMPLETED, lambda e: outputs.append(e.state.output))
    trainer.run()
    assert len(outputs) == 3  # the epoch is domain A's length; B (2 batches) restarted once
    assert {"loss_g", "loss_g_gan", "loss_g_recon_x", "loss_g_recon_s", "loss_g_recon_c", "loss_d"} <= set(outputs[0])
    assert outputs[0]["pred"].shape == (1, 1, 32, 32) and torch.isfinite(outputs[-1]["loss_g"])
    for name, net in nets.items():
        assert any(not torch.equal(p, q) for p, q in zip(net.parameters(), before[name])), name
