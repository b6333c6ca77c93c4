"""Loading saved weights into a network, with one-line errors for a missing, unreadable or misfitting file."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

import torch
from torch import nn

from monai_xrgan.utils.errors import ConfigError, InputFileError, MissingInputError, one_line

__all__ = ["load_network_weights"]


def load_network_weights(
    network: nn.Module, path: str | os.PathLike, name: str = "network", key: str = "pretrained_ckpt"
) -> None:
    """Load a state dict file into ``network`` (``weights_only``), naming mismatched keys when it does not fit.

    ``key`` is the config key that gave ``path``; the error for a missing file names it.
    """
    path = Path(path)
    if not path.is_file():
        raise MissingInputError(f"{path}: checkpoint not found; set `{key}` to an existing models/model.pt.")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:
        raise InputFileError(
            f"{path}: not a readable PyTorch checkpoint, truncated or corrupt ({one_line(e, 120)}); "
            "give another file or re-export it."
        ) from e
    if isinstance(state, Mapping):  # a bundle export {name: weights}, or a full training checkpoint of this package
        for entry in (name, f"network_{name}"):
            if isinstance(state.get(entry), Mapping):
                state = state[entry]
                break
    own = network.state_dict()
    missing = sorted(set(own) - set(state))
    unexpected = sorted(set(state) - set(own))
    shapes = sorted(k for k in set(own) & set(state) if tuple(own[k].shape) != tuple(state[k].shape))
    if missing or unexpected or shapes:
        parts = [
            f"{label} {keys[:5]}{' ...' if len(keys) > 5 else ''}"
            for label, keys in (
                ("missing keys", missing),
                ("unexpected keys", unexpected),
                ("shape mismatch at", shapes),
            )
            if keys
        ]
        raise ConfigError(
            f"{path}: does not fit network '{name}' ({'; '.join(parts)}); "
            "the checkpoint was made for another architecture, check the network settings of the config."
        )
    network.load_state_dict(state)
