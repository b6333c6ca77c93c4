"""The MONAI Label app class, without a server: which models it serves and how it refuses bad requests."""

from __future__ import annotations

import asyncio
import importlib.util
import json
import re
import shutil

import numpy as np
import pytest
from PIL import Image

from monai_xrgan.bundle import REPO_BUNDLES
from monai_xrgan.label import APP_DIR
from monai_xrgan.label.registry import SERVED_BUNDLES, ServedBundle
from monai_xrgan.utils.errors import InputFileError

if importlib.util.find_spec("monailabel") is None:
    pytest.skip(
        "monailabel is not installed (pip install -e '.[label]' && pip install --no-deps monailabel==0.8.5 "
        "pydicom-seg==0.4.1)",
        allow_module_level=True,
    )

from monailabel.config import settings  # noqa: E402
from monailabel.interfaces.exception import ImageNotFoundException  # noqa: E402
from monailabel.interfaces.utils.app import app_instance, clear_cache  # noqa: E402

from monai_xrgan.label.application import ModelNotServedError, XRGANLabelApp  # noqa: E402
from monai_xrgan.label.conf import BundleToServe  # noqa: E402


@pytest.fixture
def app(tmp_path, monkeypatch, cxr_png, tiny_pix2pix) -> XRGANLabelApp:
    """The app serving tiny trained pix2pix_cxr weights and an untrained copy of the bundle, with one study."""
    monkeypatch.setattr(settings, "MONAI_LABEL_DATASTORE_AUTO_RELOAD", False)  # no file-watching thread
    monkeypatch.setattr(settings, "MONAI_LABEL_SESSIONS", False)
    monkeypatch.setitem(SERVED_BUNDLES, "untrained_copy", ServedBundle(kind="image"))
    shutil.copytree(REPO_BUNDLES / "pix2pix_cxr" / "configs", tmp_path / "more" / "untrained_copy" / "configs")
    bundle: BundleToServe = tiny_pix2pix(tmp_path / "run")
    studies = tmp_path / "studies"
    studies.mkdir()
    shutil.copy(cxr_png, studies / "patient_1.png")
    conf = {
        "models": "pix2pix_cxr,untrained_copy",
        "bundles_dir": str(tmp_path / "more"),
        **{f"pix2pix_cxr#{key}": str(value) for key, value in bundle.overrides.items()},
        "untrained_copy#bundle_root": str(tmp_path / "nowhere"),
    }
    return XRGANLabelApp(str(tmp_path / "app"), str(studies), conf)


def test_info_lists_only_models_with_weights(app):
    info = app.info()
    assert list(info["models"]) == ["pix2pix_cxr"] and info["models"]["pix2pix_cxr"]["kind"] == "image"
    assert info["name"] == "monai_xrgan" and info["datastore"]["total"] == 1


def test_infer_on_a_study_by_id(app):
    result = app.infer({"model": "pix2pix_cxr", "image": "patient_1"})
    assert np.asarray(Image.open(result["file"])).shape == (24, 40)
    assert result["params"]["label_names"] == [] and result["label"] == result["file"]


@pytest.mark.parametrize(
    "request_, error, message",
    [
        ({"model": "pix2pix", "image": "patient_1"}, ModelNotServedError,
         r"'pix2pix' is not served; served models: \['pix2pix_cxr'\]"),
        ({"model": "untrained_copy", "image": "patient_1"}, ModelNotServedError,
         "has no weights at .* train the bundle first"),
        ({"model": "pix2pix_cxr", "image": "patient_2"}, ImageNotFoundException, "image 'patient_2' is neither a file"),
    ],
)  # fmt: skip
def test_bad_requests_are_refused_with_a_message(app, request_, error, message):
    with pytest.raises(error) as info:
        app.infer(request_)
    assert re.search(message, info.value.msg)


def test_the_app_folder_defines_the_app(tmp_path, monkeypatch):
    """MONAI Label finds XRGANLabelApp in the app folder's main.py (as start_server does)."""
    monkeypatch.setattr(settings, "MONAI_LABEL_DATASTORE_AUTO_RELOAD", False)
    monkeypatch.setattr(settings, "MONAI_LABEL_SESSIONS", False)
    app_dir = shutil.copytree(APP_DIR, tmp_path / "app")
    (tmp_path / "studies").mkdir()
    try:
        assert isinstance(app_instance(str(app_dir), str(tmp_path / "studies"), {"models": "all"}), XRGANLabelApp)
    finally:
        clear_cache()


@pytest.mark.filterwarnings("ignore:'crypt' is deprecated:DeprecationWarning")  # passlib, imported by MONAI Label
def test_server_error_handlers_put_the_message_in_the_answer():
    from monai_xrgan.label.server import _monai_label_error, _unexpected_error

    answer = asyncio.run(_monai_label_error(None, ModelNotServedError("model 'x' is not served")))
    assert answer.status_code == 404 and json.loads(answer.body) == {
        "error": "INVALID_INPUT",
        "detail": "model 'x' is not served",
    }
    try:
        raise RuntimeError("applying transform <LoadXRayd>") from InputFileError("/a.txt: unsupported file type '.txt'")
    except RuntimeError as wrapped:
        answer = asyncio.run(_unexpected_error(None, wrapped))
    assert answer.status_code == 422 and json.loads(answer.body)["detail"] == "/a.txt: unsupported file type '.txt'"
    answer = asyncio.run(_unexpected_error(None, KeyError("boom")))
    assert answer.status_code == 500 and json.loads(answer.body) == {"error": "KeyError", "detail": "'boom'"}
