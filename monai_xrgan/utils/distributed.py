"""Process and module helpers for distributed and compiled training: which process writes, and the plain module
under its wrappers."""

from __future__ import annotations

import torch.distributed as dist
from torch import nn
from torch.nn.parallel import DistributedDataParallel

__all__ = ["is_main_process", "unwrap"]


def is_main_process() -> bool:
    """Whether this process logs and writes files (rank 0, or the only process)."""
    return not (dist.is_available() and dist.is_initialized()) or dist.get_rank() == 0


def unwrap(module: nn.Module) -> nn.Module:
    """The plain module under ``DistributedDataParallel`` and ``torch.compile`` wrappers."""
    while True:
        if isinstance(module, DistributedDataParallel):
            module = module.module
        elif hasattr(module, "_orig_mod"):
            module = module._orig_mod
        else:
            return module
