"""Write an evaluator's metrics to a JSON file."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch
from ignite.engine import Engine, Events

__all__ = ["MetricsJSONWriter", "write_json_atomic"]


def write_json_atomic(path: str | os.PathLike, data: Mapping[str, Any]) -> Path:
    """Write ``data`` as indented JSON through a temporary file renamed into place."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    os.replace(tmp, path)
    return path


def _plain(value: Any) -> Any:
    if isinstance(value, torch.Tensor):
        return value.item() if value.numel() == 1 else value.tolist()
    return value


class MetricsJSONWriter:
    """At the end of an evaluator run, write ``engine.state.metrics`` (plus ``extra`` fields) to ``path``.

    Args:
        path: output JSON file.
        extra: constant fields to add, e.g. the checkpoint evaluated or the data split.
    """

    def __init__(self, path: str | os.PathLike, extra: Mapping[str, Any] | None = None) -> None:
        self.path = path
        self.extra = dict(extra or {})

    def attach(self, engine: Engine) -> None:
        engine.add_event_handler(Events.COMPLETED, self)

    def __call__(self, engine: Engine) -> None:
        metrics = {name: _plain(value) for name, value in engine.state.metrics.items()}
        record = {**self.extra, "metrics": metrics, "num_batches": engine.state.iteration}
        write_json_atomic(self.path, record)
        engine.logger.info(f"Wrote metrics to {self.path}: {metrics}")
