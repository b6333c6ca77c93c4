"""``python -m monai_xrgan.bundle export``: every bundle's served network, all its inputs, checked against eager."""

from __future__ import annotations

import shutil

import pytest
import torch
from monai.bundle import ConfigParser

from monai_xrgan.bundle.__main__ import main
from monai_xrgan.bundle.export import example_inputs, export_bundle
from monai_xrgan.utils.errors import ConfigError, MissingInputError

from helpers.bundles import BUNDLES

NAMES = sorted(p.name for p in BUNDLES.iterdir() if (p / "configs" / "metadata.json").is_file())


def _bundle_with_weights(name: str, tmp_path) -> tuple:
    """A copy of the bundle's configs with random weights of its ``network_def`` as ``models/model.pt``."""
    bundle = tmp_path / name
    shutil.copytree(BUNDLES / name / "configs", bundle / "configs")
    parser = ConfigParser()
    parser.read_config(str(bundle / "configs" / "inference.json"))
    network = parser.get_parsed_content("network_def").eval()
    (bundle / "models").mkdir()
    torch.save(network.state_dict(), bundle / "models" / "model.pt")
    return bundle, network


@pytest.mark.parametrize("name", NAMES)
def test_torchscript_export_matches_eager_for_every_bundle(name, tmp_path):
    bundle, network = _bundle_with_weights(name, tmp_path)
    assert main(["export", str(bundle), "--format", "torchscript", "--filepath", str(tmp_path / "net.ts")]) == 0
    exported = torch.jit.load(str(tmp_path / "net.ts"))
    metadata = ConfigParser.load_config_file(str(bundle / "configs" / "metadata.json"))
    inputs = example_inputs(
        metadata, ConfigParser.load_config_file(str(bundle / "configs" / "inference.json")).get("image_size")
    )
    with torch.no_grad():
        eager, traced = network(*inputs), exported(*inputs)
    eager = eager[0] if isinstance(eager, (tuple, list)) else eager
    traced = traced[0] if isinstance(traced, (tuple, list)) else traced
    torch.testing.assert_close(traced, eager, rtol=1e-4, atol=1e-4)


def test_diffusion_export_feeds_both_inputs_and_onnx_matches(tmp_path):
    pytest.importorskip("onnxruntime")
    bundle, network = _bundle_with_weights("diffusionxray_drr", tmp_path)
    lines = []
    export_bundle(bundle, "onnx", tmp_path / "net.onnx", log=lines.append)
    assert "(1, 2, 32, 32), (1,)" in lines[0]  # the noisy image + condition and the timesteps


def test_export_refuses_a_missing_checkpoint_and_format(tmp_path):
    bundle, _ = _bundle_with_weights("pix2pix_cxr", tmp_path)
    with pytest.raises(MissingInputError, match="--ckpt_file"):
        export_bundle(bundle, "torchscript", tmp_path / "x.ts", ckpt_file=tmp_path / "none.pt")
    with pytest.raises(ConfigError, match="--format"):
        export_bundle(bundle, "tflite", tmp_path / "x.tfl")
