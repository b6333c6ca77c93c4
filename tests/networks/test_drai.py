from __future__ import annotations

import pytest
import torch

from monai_xrgan.inferers import content_style_grid, generate_images
from monai_xrgan.networks.drai import (
    DRAIAutoencoder,
    DRAIDiscriminator,
    DRAIEncoder,
    DRAIGenerator,
    DRAIStyleClassifier,
    LatentLayout,
)
from monai_xrgan.utils.errors import ConfigError


def count(net: torch.nn.Module) -> int:
    return sum(p.numel() for p in net.parameters())


def test_latent_layout_builds_splits_and_samples_codes():
    layout = LatentLayout(3, 4, 2)
    labels = torch.tensor([2, 0])
    code = layout.code(labels, torch.ones(2, 4), torch.zeros(2, 2))
    assert code.shape == (2, layout.code_dim) == (2, 9)
    condition, content, style = layout.split(code)
    torch.testing.assert_close(condition, torch.tensor([[0.0, 0, 1], [1, 0, 0]]))
    assert content.shape == (2, 4) and style.shape == (2, 2)
    a = layout.sample(labels, torch.Generator().manual_seed(3))
    b = layout.sample(labels, torch.Generator().manual_seed(3))
    torch.testing.assert_close(a, b)
    torch.testing.assert_close(layout.split(a)[0], condition)


def test_one_latent_layout_has_an_empty_style_part():
    layout = LatentLayout(3, 6, 0)
    code = layout.sample(torch.tensor([1, 1, 0]))
    assert code.shape == (3, 9) and layout.split(code)[2].shape == (3, 0)


@pytest.mark.parametrize("kwargs", [{"num_classes": 1}, {"content_dim": 0}, {"style_dim": -1}, {"content_dim": 2.5}])
def test_bad_layouts_raise_config_errors(kwargs):
    with pytest.raises(ConfigError):
        LatentLayout(**{"num_classes": 3, "content_dim": 4, "style_dim": 2, **kwargs})


@pytest.mark.parametrize("size", [32, 64, 128])
def test_generator_encoder_discriminator_shapes(size):
    g, e, d = (
        cls(3, 16, 16, image_size=size, base_channels=8) for cls in (DRAIGenerator, DRAIEncoder, DRAIDiscriminator)
    )
    code = g.layout.sample(torch.tensor([0, 1]))
    image = g(code)
    assert image.shape == (2, 1, size, size) and image.abs().max() <= 1
    logits, content, style = e(image)
    assert logits.shape == (2, 3) and content.shape == (2, 16) and style.shape == (2, 16)
    assert d(image, code).shape == (2,)
    assert g(code[:, :, None, None]).shape == image.shape  # DCGAN-style (B, D, 1, 1) codes work too


def test_dcgan_64_layout_and_parameter_counts():
    """64²: code -> 4x4x512 -> 8x8x256 -> 16x16x128 -> 32x32x64 -> 64x64x1 with ngf = 64, as DCGAN."""
    g = DRAIGenerator(3, 16, 16, image_size=64, base_channels=64)
    convs = [m for m in g.modules() if isinstance(m, torch.nn.ConvTranspose2d)]
    assert [(c.in_channels, c.out_channels) for c in convs] == [(35, 512), (512, 256), (256, 128), (128, 64), (64, 1)]
    # 35*512*16 + 512*256*16 + 256*128*16 + 128*64*16 + 64*16 + 1 convolution weights/bias, 2 x (512+256+128+64) BN
    assert count(g) == 3_042_177
    assert count(DRAIEncoder(3, 16, 16, image_size=64, base_channels=64)) == 3_042_147
    assert count(DRAIDiscriminator(3, 16, 16, image_size=64, base_channels=64)) == 7_493_953
    assert count(DRAIStyleClassifier(16, 3, 64)) == 5_443


def test_one_latent_networks():
    g = DRAIGenerator(3, 32, 0, image_size=32, base_channels=8)
    e = DRAIEncoder(3, 32, 0, image_size=32, base_channels=8)
    image = g(g.layout.sample(torch.tensor([2])))
    _, content, style = e(image)
    assert content.shape == (1, 32) and style.shape == (1, 0)


def test_generator_rejects_wrong_code_size():
    g = DRAIGenerator(3, 4, 4, image_size=32, base_channels=8)
    with pytest.raises(ValueError, match=r"\(B, 11\)"):
        g(torch.zeros(2, 10))


@pytest.mark.parametrize("size", [0, 48, 8, True])
def test_bad_image_size_is_a_config_error(size):
    with pytest.raises(ConfigError, match="image_size"):
        DRAIGenerator(image_size=size)


def test_autoencoder_reconstructs_and_swaps():
    g = DRAIGenerator(3, 4, 4, image_size=32, base_channels=8).eval()
    e = DRAIEncoder(3, 4, 4, image_size=32, base_channels=8).eval()
    model = DRAIAutoencoder(e, g)
    x = torch.rand(3, 1, 32, 32) * 2 - 1
    assert model(x).shape == x.shape
    swapped = model.swap(x, x[:1])
    logits, content, _ = e(x)
    style = e(x[:1])[2].expand(3, -1)
    torch.testing.assert_close(swapped, g(g.layout.code(logits.argmax(1), content, style)))
    with pytest.raises(ConfigError, match="layouts differ"):
        DRAIAutoencoder(DRAIEncoder(3, 4, 2, image_size=32, base_channels=8), g)
    one = DRAIGenerator(3, 8, 0, image_size=32, base_channels=8)
    with pytest.raises(ConfigError, match="style latent"):
        DRAIAutoencoder(DRAIEncoder(3, 8, 0, image_size=32, base_channels=8), one).swap(x, x)


def test_generation_is_seeded_and_grids_share_rows_and_columns():
    g = DRAIGenerator(3, 4, 4, image_size=32, base_channels=8)
    labels = torch.tensor([0, 1, 2, 2])
    torch.testing.assert_close(generate_images(g, labels, seed=5), generate_images(g, labels, seed=5))
    assert not torch.equal(generate_images(g, labels, seed=5), generate_images(g, labels, seed=6))
    grid = content_style_grid(g, 3, 4, seed=1)
    assert grid.shape == (3, 4, 1, 32, 32)
    # same content within a row and same style within a column: rebuild one cell from the codes
    layout = g.layout
    rng = torch.Generator().manual_seed(1)
    contents, styles = layout.sample(torch.arange(3) % 3, rng), layout.sample(torch.zeros(4, dtype=torch.long), rng)
    cell = g.eval()(torch.cat([contents[1:2, :7], styles[2:3, 7:]], dim=1))
    torch.testing.assert_close(grid[1, 2], cell[0])
