from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch
from ignite.engine import Engine, Events
from PIL import Image

from monai_xrgan.handlers import (
    ImageGridHandler,
    MetricsJSONWriter,
    StopOnNonFiniteLoss,
    TrainingDivergedError,
    loss_items,
)
from monai_xrgan.handlers.checkpoint import TrainingCheckpointer
from monai_xrgan.utils.errors import find_user_error

from helpers.pix2pix import tiny_trainer


def test_non_finite_loss_stops_with_message_and_keeps_last_checkpoint(tmp_path):
    trainer = tiny_trainer(3)

    @trainer.on(Events.ITERATION_COMPLETED)
    def _poison(engine):
        if engine.state.epoch == 2:
            engine.state.output["loss_g"] = torch.tensor(math.nan)

    StopOnNonFiniteLoss().attach(trainer)
    TrainingCheckpointer(tmp_path / "ckpt").attach(trainer)

    with pytest.raises(TrainingDivergedError, match=r"loss_g became nan at epoch 2, iteration 3"):
        trainer.run()
    assert sorted(p.name for p in (tmp_path / "ckpt").iterdir()) == ["checkpoint_epoch=1.pt"]


def test_user_error_is_found_under_monai_wrappers():
    try:
        try:
            raise TrainingDivergedError("bad")
        except Exception as e:
            raise RuntimeError("applying transform") from e
    except RuntimeError as wrapped:
        assert str(find_user_error(wrapped)) == "bad"
    assert find_user_error(RuntimeError("x")) is None


def test_loss_items_selects_losses_as_floats():
    assert loss_items({"loss_g": torch.tensor(1.5), "pred": torch.zeros(2), "loss_d": 2}) == {
        "loss_g": 1.5,
        "loss_d": 2.0,
    }
    assert loss_items([{"loss": torch.tensor(3.0)}]) == {"loss": 3.0}


def _evaluator_with(outputs, handler):
    engine = Engine(lambda e, b: outputs[e.state.iteration - 1])
    handler.attach(engine)
    engine.run(range(len(outputs)), max_epochs=1)
    return engine


def test_image_grid_png_is_upright_and_tiled(tmp_path):
    # MONAI axis order (C, x, y): a bright first *column* in MONAI is a bright first *row*... of the transposed view
    image = -torch.ones(1, 8, 6)
    image[:, :, 0] = 1.0  # y == 0 -> top row once shown as (rows, columns)
    samples = [{"image": image, "pred": image, "label": -image} for _ in range(3)]
    path = tmp_path / "grid.png"
    _evaluator_with(
        [samples[:2], samples[2:]], ImageGridHandler(keys=("image", "pred", "label"), num_samples=2, png_path=path)
    )
    grid = np.asarray(Image.open(path))
    assert grid.shape == (2 * 6 + 2, 3 * 8 + 2 * 2)
    assert grid[0, 0] == 255 and grid[1, 0] == 0  # top row bright, below dark
    assert grid[1, -1] == 255  # target column is the negative


def test_image_grid_missing_key_is_explained():
    with pytest.raises(KeyError, match="set `keys`"):
        _evaluator_with([[{"image": torch.zeros(1, 4, 4)}]], ImageGridHandler(keys=("image", "pred")))


def test_metrics_json_writer(tmp_path):
    engine = Engine(lambda e, b: None)
    engine.add_event_handler(Events.EPOCH_COMPLETED, lambda e: e.state.metrics.update({"test_ssim": torch.tensor(0.5)}))
    MetricsJSONWriter(tmp_path / "out" / "metrics.json", extra={"split": "test"}).attach(engine)
    engine.run([0, 1], max_epochs=1)
    record = json.loads((tmp_path / "out" / "metrics.json").read_text())
    assert record == {"split": "test", "metrics": {"test_ssim": 0.5}, "num_batches": 2}


def test_progress_bar_only_in_a_terminal(monkeypatch):
    from monai_xrgan.handlers import TerminalProgressBar, is_interactive

    monkeypatch.delenv("CI", raising=False)
    assert not is_interactive()  # pytest captures stderr
    quiet, shown = Engine(lambda e, b: {"loss_g": 1.0}), Engine(lambda e, b: {"loss_g": 1.0})
    TerminalProgressBar().attach(quiet)
    TerminalProgressBar(force=True).attach(shown)
    count = lambda engine: sum(len(engine._event_handlers[event]) for event in engine._event_handlers)  # noqa: E731
    assert count(quiet) == 0 and count(shown) > 0
