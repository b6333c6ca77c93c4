"""Checks that need a CUDA device (skipped elsewhere): AMP, channels-last and torch.compile on the GPU."""

from __future__ import annotations

import pytest
import torch
from monai.networks.nets import PatchDiscriminator

from monai_xrgan.engines import Pix2PixTrainer
from monai_xrgan.networks import Pix2PixUNet

pytestmark = [pytest.mark.gpu, pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")]


@pytest.mark.parametrize(
    "options", [{}, {"amp": True}, {"amp": True, "channels_last": True}, {"amp": True, "compile": True}]
)
def test_pix2pix_trains_on_gpu(options):
    device = torch.device("cuda")
    g = torch.Generator().manual_seed(0)
    data = [
        {"image": torch.rand(1, 64, 64, generator=g) * 2 - 1, "target": torch.rand(1, 64, 64, generator=g) * 2 - 1}
        for _ in range(8)
    ]
    loader = torch.utils.data.DataLoader(data, batch_size=4)
    generator = Pix2PixUNet(1, 1, num_downs=6, base_channels=16).to(device)
    discriminator = PatchDiscriminator(
        spatial_dims=2, num_layers_d=3, channels=16, in_channels=2, out_channels=1, norm="BATCH", bias=False, padding=1
    ).to(device)
    opts = [torch.optim.Adam(n.parameters(), 2e-4, betas=(0.5, 0.999)) for n in (generator, discriminator)]
    trainer = Pix2PixTrainer(
        device=device, max_epochs=2, train_data_loader=loader, generator=generator, discriminator=discriminator,
        g_optimizer=opts[0], d_optimizer=opts[1], **options,
    )  # fmt: skip
    trainer.run()
    out = trainer.state.output
    assert out["pred"].device.type == "cuda"
    assert torch.isfinite(out["loss_g"]) and torch.isfinite(out["loss_d"])
    if options.get("amp"):
        assert out["pred"].dtype == torch.bfloat16  # the generator ran under bf16 autocast
