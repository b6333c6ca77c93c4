import pytest
import torch
from ignite.engine import Engine

from monai_xrgan.metrics import LesionChangeMetric, lesion_change_handler, lesion_change_scores
from monai_xrgan.utils.errors import ConfigError


def _mask() -> torch.Tensor:
    """(1, 1, 8, 8): lungs in columns 2..5 (32 pixels), a lesion in rows 2..3 of them (8 pixels)."""
    mask = torch.zeros(1, 1, 8, 8)
    mask[..., :, 2:6] = 1
    mask[..., 2:4, 2:6] = 2
    return mask


def test_an_unchanged_image_scores_the_floor():
    scores = lesion_change_scores(torch.zeros(1, 1, 8, 8), _mask())
    assert scores.tolist() == [[0.0, 0.0]]


def test_a_change_only_inside_the_lesion_scores_one():
    change = (_mask() == 2).float() * -0.3  # the sign of the change does not matter
    assert lesion_change_scores(change, _mask()).tolist() == [[pytest.approx(1.0), pytest.approx(1.0)]]


def test_a_uniform_change_has_no_lesion_contrast_and_the_lung_share_of_the_area():
    share, contrast = lesion_change_scores(torch.full((1, 1, 8, 8), 0.2), _mask())[0].tolist()
    assert share == pytest.approx(32 / 64) and contrast == pytest.approx(0.0, abs=1e-6)


def test_a_change_that_avoids_the_lesion_scores_minus_one_and_scores_are_scale_free():
    change = (_mask() == 1).float()
    assert lesion_change_scores(change, _mask())[0, 1] == pytest.approx(-1.0)
    mixed = 0.1 * (_mask() == 1).float() + 0.3 * (_mask() == 2).float()
    contrast = (0.3 - 0.1) / (0.3 + 0.1)
    assert lesion_change_scores(mixed, _mask())[0, 1] == pytest.approx(contrast)
    assert lesion_change_scores(50 * mixed, _mask())[0, 1] == pytest.approx(contrast)


def test_an_image_without_lesion_has_zero_contrast():
    mask = (_mask() > 0).float()
    assert lesion_change_scores(torch.rand(1, 1, 8, 8), mask)[0, 1] == 0.0


def test_shape_mismatch_is_one_line():
    with pytest.raises(ConfigError, match="same shape") as err:
        lesion_change_scores(torch.zeros(1, 1, 8, 8), torch.zeros(1, 1, 4, 4))
    assert "\n" not in str(err.value)
    with pytest.raises(ConfigError, match="score must be one of"):
        LesionChangeMetric("dice")


def test_handler_scores_pred_minus_image_of_decollated_outputs():
    mask = _mask()[0]
    image = torch.rand(1, 8, 8)
    outputs = [
        {"image": image, "pred": image + 0.5 * (mask == 2), "label": image, "mask": mask},  # lesion only: 1
        {"image": image, "pred": image + 0.2, "label": image, "mask": mask},  # uniform: 0
    ]
    engine = Engine(lambda e, b: outputs)
    lesion_change_handler("lesion_contrast").attach(engine, "contrast")
    lesion_change_handler("lesion_contrast", changed_key="image").attach(engine, "identity")
    engine.run([0])
    assert engine.state.metrics["contrast"] == pytest.approx(0.5, abs=1e-6)
    assert engine.state.metrics["identity"] == 0.0
