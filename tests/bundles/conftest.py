"""Fixtures of the end-to-end bundle tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from monai_xrgan.demo.datasets import make_demo_dataset


@pytest.fixture(scope="session")
def pix2pix_demo(tmp_path_factory) -> Path:
    """A tiny pix2pix demo dataset (64 px) shared by the end-to-end tests."""
    root = tmp_path_factory.mktemp("pix2pix_demo")
    make_demo_dataset(
        "pix2pix",
        root,
        size=64,
        num_train=4,
        num_val=2,
        num_test=2,
        num_normal=4,
        num_viral=4,
        num_covid=2,
        num_test_per_class=2,
    )
    return root
