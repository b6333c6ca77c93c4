from __future__ import annotations

import pytest
import torch
from monai.networks.nets import PatchDiscriminator

from monai_xrgan.networks import Pix2PixUNet
from monai_xrgan.utils.errors import ConfigError


def n_params(module: torch.nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def reference_patchgan(in_channels: int) -> PatchDiscriminator:
    return PatchDiscriminator(
        spatial_dims=2,
        num_layers_d=3,
        channels=64,
        in_channels=in_channels,
        out_channels=1,
        norm="BATCH",
        bias=False,
        padding=1,
    )


def test_unet256_parameter_counts_match_reference():
    # pix2pix.md: reference unet_256 with ngf 64 and batch norm
    assert n_params(Pix2PixUNet(3, 3, num_downs=8)) == 54_413_955
    assert n_params(Pix2PixUNet(1, 1, num_downs=8)) == 54_407_809
    assert n_params(Pix2PixUNet(1, 1, num_downs=7)) == 41_822_849  # unet_128, the 128² demo default


def test_patchgan_parameter_counts_and_patch_size():
    assert n_params(reference_patchgan(6)) == 2_768_705
    disc = reference_patchgan(2)
    assert n_params(disc) == 2_764_609
    with torch.no_grad():
        logits = disc(torch.zeros(1, 2, 256, 256))[-1]
    assert logits.shape == (1, 1, 30, 30)


def test_unet_layout_follows_reference():
    net = Pix2PixUNet(1, 1, num_downs=8)
    # no norm after the first and the innermost encoder convolution, no bias before batch norm
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in net.encoders[0])
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in net.encoders[-1])
    convs = [m for m in net.modules() if isinstance(m, (torch.nn.Conv2d, torch.nn.ConvTranspose2d))]
    assert [c.bias is not None for c in convs].count(True) == 1  # only the outermost transposed convolution
    assert isinstance(net.decoders[-1][-1], torch.nn.Tanh)
    dropouts = [i for i, d in enumerate(net.decoders) if any(isinstance(m, torch.nn.Dropout) for m in d)]
    assert dropouts == [1, 2, 3]  # the three 512-channel decoder blocks next to the innermost one
    assert len([d for d in Pix2PixUNet(1, 1, num_downs=7).decoders if isinstance(d[-1], torch.nn.Dropout)]) == 2


@pytest.mark.parametrize("num_downs,size", [(6, 64), (7, 128)])
def test_unet_shapes_and_range(num_downs, size):
    net = Pix2PixUNet(1, 1, num_downs=num_downs, base_channels=8).eval()
    with torch.no_grad():
        out = net(torch.randn(2, 1, size, size))
    assert out.shape == (2, 1, size, size)
    assert out.abs().max() <= 1.0


def test_dropout_in_eval_is_a_switch():
    x = torch.randn(1, 1, 64, 64)
    deterministic = Pix2PixUNet(1, 1, num_downs=6, base_channels=8, dropout_in_eval=False).eval()
    with torch.no_grad():
        assert torch.equal(deterministic(x), deterministic(x))
    noisy = Pix2PixUNet(1, 1, num_downs=6, base_channels=8, dropout_in_eval=True).eval()
    noisy.load_state_dict(deterministic.state_dict())
    with torch.no_grad():
        assert not torch.equal(noisy(x), noisy(x))


def test_wrong_input_size_is_a_clear_error():
    net = Pix2PixUNet(1, 1, num_downs=6, base_channels=8)
    with pytest.raises(ConfigError, match="divisible by 64"):
        net(torch.zeros(1, 1, 60, 64))
    with pytest.raises(ConfigError, match="num_downs"):
        Pix2PixUNet(num_downs=4)


def test_torchscript_export_matches_eager():
    net = Pix2PixUNet(1, 1, num_downs=6, base_channels=8).eval()
    x = torch.randn(1, 1, 64, 64)
    scripted = torch.jit.script(net)
    with torch.no_grad():
        torch.testing.assert_close(scripted(x), net(x))


def test_residual_generator_starts_as_the_identity():
    x = torch.rand(2, 1, 64, 64) * 2 - 1
    net = Pix2PixUNet(1, 1, num_downs=6, base_channels=8, residual=True, dropout_in_eval=True).eval()
    with torch.no_grad():
        torch.testing.assert_close(net(x), x, atol=1e-3, rtol=0)  # clamped to ±0.999 before atanh
        plain = Pix2PixUNet(1, 1, num_downs=6, base_channels=8)
        assert (plain(x) - x).abs().mean() > 0.1  # the reference's generator does not
    assert n_params(net) == n_params(plain)
    with pytest.raises(ConfigError, match="in_channels == out_channels"):
        Pix2PixUNet(1, 3, num_downs=6, residual=True)


def test_residual_generator_learns_a_change():
    x = torch.rand(4, 1, 32, 32) * 1.6 - 0.8
    target = (x + 0.3 * (x > 0)).clamp(-1, 1)
    net = Pix2PixUNet(1, 1, num_downs=5, base_channels=8, dropout=0.0, residual=True)
    opt = torch.optim.Adam(net.parameters(), 2e-3)
    start = torch.nn.functional.l1_loss(net(x), target).item()
    for _ in range(60):
        opt.zero_grad()
        loss = torch.nn.functional.l1_loss(net(x), target)
        loss.backward()
        opt.step()
    assert loss.item() < 0.5 * start  # the zero-initialised output layer does not block the gradient
