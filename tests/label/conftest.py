"""Fixtures of the MONAI Label app tests: a radiograph and tiny pix2pix_cxr weights."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import torch

from monai_xrgan.bundle import REPO_BUNDLES
from monai_xrgan.io.xray import write_png
from monai_xrgan.label.conf import BundleToServe
from monai_xrgan.label.registry import SERVED_BUNDLES

#: pix2pix_cxr's configs made tiny
TINY_PIX2PIX = {"image_size": 32, "network_def#base_channels": 4}


@pytest.fixture(autouse=True)
def _private_tempdir(tmp_path, monkeypatch) -> None:
    """Results the tasks write to temporary files land in the test's folder, not in the system's."""
    folder = tmp_path / "tmp"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))


@pytest.fixture
def cxr_png(tmp_path) -> Path:
    """A non-square 8-bit radiograph of 24 rows and 40 columns (grey levels 13..230)."""
    image = np.linspace(0.1, 0.9, 24)[:, None] * np.linspace(0.5, 1.0, 40)[None]
    return write_png(tmp_path / "cxr.png", image, bits=8)


@pytest.fixture
def tiny_pix2pix() -> Callable[..., BundleToServe]:
    """``make(weights_root, train=True, **overrides)``: pix2pix_cxr's real configs, tiny, its weights (random when
    ``train``) in ``weights_root/models/model.pt``."""

    def make(weights_root: Path, train: bool = True, **overrides) -> BundleToServe:
        from monai_xrgan.label.tasks import load_inference_config  # needs monailabel

        overrides = {**TINY_PIX2PIX, "bundle_root": str(weights_root), **overrides}
        bundle = BundleToServe("pix2pix_cxr", REPO_BUNDLES / "pix2pix_cxr", SERVED_BUNDLES["pix2pix_cxr"], overrides)
        if train:
            network = load_inference_config(bundle.path, overrides).get_parsed_content("network_def")
            (weights_root / "models").mkdir(parents=True, exist_ok=True)
            torch.save(network.state_dict(), weights_root / "models" / "model.pt")
        return bundle

    return make
