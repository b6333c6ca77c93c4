"""The three infer task kinds of the MONAI Label app, run directly (no server) on tiny bundles.

Kind ``image`` runs the real ``bundles/pix2pix_cxr`` configs with a tiny random network; ``image_class`` and
``translation`` run fake bundles written here (the R2C-GAN and MI-GAN bundles come later), the latter on a CT volume.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import nibabel as nib
import numpy as np
import pydicom
import pytest
import torch
from PIL import Image
from torch import nn

from monai_xrgan.io.xray import write_dicom
from monai_xrgan.label.conf import BundleToServe
from monai_xrgan.label.registry import KINDS, ServedBundle
from monai_xrgan.utils.errors import ConfigError, MissingInputError

if importlib.util.find_spec("monailabel") is None:
    pytest.skip(
        "monailabel is not installed (pip install -e '.[label]' && pip install --no-deps monailabel==0.8.5 "
        "pydicom-seg==0.4.1)",
        allow_module_level=True,
    )

from monai_xrgan.label.tasks import (  # noqa: E402
    TASK_KINDS,
    BundleImageClassTask,
    BundleImageTask,
    BundleTranslationTask,
    create_task,
)

HU_WINDOW = (-1350.0, 150.0)


class TinyRestorer(nn.Module):
    """image -> image, or (image, class scores) with ``return_probs`` (as R2C-GAN's generators)."""

    def __init__(self, num_classes: int = 2, logits: bool = False) -> None:
        super().__init__()
        self.conv = nn.Conv2d(1, 1, 3, padding=1)
        self.head = nn.Linear(1, num_classes)
        self.logits = logits

    def forward(self, x: torch.Tensor, return_probs: bool = False):
        image = torch.tanh(self.conv(x))
        if not return_probs:
            return image
        scores = self.head(x.mean(dim=(2, 3)))
        return image, scores if self.logits else scores.softmax(1)


class TinyTranslator(nn.Module):
    """(image, one-hot target domain) -> image, with the condition as constant maps (as StarGAN's generator)."""

    def __init__(self, num_domains: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(1 + num_domains, 1, 1)

    def forward(self, x: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
        maps = c[:, :, None, None].expand(-1, -1, *x.shape[2:])
        return torch.tanh(self.conv(torch.cat([x, maps], dim=1)))


def _fake_bundle(root: Path, inference: dict, spatial_shape: list) -> Path:
    (root / "configs").mkdir(parents=True)
    metadata = {
        "version": "0.0.1",
        "task": f"fake bundle {root.name}",
        "network_data_format": {"inputs": {"image": {"spatial_shape": spatial_shape}}, "outputs": {"pred": {}}},
    }
    (root / "configs" / "metadata.json").write_text(json.dumps(metadata))
    (root / "configs" / "inference.json").write_text(json.dumps({"bundle_root": ".", **inference}))
    return root


def _save_weights(network: nn.Module, bundle_root: Path) -> None:
    (bundle_root / "models").mkdir(parents=True, exist_ok=True)
    torch.save(network.state_dict(), bundle_root / "models" / "model.pt")


def test_image_task_png_keeps_geometry_format_and_range(tmp_path, cxr_png, tiny_pix2pix):
    bundle = tiny_pix2pix(tmp_path / "run")
    task = create_task(bundle)
    assert type(task) is BundleImageTask and task.is_valid()
    info = task.info()
    assert info["kind"] == "image" and info["type"] == "others" and info["dimension"] == 2
    metadata = json.loads((bundle.path / "configs" / "metadata.json").read_text())
    assert info["labels"] == [] and info["version"] == metadata["version"]
    path, result = task({"image": str(cxr_png)})
    assert path.endswith(".png") and "cxr_covid_synthetic" in Path(path).name and Path(path).parent != cxr_png.parent
    out, inp = np.asarray(Image.open(path)), np.asarray(Image.open(cxr_png))
    assert out.shape == inp.shape == (24, 40) and out.dtype == np.uint8
    assert inp.min() <= out.min() < out.max() <= inp.max()
    assert result["label_names"] == [] and set(result["latencies"]) >= {"pre", "infer", "post", "write", "total"}


def test_image_task_dicom_gives_a_derived_dicom(tmp_path, cxr_png, tiny_pix2pix):
    task = create_task(tiny_pix2pix(tmp_path / "run"))
    source = write_dicom(tmp_path / "cxr.dcm", np.asarray(Image.open(cxr_png)) / 255.0, modality="DX")
    path, _ = task({"image": str(source)})
    derived, original = pydicom.dcmread(path), pydicom.dcmread(source)
    assert path.endswith(".dcm") and (derived.Rows, derived.Columns) == (original.Rows, original.Columns)
    assert derived.Modality == "DX" and derived.PatientID == original.PatientID
    assert "pix2pix" in derived.DerivationDescription and derived.SOPInstanceUID != original.SOPInstanceUID


def test_untrained_bundle_is_not_valid_and_says_how_to_train(tmp_path, cxr_png, tiny_pix2pix):
    task = create_task(tiny_pix2pix(tmp_path / "empty", train=False))
    assert not task.is_valid()
    with pytest.raises(MissingInputError, match=r"has no weights at .*models/model.pt: train the bundle first"):
        task({"image": str(cxr_png)})


def test_weights_that_do_not_fit_network_def_name_the_override(tmp_path, cxr_png, tiny_pix2pix):
    tiny_pix2pix(tmp_path / "run")  # weights of base_channels 4
    task = create_task(tiny_pix2pix(tmp_path / "run", train=False, **{"network_def#base_channels": 8}))
    with pytest.raises(ConfigError, match=r"these weights do not fit network_def .* --conf pix2pix_cxr#image_size"):
        task({"image": str(cxr_png)})


def _restorer_bundle(root: Path, logits: bool) -> Path:
    inference = {
        "network_def": {"_target_": f"{__name__}.TinyRestorer", "num_classes": 2, "logits": logits},
        "preprocessing": {"_target_": "monai_xrgan.transforms.XRayPreprocessd", "keys": "image", "spatial_size": 16},
        "postprocessing": {
            "_target_": "Compose",
            "transforms": [
                {"_target_": "Invertd", "keys": "pred", "transform": "@preprocessing", "orig_keys": "image",
                 "nearest_interp": False, "to_tensor": True},
                {"_target_": "monai_xrgan.transforms.SaveXRayd", "keys": "pred", "output_postfix": "restored",
                 "output_dir": "$@bundle_root + '/eval'"},
            ],
        },
    }  # fmt: skip
    _save_weights(TinyRestorer(logits=logits), root)
    return _fake_bundle(root, inference, ["16*n", "16*n"])


@pytest.mark.parametrize("logits", [False, True], ids=["probabilities", "logits+softmax"])
def test_image_class_task_returns_image_and_class_scores(tmp_path, cxr_png, logits):
    entry = ServedBundle(kind="image_class", class_names=["other", "covid"], softmax=logits,
                         network_kwargs={"return_probs": True})  # fmt: skip
    task = create_task(BundleToServe("restorer", _restorer_bundle(tmp_path / "restorer", logits), entry, {}))
    assert type(task) is BundleImageClassTask and task.info()["labels"] == ["other", "covid"]
    path, result = task({"image": str(cxr_png)})
    assert np.asarray(Image.open(path)).shape == (24, 40) and "cxr_restored" in Path(path).name
    scores = [p["score"] for p in result["prediction"]]
    assert [(p["idx"], p["label"]) for p in result["prediction"]] == [(0, "other"), (1, "covid")]
    assert sum(scores) == pytest.approx(1.0) and result["score"] == max(scores)
    assert result["label"] == ["other", "covid"][int(np.argmax(scores))]
    assert not (tmp_path / "restorer" / "eval").exists()  # the bundle's own saver is not used


@pytest.mark.parametrize(
    "entry, message",
    [
        (ServedBundle(kind="image_class", class_names=["other", "covid"]),
         "kind 'image_class' needs \\(image, class scores\\)"),
        (ServedBundle(kind="image_class", class_names=["a", "b", "c"], network_kwargs={"return_probs": True}),
         "returned 2 class scores for 3 class_names"),
        (ServedBundle(kind="image", network_kwargs={"return_probs": True}),
         "returned tuple; kind 'image' needs one image"),
    ],
)  # fmt: skip
def test_entries_that_do_not_match_the_network_are_config_errors(tmp_path, cxr_png, entry, message):
    task = create_task(BundleToServe("restorer", _restorer_bundle(tmp_path / "restorer", False), entry, {}))
    with pytest.raises(ConfigError, match=message):
        task({"image": str(cxr_png)})


DOMAINS = ("normal", "viral_pneumonia", "covid")
DOMAIN_WEIGHTS = (-1.0, 0.0, 1.5)  # TinyTranslator's output is tanh(weight of the target domain) everywhere


@pytest.fixture
def translation_task(tmp_path) -> BundleTranslationTask:
    """A fake CT bundle: HU window -> [-1, 1], a 2-D translator slice by slice, back to HU."""
    inference = {
        "network_def": {"_target_": f"{__name__}.TinyTranslator", "num_domains": len(DOMAINS)},
        "preprocessing": {
            "_target_": "Compose",
            "transforms": [
                {"_target_": "LoadImaged", "keys": "image", "ensure_channel_first": True, "image_only": True},
                {"_target_": "ScaleIntensityRanged", "keys": "image", "a_min": HU_WINDOW[0], "a_max": HU_WINDOW[1],
                 "b_min": -1.0, "b_max": 1.0, "clip": True},
            ],
        },
        "inferer": {"_target_": "SliceInferer", "roi_size": [16, 12], "spatial_dim": 2, "sw_batch_size": 2},
        "postprocessing": {"_target_": "ScaleIntensityRanged", "keys": "pred", "a_min": -1.0, "a_max": 1.0,
                           "b_min": HU_WINDOW[0], "b_max": HU_WINDOW[1]},
    }  # fmt: skip
    network = TinyTranslator(len(DOMAINS))
    with torch.no_grad():
        network.conv.weight.zero_()
        network.conv.weight[0, 1:, 0, 0] = torch.tensor(DOMAIN_WEIGHTS)
        network.conv.bias.zero_()
    root = tmp_path / "ct_translator"
    _save_weights(network, root)
    entry = ServedBundle(kind="translation", domains=DOMAINS, default_domain="covid")
    return create_task(BundleToServe("ct_translator", _fake_bundle(root, inference, [-1, -1, -1]), entry, {}))


@pytest.fixture
def ct_volume(tmp_path) -> Path:
    volume = np.random.default_rng(0).uniform(-1000, 400, size=(16, 12, 5)).astype(np.float32)
    path = tmp_path / "chest_ct.nii.gz"
    nib.save(nib.Nifti1Image(volume, np.diag([0.7, 0.7, 2.5, 1.0])), path)
    return path


def _expected_hu(domain: str) -> float:
    value = np.tanh(DOMAIN_WEIGHTS[DOMAINS.index(domain)])
    return HU_WINDOW[0] + (value + 1) / 2 * (HU_WINDOW[1] - HU_WINDOW[0])


@pytest.mark.parametrize("requested, used", [(None, "covid"), ("viral_pneumonia", "viral_pneumonia"), ("0", "normal")])
def test_translation_task_uses_the_target_domain_on_a_ct_volume(translation_task, ct_volume, requested, used):
    assert translation_task.info()["config"]["target_domain"] == ["covid", "normal", "viral_pneumonia"]
    request = {"image": str(ct_volume)} if requested is None else {"image": str(ct_volume), "target_domain": requested}
    path, result = translation_task(request)
    assert result["target_domain"] == used and path.endswith(".nii.gz")
    out = nib.load(path)
    assert out.shape == (16, 12, 5) and np.allclose(out.affine, nib.load(ct_volume).affine)
    assert np.allclose(out.get_fdata(), _expected_hu(used), atol=1e-3)


def test_translation_task_refuses_an_unknown_domain(translation_task, ct_volume):
    with pytest.raises(
        ConfigError, match=r"target_domain 'severe' is not one of \['normal', 'viral_pneumonia', 'covid'\]"
    ):
        translation_task({"image": str(ct_volume), "target_domain": "severe"})


def test_every_task_kind_has_its_class():
    assert tuple(TASK_KINDS) == KINDS
