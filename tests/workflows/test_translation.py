"""GAN-train / GAN-test of multi-domain translators (``workflows/translation.py``): the generated sets hold every
domain, so the identity scores chance and a translator that really changes the domain scores above it."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from monai.transforms import EnsureTyped
from torch import nn

from monai_xrgan.utils.errors import ConfigError
from monai_xrgan.workflows.translation import (
    METRICS_JSON,
    SAMPLES_NPZ,
    IdentityTranslator,
    evaluate_translation,
    translations_to_every_domain,
)

NAMES = ["normal", "viral_pneumonia", "covid_mild"]
CLASSIFIER = {"arch": "resnet18", "widen_factor": 0.25, "image_size": 16, "epochs": 15, "batch_size": 6, "lr": 1e-3,
              "num_workers": 0, "seed": 0}  # fmt: skip


def _pattern(domain: int) -> torch.Tensor:
    """A ``(1, 32, 32)`` image in ``[-1, 1]`` whose bright block tells the domain: left half, top half or centre."""
    image = torch.full((1, 32, 32), -0.8)
    block = [(slice(None), slice(0, 16)), (slice(0, 16), slice(None)), (slice(8, 24), slice(8, 24))][domain]
    image[(0, *block)] = 0.6
    return image


def _items(per_domain: int, seed: int) -> list[dict]:
    generator = torch.Generator().manual_seed(seed)
    return [
        {"image": _pattern(d) + 0.2 * torch.rand((1, 32, 32), generator=generator), "domain": d}
        for d in range(3)
        for _ in range(per_domain)
    ]


class AddDomain(nn.Module):
    """``G(x, c) = x + c``: shows which target each translation was made for."""

    num_domains = 3

    def forward(self, x: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
        return x + c.view(-1, 1, 1, 1).to(x)


class Oracle(nn.Module):
    """A translator that works: the target domain's pattern, with a trace of the input."""

    num_domains = 3
    has_key_branch = True

    def forward(self, x: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
        return torch.stack([_pattern(int(d)) for d in c]).to(x) + 0.2 * (x + 1.0) / 2


def test_every_image_is_translated_into_every_domain_its_own_included():
    images = torch.stack([torch.zeros(1, 2, 2), torch.full((1, 2, 2), 10.0)])
    translations, targets = translations_to_every_domain(AddDomain(), images, "cpu", batch_size=4)
    assert targets.tolist() == [0, 1, 2, 0, 1, 2]
    assert translations[:, 0, 0, 0].tolist() == [0.0, 1.0, 2.0, 10.0, 11.0, 12.0]


def test_identity_translator():
    x = torch.randn(2, 1, 8, 8)
    assert IdentityTranslator(3)(x, torch.tensor([0, 2])) is x and not IdentityTranslator(3).has_key_branch
    with pytest.raises(ConfigError, match="num_domains must be an integer >= 2"):
        IdentityTranslator(1)


@pytest.fixture(scope="module")
def scored(tmp_path_factory):
    """The identity (the floor) and a working translator scored on the same data with the same classifiers."""
    train, test = _items(6, seed=0), _items(3, seed=1)
    results = {}
    for name, generator in (("identity", IdentityTranslator(3)), ("oracle", Oracle())):
        out = tmp_path_factory.mktemp(name)
        evaluate_translation(generator, train, test, EnsureTyped("image"), NAMES, "covid_mild", out, CLASSIFIER)
        results[name] = (out, json.loads((out / METRICS_JSON).read_text()))
    return results


def test_identity_scores_chance_and_a_working_translator_beats_it(scored):
    identity, oracle = scored["identity"][1], scored["oracle"][1]
    assert identity["model"].startswith("identity") and identity["chance"] == pytest.approx(1 / 3)
    # each test slice appears once with every label: a real-trained classifier is right on exactly one copy
    assert identity["gan_test"] == pytest.approx(1 / 3)
    assert identity["real_accuracy"] > 0.8  # while the classifier does tell the real domains apart
    assert identity["counts"]["generated_train"] == 3 * 18 and identity["counts"]["generated_test"] == 3 * 9
    # copies labelled with every domain teach no domain (GAN-train near chance, by luck above it on 9 images)
    assert oracle["gan_test"] > 0.8 and oracle["gan_train"] > 0.8 and oracle["gan_train"] > identity["gan_train"]
    for report in identity["reports"].values():
        assert np.asarray(report["confusion_matrix"]).sum() == report["num_samples"]
    for run in ("real", "real+synthetic"):
        assert {"sensitivity", "auc", "confusion_matrix"} <= set(identity["augmentation"][run])


def test_sample_arrays_hold_the_input_and_each_translation(scored):
    out, _ = scored["identity"]
    samples = np.load(out / SAMPLES_NPZ)
    assert sorted(samples.files) == sorted(["source", "domain", *(f"to_{n}" for n in NAMES)])
    assert samples["domain"].tolist() == [0, 0, 1, 1, 2, 2]
    for name in NAMES:
        np.testing.assert_array_equal(samples[f"to_{name}"], samples["source"])
