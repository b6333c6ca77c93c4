from __future__ import annotations

import pytest
import torch
from ignite.engine import Events

from monai_xrgan.handlers import NetworkWeightsLoader, TrainingCheckpointer, latest_checkpoint, load_network_weights
from monai_xrgan.networks import Pix2PixUNet
from monai_xrgan.utils.errors import ConfigError, InputFileError, MissingInputError

from helpers.pix2pix import tiny_trainer


class FakeValidator:
    """Stands in for an evaluator: a scripted key metric per epoch."""

    def __init__(self, values):
        self.values = values
        self.state = type("S", (), {"epoch": 0, "metrics": {}, "key_metric_name": "val_ssim"})()

    def attach_to(self, trainer):
        @trainer.on(Events.EPOCH_COMPLETED)
        def _validate(engine):
            self.state.epoch = engine.state.epoch
            self.state.metrics = {"val_ssim": self.values[engine.state.epoch - 1]}


def run(tmp_path, max_epochs, values=(0.1, 0.3, 0.2), **kwargs):
    trainer = tiny_trainer(max_epochs)
    validator = FakeValidator(values)
    validator.attach_to(trainer)
    ckpt = TrainingCheckpointer(
        tmp_path / "ckpt",
        tmp_path / "models",
        {"model": "generator", "discriminator": "discriminator"},
        validator=validator,
        **kwargs,
    )
    ckpt.attach(trainer)
    trainer.run()
    return trainer, ckpt


def test_saves_atomically_keeps_newest_and_exports_best(tmp_path):
    trainer, ckpt = run(tmp_path, 3, n_saved=2)
    assert sorted(p.name for p in (tmp_path / "ckpt").iterdir()) == ["checkpoint_epoch=2.pt", "checkpoint_epoch=3.pt"]
    assert latest_checkpoint(tmp_path / "ckpt").name == "checkpoint_epoch=3.pt"
    assert (ckpt.best_value, ckpt.best_epoch) == (0.3, 2)
    exported = torch.load(tmp_path / "models" / "model.pt", weights_only=True)
    assert set(exported) == set(trainer.raw_networks["generator"].state_dict())
    assert (tmp_path / "models" / "discriminator.pt").is_file()
    assert not [p for p in tmp_path.rglob("*") if p.name.startswith("tmp")]  # no temporary files left


def test_select_last_exports_the_final_networks_not_the_best_epoch(tmp_path):
    trainer, ckpt = run(tmp_path, 3, values=(0.1, 0.3, 0.2), select="last")  # epoch 2 has the best metric
    assert ckpt.best_epoch is None
    exported = torch.load(tmp_path / "models" / "model.pt", weights_only=True)
    final = trainer.raw_networks["generator"].state_dict()
    assert set(exported) == set(final)
    for name, value in final.items():
        torch.testing.assert_close(exported[name], value)
    best = run(tmp_path / "best", 3, values=(0.1, 0.3, 0.2))[0]  # same seed and data: epoch 2's weights differ
    best_export = torch.load(tmp_path / "best" / "models" / "model.pt", weights_only=True)
    assert any(not torch.equal(best_export[k], best.raw_networks["generator"].state_dict()[k]) for k in best_export)


def test_unknown_model_selection_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="'best' or 'last'"):
        TrainingCheckpointer(tmp_path / "ckpt", tmp_path / "models", select="final")


def test_resume_continues_from_last_epoch_with_all_state(tmp_path):
    first, _ = run(tmp_path, 1)
    saved_gen = {k: v.clone() for k, v in first.raw_networks["generator"].state_dict().items()}
    saved_opt_steps = first.optimizers["generator"].state_dict()["state"][0]["step"]

    trainer = tiny_trainer(2)
    FakeValidator((0.1, 0.05)).attach_to(trainer)
    ckpt = TrainingCheckpointer(tmp_path / "ckpt", tmp_path / "models", validator=None)
    ckpt.attach(trainer)
    epochs_run = []
    trainer.add_event_handler(Events.EPOCH_STARTED, lambda e: epochs_run.append(e.state.epoch))

    @trainer.on(Events.ITERATION_STARTED(once=3))  # first iteration after resuming (2 iterations per epoch)
    def _check_restored(engine):
        for k, v in engine.raw_networks["generator"].state_dict().items():
            torch.testing.assert_close(v, saved_gen[k])
        assert engine.optimizers["generator"].state_dict()["state"][0]["step"] == saved_opt_steps

    trainer.run()
    assert epochs_run == [2]  # epoch 1 is not repeated
    assert trainer.state.epoch == 2 and trainer.state.iteration == 4


def test_resume_keeps_best_record(tmp_path):
    run(tmp_path, 2, values=(0.5, 0.4))
    model_time = (tmp_path / "models" / "model.pt").stat().st_mtime_ns
    _, ckpt = run(tmp_path, 3, values=(0.5, 0.4, 0.45))  # epoch 3 is worse than the resumed best (0.5)
    assert ckpt.best_value == 0.5 and ckpt.best_epoch == 1
    assert (tmp_path / "models" / "model.pt").stat().st_mtime_ns == model_time


def test_pretrained_weights_load_before_training(tmp_path):
    trainer, _ = run(tmp_path, 1)
    fresh = tiny_trainer(1)
    ckpt = TrainingCheckpointer(
        tmp_path / "new_ckpt",
        tmp_path / "new_models",
        {"model": "generator", "discriminator": "discriminator"},
        pretrained=tmp_path / "models" / "model.pt",
    )
    ckpt.attach(fresh)
    loaded = {}

    @fresh.on(Events.ITERATION_STARTED(once=1))
    def _grab(engine):
        loaded.update({k: v.clone() for k, v in engine.raw_networks["discriminator"].state_dict().items()})

    fresh.run()
    exported = torch.load(tmp_path / "models" / "discriminator.pt", weights_only=True)
    for k, v in exported.items():
        torch.testing.assert_close(loaded[k], v)


def test_wrong_architecture_checkpoint_names_the_keys(tmp_path):
    path = tmp_path / "other.pt"
    torch.save(Pix2PixUNet(1, 1, num_downs=6, base_channels=8).state_dict(), path)
    with pytest.raises(ConfigError, match=r"missing keys \['decoders\.5") as err:
        load_network_weights(Pix2PixUNet(1, 1, num_downs=7, base_channels=8), path, "generator")
    assert "other.pt" in str(err.value)
    with pytest.raises(ConfigError, match="shape mismatch"):
        load_network_weights(Pix2PixUNet(1, 1, num_downs=6, base_channels=4), path, "generator")
    with pytest.raises(MissingInputError, match="pretrained_ckpt"):
        load_network_weights(Pix2PixUNet(1, 1, num_downs=6), tmp_path / "missing.pt")


@pytest.mark.parametrize("case", ["truncated", "wrong_size", "missing"])
def test_inference_weights_loader_fails_in_one_line_naming_the_file(tmp_path, case):
    # the handler that replaces MONAI's CheckpointLoader in the inference/evaluation configs (issue 18, case 5, 8)
    path = tmp_path / "models" / "model.pt"
    path.parent.mkdir()
    torch.save(Pix2PixUNet(1, 1, num_downs=6, base_channels=8).state_dict(), path)
    if case == "truncated":
        path.write_bytes(path.read_bytes()[:1000])
    elif case == "missing":
        path.unlink()
    network = Pix2PixUNet(1, 1, num_downs=6, base_channels=4 if case == "wrong_size" else 8)
    engine = tiny_trainer()
    NetworkWeightsLoader(path, {"model": network}).attach(engine)
    error, words = {"truncated": (InputFileError, "truncated or corrupt"),
                    "wrong_size": (ConfigError, "shape mismatch"),
                    "missing": (MissingInputError, "set `ckpt_path`")}[case]  # fmt: skip
    with pytest.raises(error, match=words) as err:
        engine.fire_event(Events.STARTED)
    assert str(path) in str(err.value) and "\n" not in str(err.value)


def test_inference_weights_loader_loads_an_export(tmp_path):
    path = tmp_path / "model.pt"
    source = Pix2PixUNet(1, 1, num_downs=6, base_channels=4)
    torch.save(source.state_dict(), path)
    target = Pix2PixUNet(1, 1, num_downs=6, base_channels=4)
    engine = tiny_trainer()
    NetworkWeightsLoader(path, {"model": target}).attach(engine)
    engine.fire_event(Events.STARTED)
    for k, v in source.state_dict().items():
        torch.testing.assert_close(target.state_dict()[k], v)


def test_unknown_export_network_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="unknown networks"):
        TrainingCheckpointer(tmp_path, export={"model": "gen"}).attach(tiny_trainer())
