"""Check the ``--key value`` overrides of ``python -m monai.bundle run`` before anything runs: keys the configs do not
define are refused with the closest valid key, and common values are checked, each in one line."""

from __future__ import annotations

import ast
import difflib
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import torch
from monai.bundle import ConfigParser

from monai_xrgan.utils.errors import ConfigError

__all__ = ["RUN_ARGUMENTS", "command_line_overrides", "check_overrides"]

#: arguments of ``monai.bundle run`` itself, not config overrides
RUN_ARGUMENTS = frozenset(
    {"config_file", "meta_file", "logging_file", "args_file", "run_id", "init_id", "final_id", "tracking"}
)
_POSITIVE_INTS = ("max_epochs", "batch_size", "image_size", "epoch_length", "val_interval", "num_samples")
_NON_NEGATIVE_INTS = ("num_workers",)
_POSITIVE_FLOATS = ("learning_rate", "lr")


def command_line_overrides(argv: Sequence[str]) -> dict[str, Any]:
    """``{key: value}`` of the ``--key value`` / ``--key=value`` arguments after ``run`` (values as Python literals
    where they parse, as Fire reads them, else strings)."""
    args = list(argv[list(argv).index("run") + 1 :]) if "run" in argv else list(argv)
    pairs: dict[str, Any] = {}
    i = 0
    while i < len(args):
        token = args[i]
        i += 1
        if not token.startswith("--"):
            continue
        key, eq, value = token[2:].partition("=")
        if not eq:  # ``--key value``, or a bare ``--flag`` (True for Fire)
            has_value = i < len(args) and not args[i].startswith("--")
            value, i = (args[i], i + 1) if has_value else ("True", i)
        pairs[key.replace(".", "#")] = _literal(value)
    return pairs


def _literal(text: str) -> Any:
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text


def check_overrides(config_files: Sequence[str] | str, overrides: Mapping[str, Any]) -> None:
    """Refuse override keys that no config of the bundle defines, and bad common values, in one line each.

    A key is known when one of the bundle's configs (every ``*.json`` beside ``config_files``) defines it, since
    ``python -m monai_xrgan.bundle demo`` passes the same overrides to train, inference and evaluate; a new argument of
    a component (a dict with ``_target_``, e.g. ``--network_def#norm_num_groups 4``) is accepted, so a misspelt
    argument of a component is left to the component to refuse.

    Args:
        config_files: the config file(s) of the run.
        overrides: ``{id: value}`` given on the command line (:func:`command_line_overrides`).

    Raises:
        ConfigError: naming the key, and the closest valid key ("did you mean --max_epochs?") or the valid range.
    """
    files = [Path(config_files)] if isinstance(config_files, str) else [Path(f) for f in config_files]
    known: dict[str, Any] = {}
    for file in sorted({f for folder in {f.parent for f in files} for f in folder.glob("*.json")} | set(files)):
        known.update(_flat(ConfigParser.load_config_file(str(file))))
    for key, value in overrides.items():
        if key in RUN_ARGUMENTS or key.startswith("_meta_"):
            continue
        parent = key.rpartition("#")[0]
        component = known.get(parent)
        if key not in known and not (isinstance(component, Mapping) and "_target_" in component):
            siblings = [i for i in known if i.rpartition("#")[0] == parent]
            close = difflib.get_close_matches(key, siblings or list(known), n=1, cutoff=0.6)
            hint = f"did you mean --{close[0]}?" if close else "see the bundle's configs for the keys they define."
            raise ConfigError(
                f"--{key}: no config of {files[0].parent} defines `{key}`, so it would be ignored; {hint}"
            )
        _check_value(key.rpartition("#")[2], value)


def _flat(config: Any, prefix: str = "") -> dict[str, Any]:
    """``{id: value}`` for every id of a config (``a``, ``a#b``, ``a#0#c`` ...), as ``ConfigParser`` addresses them."""
    items = config.items() if isinstance(config, Mapping) else enumerate(config) if isinstance(config, list) else ()
    flat: dict[str, Any] = {}
    for key, value in items:
        flat[f"{prefix}{key}"] = value
        flat.update(_flat(value, f"{prefix}{key}#"))
    return flat


def _check_value(name: str, value: Any) -> None:
    if isinstance(value, str) and value.startswith(("$", "@", "%")):
        return  # an expression or reference: checked where it is used
    if name in _POSITIVE_INTS or name.endswith("_size") and not isinstance(value, (list, tuple)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ConfigError(f"--{name} {value!r}: must be a positive whole number.")
    elif name in _NON_NEGATIVE_INTS:
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ConfigError(f"--{name} {value!r}: must be 0 (load in the main process) or a positive whole number.")
    elif name in _POSITIVE_FLOATS:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not (math.isfinite(value) and value > 0):
            raise ConfigError(f"--{name} {value!r}: must be a positive number, e.g. 0.0002.")
    elif name == "device":
        _check_device(value)


def _check_device(value: Any) -> None:
    try:
        device = torch.device(value)
    except (RuntimeError, TypeError) as e:
        raise ConfigError(f"--device {value!r}: not a device ({e}); use cpu, cuda or cuda:N.") from e
    if device.type == "cuda":
        count = torch.cuda.device_count()
        if count == 0:
            raise ConfigError(f"--device {value}: CUDA is not available on this machine; use --device cpu.")
        if device.index is not None and device.index >= count:
            raise ConfigError(f"--device {value}: this machine has {count} CUDA device(s) (cuda:0..cuda:{count - 1}).")
