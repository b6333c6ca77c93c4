from __future__ import annotations

import os

import numpy as np
import pytest
import torch
from monai.data import MetaTensor
from PIL import Image
from torch.utils.data import default_collate

from monai_xrgan.data import load_datalist
from monai_xrgan.demo.datasets import make_demo_dataset
from monai_xrgan.inferers import DRAIReconstructionInferer
from monai_xrgan.io.xray import write_png
from monai_xrgan.metrics.disentanglement import disentanglement_report, encode_images, stack_batches
from monai_xrgan.networks.drai import DRAIEncoder, DRAIGenerator
from monai_xrgan.transforms import XRayPreprocessd
from monai_xrgan.utils.errors import ConfigError, MissingInputError
from monai_xrgan.workflows import build_classifier
from monai_xrgan.workflows.drai import (
    evaluate_drai,
    load_drai_weights,
    one_image_per_class,
    reference_classifier,
    spread_images,
    write_generated,
    write_swaps,
)

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


@pytest.fixture(scope="module")
def probe_data(tmp_path_factory) -> tuple[dict, dict]:
    """Training and test batches (32 px) of a small DRAI demo: 30 training and 15 test images per class."""
    root = tmp_path_factory.mktemp("drai_probe_data")
    datalist = make_demo_dataset(
        "drai", root, size=64, num_train_per_class=30, num_val_per_class=1, num_test_per_class=15
    )
    load = XRayPreprocessd("image", spatial_size=32, keep_dicom_tags=False)
    keys = ["image", "label", "style"]
    return tuple(  # type: ignore[return-value]
        [{k: v for k, v in load(item).items() if k in keys} for item in load_datalist(datalist, split, root, keys=keys)]
        for split in ("training", "test")
    )


def _codes(encoder: DRAIEncoder, items: list[dict]) -> dict[str, torch.Tensor]:
    data = stack_batches([default_collate(items)])
    _, content, style = encode_images(encoder, data["image"])
    return {"content": content, "style": style, "label": data["label"], "factors": data["style"].float()}


def test_untrained_encoders_score_the_disentanglement_floor_near_zero(probe_data):
    """The floor arm ``untrained``: randomly initialised encoders put the same information in both parts."""
    scores = []
    for seed in range(4):
        torch.manual_seed(seed)
        encoder = DRAIEncoder(**DIMS)
        scores.append(disentanglement_report(*(_codes(encoder, items) for items in probe_data), 3)["disentanglement"])
    assert all(abs(s) < 0.3 for s in scores) and abs(np.mean(scores)) < 0.1, scores


def test_evaluation_scores_the_content_code_without_the_class_logits_and_writes_samples(probe_data, tmp_path):
    torch.manual_seed(0)
    generator, encoder = DRAIGenerator(**DIMS), DRAIEncoder(**DIMS)
    train, test = ([default_collate(items[i : i + 32]) for i in range(0, len(items), 32)] for items in probe_data)
    record = evaluate_drai(
        generator, encoder, build_classifier(3, arch="resnet18"), train, test, tmp_path, seed=1, grid_size=(2, 3),
        class_names=NAMES, samples_per_condition=2,
    )  # fmt: skip
    expected = disentanglement_report(*(_codes(encoder, items) for items in probe_data), 3)
    assert record["disentanglement"] == expected and record["metrics"]["disentanglement"] == expected["disentanglement"]
    assert record["disentanglement"]["code_sizes"] == {"content": 4, "style": 4}
    assert set(record["metrics"]) == {"disentanglement", "disentanglement_class", "disentanglement_style",
                                      "condition_accuracy", "real_test_accuracy", "fid", "fid_real"}  # fmt: skip
    confusion = np.array(record["condition_report"]["confusion_matrix"])
    assert confusion.sum(axis=1).tolist() == [15, 15, 15]
    assert record["metrics"]["condition_accuracy"] == pytest.approx(np.trace(confusion) / 45)
    assert sorted(p.name for p in (tmp_path / "generated").glob("*_00?.png")) == [
        f"{c}_00{k}.png" for c in ("covid", "normal", "viral_pneumonia") for k in range(2)
    ]


def test_weights_are_loaded_unless_untrained(tmp_path):
    torch.manual_seed(0)
    generator, encoder = DRAIGenerator(**DIMS), DRAIEncoder(**DIMS)
    initial = {k: v.clone() for k, v in generator.state_dict().items()}
    load_drai_weights(generator, encoder, tmp_path / "model.pt", tmp_path / "encoder.pt", untrained=True)
    assert all(torch.equal(v, generator.state_dict()[k]) for k, v in initial.items())
    with pytest.raises(MissingInputError, match="config `ckpt_path`"):
        load_drai_weights(generator, encoder, tmp_path / "model.pt", tmp_path / "encoder.pt")
    trained = DRAIGenerator(**DIMS)
    torch.save(trained.state_dict(), tmp_path / "model.pt")
    torch.save(DRAIEncoder(**DIMS).state_dict(), tmp_path / "encoder.pt")
    load_drai_weights(generator, encoder, tmp_path / "model.pt", tmp_path / "encoder.pt")
    assert all(torch.equal(v, generator.state_dict()[k]) for k, v in trained.state_dict().items())
    with pytest.raises(ConfigError, match="config `untrained` must be true or false"):
        load_drai_weights(generator, encoder, tmp_path / "model.pt", tmp_path / "encoder.pt", untrained="False")


def test_reference_classifier_is_trained_once_and_loaded_after(tmp_path):
    items = [{"image": write_png(tmp_path / f"{i}.png", np.random.default_rng(i).random((32, 32))), "label": i % 3}
             for i in range(6)]  # fmt: skip
    settings = {"arch": "resnet18", "epochs": 1, "batch_size": 3, "num_workers": 0}
    trained = reference_classifier(items, 3, 32, save_path=tmp_path / "out" / "classifier.pt", settings=settings,
                                   device="cpu")  # fmt: skip
    loaded = reference_classifier(items, 3, 32, ckpt_path=tmp_path / "out" / "classifier.pt", settings=settings,
                                  device="cpu")  # fmt: skip
    x = torch.rand(2, 1, 32, 32)
    with torch.no_grad():
        torch.testing.assert_close(loaded(x), trained(x))
    assert not loaded.training
    with pytest.raises(MissingInputError, match="config `classifier_ckpt`"):
        reference_classifier(items, 3, 32, ckpt_path=tmp_path / "missing.pt")


def test_a_one_latent_model_is_scored_like_a_two_latent_model_with_the_same_code(probe_data, tmp_path):
    """``evaluate_drai`` cuts a one-latent code ``z`` at ``content_dim``: an encoder whose ``z`` is another encoder's
    ``[z_c, z_s]`` gets the same disentanglement score."""
    torch.manual_seed(0)
    two = DRAIEncoder(**DIMS)
    one = DRAIEncoder(**{**DIMS, "content_dim": 8, "style_dim": 0})
    state = {k: v for k, v in two.state_dict().items() if not k.startswith(("content_head", "style_head"))}
    for part in ("weight", "bias"):
        state[f"content_head.{part}"] = torch.cat([two.state_dict()[f"{h}_head.{part}"] for h in ("content", "style")])
    one.load_state_dict(state)
    train, test = ([default_collate(items)] for items in probe_data)
    generator = DRAIGenerator(**{**DIMS, "content_dim": 8, "style_dim": 0})
    record = evaluate_drai(generator, one, build_classifier(3, arch="resnet18"), train, test, tmp_path,
                           grid_size=(1, 1), samples_per_condition=1, content_dim=4)  # fmt: skip
    assert record["two_latents"] is False
    assert record["disentanglement"] == disentanglement_report(*(_codes(two, items) for items in probe_data), 3)


def test_default_swap_images_take_one_per_class_and_spread_styles():
    items = [{"image": f"{i}.png", "label": i // 4} for i in range(12)]  # classes listed in blocks of 4
    assert one_image_per_class(items, 3) == ["0.png", "4.png", "8.png"]
    assert spread_images(items, 4) == ["1.png", "4.png", "7.png", "10.png"]
    assert spread_images(items[:2], 4) == ["1.png"]
    with pytest.raises(ConfigError, match="no item of class 3"):
        one_image_per_class(items, 4)
