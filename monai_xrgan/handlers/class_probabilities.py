"""Per-image class probabilities of an evaluator, written as a CSV file with the input file names."""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path

from ignite.engine import Engine, Events
from monai.data import decollate_batch
from monai.utils import ImageMetaKey

__all__ = ["ClassProbabilityCSVWriter"]


class ClassProbabilityCSVWriter:
    """Write one CSV row per image: its input file name, then its probability of each class.

    The header is ``image`` and ``class_names``; fields are quoted by :mod:`csv`, so a file name with a comma or a
    quote stays one field (MONAI's ``ClassificationSaver`` writes them unquoted). The file is written when the run
    completes. For single-process runs.

    Args:
        path: the CSV file.
        class_names: names of the classes, in the order of the probabilities.
        image_key: batch key of the input image, whose metadata holds its file name.
        probs_key: output key of the class probabilities.
    """

    def __init__(
        self, path: str | Path, class_names: Sequence[str], image_key: str = "image", probs_key: str = "probs"
    ) -> None:
        self.path, self.class_names = Path(path), [str(c) for c in class_names]
        self.image_key, self.probs_key = image_key, probs_key
        self.rows: list[list[str]] = []

    def attach(self, engine: Engine) -> None:
        engine.add_event_handler(Events.STARTED, lambda _: self.rows.clear())
        engine.add_event_handler(Events.ITERATION_COMPLETED, self.collect)
        engine.add_event_handler(Events.COMPLETED, self.write)

    def collect(self, engine: Engine) -> None:
        """Add the rows of the current batch (decollated by the evaluator, or decollated here)."""
        batch, output = engine.state.batch, engine.state.output
        items = batch if isinstance(batch, list) else decollate_batch(batch)
        outputs = output if isinstance(output, list) else decollate_batch(output)
        for item, out in zip(items, outputs):
            name = item[self.image_key].meta.get(ImageMetaKey.FILENAME_OR_OBJ, "")
            self.rows.append([str(name), *(f"{float(p):.6f}" for p in out[self.probs_key].reshape(-1))])

    def write(self, engine: Engine | None = None) -> None:
        """Write the header and the collected rows to :attr:`path`."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path, "w", newline="", encoding="utf-8") as f:
            writer = csv.writer(f)
            writer.writerow(["image", *self.class_names])
            writer.writerows(self.rows)
