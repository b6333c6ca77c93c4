"""Tiny pix2pix set-up shared by the engine and handler tests."""

from __future__ import annotations

from typing import Any

import torch
from monai.networks.nets import PatchDiscriminator

from monai_xrgan.engines import Pix2PixTrainer
from monai_xrgan.networks import Pix2PixUNet


def tiny_pairs(n: int = 4, size: int = 32) -> list[dict[str, torch.Tensor]]:
    g = torch.Generator().manual_seed(1)
    images = [torch.rand(1, size, size, generator=g) * 2 - 1 for _ in range(n)]
    return [{"image": x, "target": x.flip(-1)} for x in images]


def tiny_trainer(max_epochs: int = 1, handlers: list | None = None, **kwargs: Any) -> Pix2PixTrainer:
    loader = torch.utils.data.DataLoader(tiny_pairs(), batch_size=2)
    generator = Pix2PixUNet(1, 1, num_downs=5, base_channels=4)
    discriminator = PatchDiscriminator(
        spatial_dims=2, num_layers_d=2, channels=4, in_channels=2, out_channels=1, norm="BATCH", bias=False, padding=1
    )
    g_opt = torch.optim.Adam(generator.parameters(), 2e-4, betas=(0.5, 0.999))
    d_opt = torch.optim.Adam(discriminator.parameters(), 2e-4, betas=(0.5, 0.999))
    return Pix2PixTrainer(
        device="cpu", max_epochs=max_epochs, train_data_loader=loader, generator=generator,
        discriminator=discriminator, g_optimizer=g_opt, d_optimizer=d_opt, train_handlers=handlers, **kwargs,
    )  # fmt: skip
