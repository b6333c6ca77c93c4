"""Checkpoints survive a kill at any moment (issue 18, cases 1, 3, 5): kills at deterministic points of a tiny run."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from ignite.engine import Events
from monai.networks.nets import PatchDiscriminator

from monai_xrgan.engines import LinearDecayLR, Pix2PixTrainer
from monai_xrgan.handlers import TrainingCheckpointer
from monai_xrgan.networks import Pix2PixUNet
from monai_xrgan.utils import files
from monai_xrgan.utils.errors import ConfigError, InputFileError
from monai_xrgan.utils.files import FAULT_ENV, OutputWriteError, atomic_torch_save

from helpers.pix2pix import tiny_pairs

HERE = Path(__file__).resolve().parent


def tiny_run(root: Path, max_epochs: int, fault: str | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(HERE.parent), "OMP_NUM_THREADS": "1"}
    env.pop(FAULT_ENV, None)
    if fault:
        env[FAULT_ENV] = fault
    return subprocess.run([sys.executable, str(HERE / "tiny_run.py"), str(root), str(max_epochs)], env=env,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=300)  # fmt: skip


def generator_of(checkpoint: Path) -> dict[str, torch.Tensor]:
    return torch.load(checkpoint, weights_only=True)["network_generator"]


def exported(root: Path) -> dict[str, torch.Tensor]:
    return torch.load(root / "models" / "model.pt", weights_only=True)


def assert_same(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> None:
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def names(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def test_kill_during_checkpoint_write_keeps_the_previous_one_and_the_best_model(tmp_path):
    killed = tiny_run(tmp_path, 3, fault="checkpoint_write:2")
    assert killed.returncode == -9, killed.stdout[-3000:]
    ckpt = tmp_path / "ckpt"
    assert "checkpoint_epoch=1.pt" in names(ckpt) and "checkpoint_epoch=2.pt" not in names(ckpt)
    assert any(n.endswith(".partial") for n in names(ckpt))  # the interrupted write
    # epoch 2 (best metric) is exported only after its checkpoint, so models/ matches the checkpoint kept
    assert_same(exported(tmp_path), generator_of(ckpt / "checkpoint_epoch=1.pt"))

    resumed = tiny_run(tmp_path, 3)
    assert resumed.returncode == 0, resumed.stdout[-3000:]
    assert "Resumed from" in resumed.stdout and "at epoch 1/3" in resumed.stdout
    assert "finished epoch 1\n" not in resumed.stdout and "finished epoch 2" in resumed.stdout
    assert names(ckpt) == ["checkpoint_epoch=2.pt", "checkpoint_epoch=3.pt"]  # no partial file left
    assert_same(exported(tmp_path), generator_of(ckpt / "checkpoint_epoch=2.pt"))


def test_kill_during_export_reexports_the_best_networks_on_resume(tmp_path):
    killed = tiny_run(tmp_path, 2, fault="export_write:2")
    assert killed.returncode == -9, killed.stdout[-3000:]
    ckpt = tmp_path / "ckpt"
    assert names(ckpt) == ["checkpoint_epoch=1.pt", "checkpoint_epoch=2.pt"]
    assert any(n.endswith(".partial") for n in names(tmp_path / "models"))
    resumed = tiny_run(tmp_path, 2)
    assert resumed.returncode == 0 and "at epoch 2/2" in resumed.stdout, resumed.stdout[-3000:]
    assert names(tmp_path / "models") == ["discriminator.pt", "model.pt"]  # the partial export was removed
    assert_same(exported(tmp_path), generator_of(ckpt / "checkpoint_epoch=2.pt"))


def test_kill_in_the_middle_of_an_epoch_resumes_from_the_newest_checkpoint(tmp_path):
    killed = tiny_run(tmp_path, 3, fault="iteration:5")  # first iteration of epoch 3 (2 per epoch)
    assert killed.returncode == -9
    resumed = tiny_run(tmp_path, 3)
    assert resumed.returncode == 0 and "at epoch 2/3" in resumed.stdout, resumed.stdout[-3000:]
    ckpt = tmp_path / "ckpt"
    assert_same(exported(tmp_path), generator_of(ckpt / "checkpoint_epoch=2.pt"))


def test_truncated_newest_checkpoint_falls_back_to_the_previous_one(tmp_path):
    assert tiny_run(tmp_path, 2).returncode == 0
    newest = tmp_path / "ckpt" / "checkpoint_epoch=2.pt"
    newest.write_bytes(newest.read_bytes()[:1000])
    resumed = tiny_run(tmp_path, 3)
    assert resumed.returncode == 0, resumed.stdout[-3000:]
    assert f"Checkpoint {newest} cannot be resumed" in resumed.stdout and "at epoch 1/3" in resumed.stdout
    assert (tmp_path / "ckpt" / "checkpoint_epoch=2.pt.corrupt").is_file()


def tiny_scheduled_trainer(max_epochs: int, lr: float = 2e-4) -> Pix2PixTrainer:
    """The tiny pix2pix trainer with the bundles' linear-decay schedule (half constant, half decay)."""
    generator = Pix2PixUNet(1, 1, num_downs=5, base_channels=4)
    discriminator = PatchDiscriminator(spatial_dims=2, num_layers_d=2, channels=4, in_channels=2, out_channels=1)
    g_opt, d_opt = (torch.optim.Adam(n.parameters(), lr, betas=(0.5, 0.999)) for n in (generator, discriminator))
    g_lr, d_lr = (LinearDecayLR(o, max_epochs // 2, max_epochs - max_epochs // 2) for o in (g_opt, d_opt))
    loader = torch.utils.data.DataLoader(tiny_pairs(), batch_size=2)
    return Pix2PixTrainer(
        device="cpu", max_epochs=max_epochs, train_data_loader=loader, generator=generator, discriminator=discriminator,
        g_optimizer=g_opt, d_optimizer=d_opt, g_lr_scheduler=g_lr, d_lr_scheduler=d_lr,
    )  # fmt: skip


def train(tmp_path: Path, max_epochs: int, lr: float = 2e-4, **kwargs) -> Pix2PixTrainer:
    trainer = tiny_scheduled_trainer(max_epochs, lr)
    TrainingCheckpointer(tmp_path / "ckpt", tmp_path / "models", **kwargs).attach(trainer)
    trainer.run()
    return trainer


def test_extending_a_finished_run_follows_the_new_schedule(tmp_path):
    finished = train(tmp_path, 2)
    assert finished.optimizers["generator"].param_groups[0]["lr"] == 0.0  # the 2-epoch schedule ended at 0
    before = {k: v.clone() for k, v in finished.raw_networks["generator"].state_dict().items()}
    extended = train(tmp_path, 4)  # schedule of 4 epochs, continued at epoch 2: 2e-4 * (1 - 1/3), then 2e-4 * 1/3
    assert extended.state.epoch == 4
    assert extended.optimizers["generator"].param_groups[0]["lr"] == pytest.approx(0.0)
    assert extended.lr_schedulers["generator"].decay_epochs == 2
    after = extended.raw_networks["generator"].state_dict()
    assert max((after[k] - before[k]).abs().max().item() for k in before if before[k].is_floating_point()) > 0


def test_learning_rate_given_on_resume_is_applied(tmp_path):
    train(tmp_path, 2)
    resumed = tiny_scheduled_trainer(4, lr=1e-3)
    TrainingCheckpointer(tmp_path / "ckpt", tmp_path / "models").attach(resumed)
    seen = []
    resumed.add_event_handler(Events.ITERATION_STARTED,
                              lambda e: seen.append(e.optimizers["generator"].param_groups[0]["lr"]))  # fmt: skip
    resumed.run()
    assert seen[0] == pytest.approx(1e-3 * 2 / 3) and seen[-1] == pytest.approx(1e-3 / 3)


def test_no_intact_checkpoint_is_one_line_naming_the_fix(tmp_path):
    train(tmp_path, 1)
    (tmp_path / "ckpt" / "checkpoint_epoch=1.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(InputFileError, match=r"no intact checkpoint.*checkpoint_epoch=1\.pt.*--resume False"):
        train(tmp_path, 2)


def test_checkpoint_beyond_max_epochs_is_refused_in_one_line(tmp_path):
    train(tmp_path, 2)
    with pytest.raises(ConfigError, match=r"at epoch 2, beyond max_epochs 1; give --max_epochs above 2"):
        train(tmp_path, 1)


def test_pretrained_beside_existing_checkpoints_is_refused(tmp_path):
    train(tmp_path, 1)
    with pytest.raises(ConfigError, match=r"pretrained_ckpt .*model\.pt.*checkpoint_epoch=1\.pt.*--resume False"):
        train(tmp_path, 2, pretrained=tmp_path / "models" / "model.pt")


def test_pretrained_without_resume_fine_tunes_and_deletes_old_checkpoints(tmp_path):
    first = train(tmp_path, 2)
    atomic_torch_save(first.raw_networks["generator"].state_dict(), tmp_path / "start.pt")
    tuned = train(tmp_path, 1, resume=False, pretrained=tmp_path / "start.pt")
    assert tuned.state.epoch == 1
    assert names(tmp_path / "ckpt") == ["checkpoint_epoch=1.pt"]  # epoch 2 of the old run would be resumed later


def test_full_training_checkpoint_is_accepted_as_pretrained(tmp_path):
    first = train(tmp_path / "a", 1)
    loaded = {}
    trainer = tiny_scheduled_trainer(1)
    TrainingCheckpointer(tmp_path / "b" / "ckpt", tmp_path / "b" / "models",
                         pretrained=tmp_path / "a" / "ckpt" / "checkpoint_epoch=1.pt").attach(trainer)  # fmt: skip
    trainer.add_event_handler(Events.ITERATION_STARTED, lambda e: loaded.setdefault("g", {
        k: v.clone() for k, v in e.raw_networks["generator"].state_dict().items()}))  # fmt: skip
    trainer.run()
    assert_same(loaded["g"], first.raw_networks["generator"].state_dict())


def test_disk_full_during_a_write_keeps_the_old_file(tmp_path, monkeypatch):
    target = tmp_path / "model.pt"
    atomic_torch_save({"w": torch.ones(1)}, target)

    def full(obj, f):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(torch, "save", full)
    with pytest.raises(OutputWriteError, match=r"model\.pt: cannot be written .*No space left on device.*free disk"):
        atomic_torch_save({"w": torch.zeros(1)}, target)
    monkeypatch.undo()
    assert names(tmp_path) == ["model.pt"] and torch.load(target, weights_only=True)["w"].item() == 1.0


@pytest.mark.parametrize("case", ["file", "read_only"])
def test_unusable_output_folder_is_one_line(tmp_path, case, monkeypatch):
    path = tmp_path / "out"
    if case == "file":
        path.write_text("x")
    else:  # the permission check as a non-root user sees it (root may write anywhere)
        monkeypatch.setattr(files.os, "access", lambda *args: False)
    with pytest.raises(OutputWriteError, match=f"{path}: (is a file|.*not writable).*ckpt_dir|ckpt_dir.*not writable"):
        TrainingCheckpointer(path)
