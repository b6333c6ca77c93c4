"""The MONAI Label app's bundle registry and ``--conf`` parsing (no MONAI Label needed)."""

from __future__ import annotations

import shutil

import pytest

from monai_xrgan.bundle import REPO_BUNDLES
from monai_xrgan.label import APP_DIR
from monai_xrgan.label.__main__ import main
from monai_xrgan.label.conf import bundle_search_path, bundles_to_serve
from monai_xrgan.label.registry import KINDS, SERVED_BUNDLES, ServedBundle
from monai_xrgan.utils.errors import ConfigError, MissingInputError


def test_every_bundle_in_the_repository_is_served():
    bundles = {p.name for p in REPO_BUNDLES.iterdir() if (p / "configs" / "inference.json").is_file()}
    assert bundles and bundles <= set(SERVED_BUNDLES), "add the new bundle to monai_xrgan/label/registry.py"


def test_every_entry_is_valid():
    assert set(SERVED_BUNDLES) >= {"pix2pix_cxr"}
    for name, entry in SERVED_BUNDLES.items():
        assert entry.kind in KINDS and "#" not in name and "," not in name


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"kind": "segmentation"}, "kind must be one of"),
        ({"kind": "image_class"}, "class_names must be given for kind 'image_class'"),
        ({"kind": "image", "class_names": ["a"]}, "class_names must be given for kind 'image_class' only"),
        ({"kind": "translation"}, "domains must be given for kind 'translation'"),
        ({"kind": "translation", "domains": ["a", "b"], "default_domain": "c"}, "default_domain 'c' is not one of"),
    ],
)
def test_served_bundle_refuses_inconsistent_entries(kwargs, message):
    with pytest.raises(ConfigError, match=message):
        ServedBundle(**kwargs)


def test_served_bundle_is_immutable():
    entry = ServedBundle(kind="image_class", class_names=["other", "covid"], network_kwargs={"return_probs": True})
    assert entry.class_names == ("other", "covid")
    with pytest.raises(TypeError):
        entry.network_kwargs["return_probs"] = False


def test_default_serves_every_registered_bundle_found_with_no_overrides(tmp_path):
    served = bundles_to_serve(tmp_path, {})
    expected = [n for n in SERVED_BUNDLES if (REPO_BUNDLES / n / "configs" / "inference.json").is_file()]
    assert [b.name for b in served] == expected
    assert all(b.overrides == {} and b.path == REPO_BUNDLES / b.name for b in served)


def test_models_bundles_dir_and_json_overrides(tmp_path):
    own = tmp_path / "downloads" / "pix2pix_cxr"
    shutil.copytree(REPO_BUNDLES / "pix2pix_cxr" / "configs", own / "configs")
    conf = {
        "models": " pix2pix_cxr, pix2pix_cxr ",
        "bundles_dir": str(tmp_path / "downloads"),
        "pix2pix_cxr#image_size": "256",
        "pix2pix_cxr#network_def#dropout_in_eval": "false",
        "pix2pix_cxr#bundle_root": "/runs/finetune",
        "preload": "true",
    }
    (bundle,) = bundles_to_serve(tmp_path / "app", conf)
    assert bundle.path == own and bundle.entry is SERVED_BUNDLES["pix2pix_cxr"]
    assert bundle.overrides == {
        "image_size": 256,
        "network_def#dropout_in_eval": False,
        "bundle_root": "/runs/finetune",
    }
    assert bundle_search_path(tmp_path / "app", conf) == [
        tmp_path / "downloads",
        tmp_path / "app" / "model",
        REPO_BUNDLES,
    ]


def test_app_model_folder_is_searched_before_the_repository(tmp_path):
    shutil.copytree(REPO_BUNDLES / "pix2pix_cxr" / "configs", tmp_path / "model" / "pix2pix_cxr" / "configs")
    (bundle,) = bundles_to_serve(tmp_path, {"models": "pix2pix_cxr"})
    assert bundle.path == tmp_path / "model" / "pix2pix_cxr"


@pytest.mark.parametrize(
    "conf, error, message",
    [
        ({"models": "pix2pix"}, ConfigError, r"'pix2pix' is not a bundle this app serves; choose from \["),
        ({"pix2pix#image_size": "64"}, ConfigError, "--conf pix2pix#image_size: expected <bundle>#<config id>"),
        ({"pix2pix_cxr#": "64"}, ConfigError, "expected <bundle>#<config id>"),
    ],
)
def test_user_mistakes_in_conf(tmp_path, conf, error, message):
    with pytest.raises(error, match=message):
        bundles_to_serve(tmp_path, conf)


def test_registered_bundle_missing_from_every_folder(tmp_path, monkeypatch):
    monkeypatch.setitem(SERVED_BUNDLES, "later_bundle", ServedBundle(kind="image"))
    with pytest.raises(MissingInputError, match="bundle 'later_bundle' not found as <dir>/later_bundle/configs/inf"):
        bundles_to_serve(tmp_path, {"models": "later_bundle"})
    assert "later_bundle" not in [b.name for b in bundles_to_serve(tmp_path, {"models": "all"})]


def test_app_path_command(capsys):
    assert main(["app-path"]) == 0
    assert capsys.readouterr().out.strip() == str(APP_DIR)
    assert (APP_DIR / "main.py").is_file()
