"""Blind degradations: every kind and severity, seeding, the random mixture, array and dictionary versions."""

from __future__ import annotations

import pytest
import torch
from monai.data import MetaTensor

from monai_xrgan.demo.phantoms import synthetic_chest_xray
from monai_xrgan.transforms.degradation import (
    DEGRADATIONS,
    SEVERITY_LEVELS,
    SEVERITY_PARAMETERS,
    Degradation,
    Degradationd,
    RandDegradation,
    RandDegradationd,
    _motion_kernel,
    degrade,
)
from monai_xrgan.utils.errors import ConfigError


@pytest.fixture(scope="module")
def radiograph() -> torch.Tensor:
    return torch.from_numpy(synthetic_chest_xray(5, 64, "covid_mild"))[None]


@pytest.mark.parametrize("kind", DEGRADATIONS)
def test_every_kind_gets_worse_with_severity(kind, radiograph):
    errors = []
    for severity in range(1, SEVERITY_LEVELS + 1):
        out = degrade(radiograph, kind, severity, seed=3)
        assert out.shape == radiograph.shape and out.dtype == torch.float32
        assert 0.0 <= float(out.min()) and float(out.max()) <= 1.0
        errors.append(float((out - radiograph).abs().mean()))
    assert errors[0] > 0 and all(b > a for a, b in zip(errors, errors[1:])), errors


def test_gaussian_noise_has_the_severity_standard_deviation():
    flat = torch.full((1, 128, 128), 0.5)
    for severity in (1, 5):
        noise = degrade(flat, "gaussian_noise", severity, seed=0) - flat
        assert float(noise.std()) == pytest.approx(SEVERITY_PARAMETERS["gaussian_noise"][severity - 1], rel=0.05)


def test_poisson_noise_is_quantum_noise():
    flat = torch.full((1, 128, 128), 0.5)
    quanta = SEVERITY_PARAMETERS["poisson_noise"][2]
    noisy = degrade(flat, "poisson_noise", 3, seed=0)
    assert float(noisy.mean()) == pytest.approx(0.5, abs=0.01)
    assert float(noisy.var()) == pytest.approx(0.5 / quanta, rel=0.1)  # variance = mean / quanta


def test_exposures_brighten_and_darken(radiograph):
    assert float(degrade(radiograph, "over_exposure", 3).mean()) > float(radiograph.mean())
    assert float(degrade(radiograph, "under_exposure", 3).mean()) < float(radiograph.mean())


def test_blurs_keep_the_mean_and_reflect_at_the_borders():
    flat = torch.full((1, 40, 40), 0.7)
    for kind in ("gaussian_blur", "motion_blur"):
        torch.testing.assert_close(degrade(flat, kind, 5, seed=1), flat)  # no dark rim from zero padding


def test_motion_kernel_is_a_normalised_line():
    kernel = _motion_kernel(9.0, 0.0)
    torch.testing.assert_close(kernel.sum(), torch.tensor(1.0))
    centre = kernel.shape[0] // 2
    assert float(kernel[centre].sum()) == pytest.approx(1.0)  # horizontal streak: all weight on the centre row
    vertical = _motion_kernel(9.0, 90.0)
    assert float(vertical[:, centre].sum()) == pytest.approx(1.0, abs=1e-5)


def test_blur_sizes_scale_with_the_image():
    small = torch.from_numpy(synthetic_chest_xray(1, 64))[None]
    large = torch.from_numpy(synthetic_chest_xray(1, 256))[None]
    blurred_large = torch.nn.functional.avg_pool2d(degrade(large, "gaussian_blur", 4)[None], 4)[0]
    blurred_small = degrade(small, "gaussian_blur", 4)
    # a severity blurs the same anatomy the same way at every resolution (compared at 64 px)
    assert float((blurred_large - blurred_small).abs().mean()) < 0.02


def test_random_parts_follow_the_seed(radiograph):
    for kind in ("gaussian_noise", "poisson_noise", "motion_blur"):
        torch.testing.assert_close(degrade(radiograph, kind, 3, seed=7), degrade(radiograph, kind, 3, seed=7))
        assert not torch.equal(degrade(radiograph, kind, 3, seed=7), degrade(radiograph, kind, 3, seed=8))


def test_degradation_transform_is_seeded_and_keeps_metadata(radiograph):
    image = MetaTensor(radiograph.clone(), meta={"filename_or_obj": "x.png"})
    first = Degradation("poisson_noise", 2).set_random_state(seed=0)(image)
    second = Degradation("poisson_noise", 2).set_random_state(seed=0)(image)
    assert isinstance(first, MetaTensor) and first.meta["filename_or_obj"] == "x.png"
    torch.testing.assert_close(first, second)
    from_numpy = Degradation("gaussian_blur", 2)(radiograph.numpy())
    assert isinstance(from_numpy, torch.Tensor) and from_numpy.dtype == torch.float32


def test_random_mixture_draws_distinct_compatible_kinds_in_acquisition_order(radiograph):
    transform = RandDegradation(num_degradations=(1, 3), severity=(2, 4)).set_random_state(seed=0)
    counts = set()
    for _ in range(60):
        transform.randomize()
        kinds = [kind for kind, _, _ in transform.steps]
        counts.add(len(kinds))
        assert len(set(kinds)) == len(kinds) and not {"over_exposure", "under_exposure"} <= set(kinds)
        assert kinds == sorted(kinds, key=DEGRADATIONS.index)
        assert all(2 <= severity <= 4 for _, severity, _ in transform.steps)
    assert counts == {1, 2, 3}
    assert transform.describe() == "+".join(f"{k}:{s}" for k, s, _ in transform.steps)


def test_random_mixture_is_reproducible_and_repeatable(radiograph):
    a = RandDegradation().set_random_state(seed=4)
    b = RandDegradation().set_random_state(seed=4)
    out = a(radiograph)
    torch.testing.assert_close(out, b(radiograph))
    torch.testing.assert_close(a(radiograph, randomize=False), out)  # the same draw, noise included


def test_probability_zero_leaves_the_image_alone(radiograph):
    transform = RandDegradation(prob=0.0)
    torch.testing.assert_close(transform(radiograph), radiograph)
    assert transform.describe() == "none"


def test_dictionary_versions_apply_one_draw_to_every_key(radiograph):
    data = {"lq": radiograph.clone(), "copy": radiograph.clone(), "label": 1}
    out = RandDegradationd(["lq", "copy"]).set_random_state(seed=2)(data)
    torch.testing.assert_close(out["lq"], out["copy"])
    assert not torch.equal(out["lq"], radiograph) and out["label"] == 1
    again = RandDegradationd(["lq", "copy"]).set_random_state(seed=2)(data)
    torch.testing.assert_close(again["lq"], out["lq"])
    fixed = Degradationd(["lq", "copy"], "gaussian_noise", 4).set_random_state(seed=1)(data)
    torch.testing.assert_close(fixed["lq"], fixed["copy"])
    skipped = RandDegradationd("lq", prob=0.0)(data)
    torch.testing.assert_close(skipped["lq"], radiograph)


@pytest.mark.parametrize(
    "build,message",
    [
        (lambda: Degradation("speckle"), "degradation kind"),
        (lambda: Degradation("motion_blur", 6), "severity"),
        (lambda: RandDegradation(severity=(3, 1)), "severity"),
        (lambda: RandDegradation(num_degradations=6), "num_degradations"),
        (lambda: RandDegradation(kinds=["motion_blur", "motion_blur"]), "kinds"),
    ],
)
def test_invalid_settings_are_config_errors(build, message):
    with pytest.raises(ConfigError, match=message):
        build()
