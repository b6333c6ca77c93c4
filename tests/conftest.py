"""Shared pytest fixtures."""

from __future__ import annotations

import os

import pytest
import torch

# the suite runs on 2-core CI machines: one intra-op thread per test process keeps timings predictable
torch.set_num_threads(max(1, min(2, os.cpu_count() or 1)))


@pytest.fixture(autouse=True)
def _seed() -> None:
    torch.manual_seed(0)
