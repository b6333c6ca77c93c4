from __future__ import annotations

import os

import numpy as np
import pytest
import torch
from monai.data import MetaTensor
from PIL import Image

from monai_xrgan.data.io import write_png
from monai_xrgan.networks.drai import DRAIEncoder, DRAIGenerator
from monai_xrgan.utils.errors import ConfigError, MissingInputError
from monai_xrgan.workflows.drai import DRAIReconstructionInferer, write_generated, write_swaps

DIMS = {"num_classes": 3, "content_dim": 4, "style_dim": 4, "image_size": 32, "base_channels": 4}
NAMES = ["normal", "viral_pneumonia", "covid"]


def test_generated_images_depend_only_on_condition_sample_and_seed(tmp_path):
    torch.manual_seed(0)
    g = DRAIGenerator(**DIMS)
    write_generated(g, tmp_path / "all", NAMES, samples_per_condition=2, seed=3)
    write_generated(g, tmp_path / "one", NAMES, conditions=[2, "covid"], samples_per_condition=2, seed=3)
    write_generated(g, tmp_path / "other_seed", NAMES, conditions=["covid"], samples_per_condition=2, seed=4)
    assert sorted(p.name for p in (tmp_path / "one").iterdir()) == [
        "covid_000.png",
        "covid_001.png",
        "generated_grid.png",
    ]
    read = lambda *parts: np.asarray(Image.open(tmp_path.joinpath(*parts)))
    np.testing.assert_array_equal(read("one", "covid_001.png"), read("all", "covid_001.png"))
    assert not np.array_equal(read("one", "covid_001.png"), read("other_seed", "covid_001.png"))
    assert not np.array_equal(read("all", "covid_000.png"), read("all", "normal_000.png"))  # the condition matters
    assert Image.open(tmp_path / "all" / "generated_grid.png").size == (2 * 34 - 2, 3 * 34 - 2)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"conditions": ["pneumothorax"]}, "is not a class index"),
        ({"conditions": [3]}, "is not a class index"),
        ({"conditions": []}, "conditions is empty"),
        ({"samples_per_condition": 0}, "samples_per_condition"),
        ({"class_names": ["a", "b"]}, "class_names has 2 names"),
    ],
)
def test_generation_mistakes_are_config_errors(tmp_path, kwargs, message):
    args = {"class_names": NAMES, **kwargs}
    with pytest.raises(ConfigError, match=message):
        write_generated(DRAIGenerator(**DIMS), tmp_path, **args)


def test_swaps_write_every_pair_and_a_grid(tmp_path):
    images = [write_png(tmp_path / f"in{i}.png", np.random.default_rng(i).random((40, 24))) for i in range(3)]
    grid = write_swaps(DRAIEncoder(**DIMS), DRAIGenerator(**DIMS), images[:2], images[2:], 32, tmp_path / "out")
    assert sorted(p.name for p in (tmp_path / "out").glob("swap_c*")) == ["swap_c0_s0.png", "swap_c1_s0.png"]
    assert Image.open(grid).size == (2 * 34 - 2, 3 * 34 - 2)
    with pytest.raises(ConfigError, match="content_images must be a non-empty list"):
        write_swaps(DRAIEncoder(**DIMS), DRAIGenerator(**DIMS), str(images[0]), images, 32, tmp_path)


def test_reconstruction_inferer_reads_the_encoder_when_used_and_again_when_it_changes(tmp_path):
    torch.manual_seed(0)
    path = tmp_path / "encoder.pt"
    inferer = DRAIReconstructionInferer(DRAIEncoder(**DIMS), path)  # no file yet: building it reads nothing
    generator = DRAIGenerator(**DIMS).eval()
    x = MetaTensor(torch.rand(2, 1, 32, 32) * 2 - 1)
    with pytest.raises(MissingInputError, match="encoder_ckpt_path"):
        inferer(x, generator)

    trained = DRAIEncoder(**DIMS).eval()
    torch.save(trained.state_dict(), path)
    with torch.no_grad():
        out = inferer(x, generator)
        torch.testing.assert_close(out.as_tensor(), generator(trained.code(x.as_tensor())))
    assert isinstance(out, MetaTensor) and out.shape == x.shape

    retrained = DRAIEncoder(**DIMS).eval()
    torch.save(retrained.state_dict(), path)
    os.utime(path, (path.stat().st_atime, path.stat().st_mtime + 10))
    with torch.no_grad():
        torch.testing.assert_close(inferer(x.as_tensor(), generator), generator(retrained.code(x.as_tensor())))
