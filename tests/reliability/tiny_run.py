"""A tiny pix2pix training run with a scripted validation metric, run as a subprocess that tests can kill.

``python tiny_run.py ROOT MAX_EPOCHS`` trains into ``ROOT/ckpt`` and ``ROOT/models``; the metric of epoch ``e`` is
``METRICS[e - 1]`` (best at epoch 2). ``MONAI_XRGAN_FAULT=iteration:N`` kills it after iteration ``N``; the
checkpointer's own fault points (``checkpoint_write:E``, ``export_write:E``) kill it inside those writes.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

from ignite.engine import Events

from monai_xrgan.handlers import TrainingCheckpointer
from monai_xrgan.utils.files import fault_point

from helpers.pix2pix import tiny_trainer

METRICS = (0.22, 0.298, 0.25, 0.27)


class ScriptedValidator:
    """Stands in for an evaluator: the key metric of each epoch is scripted."""

    def __init__(self) -> None:
        self.state = type("S", (), {"epoch": 0, "metrics": {}, "key_metric_name": "val_ssim"})()

    def attach_to(self, trainer) -> None:
        @trainer.on(Events.EPOCH_COMPLETED)
        def _validate(engine):
            self.state.epoch = engine.state.epoch
            self.state.metrics = {"val_ssim": METRICS[engine.state.epoch - 1]}


def main(root: Path, max_epochs: int) -> None:
    trainer = tiny_trainer(max_epochs)
    validator = ScriptedValidator()
    validator.attach_to(trainer)
    export = {"model": "generator", "discriminator": "discriminator"}
    TrainingCheckpointer(root / "ckpt", root / "models", export, validator=validator).attach(trainer)
    trainer.add_event_handler(Events.ITERATION_COMPLETED, lambda e: fault_point(f"iteration:{e.state.iteration}"))
    trainer.add_event_handler(Events.EPOCH_COMPLETED, lambda e: print(f"finished epoch {e.state.epoch}", flush=True))
    trainer.run()


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s", stream=sys.stdout)
    main(Path(sys.argv[1]), int(sys.argv[2]))
