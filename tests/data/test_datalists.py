from __future__ import annotations

import json

import pytest

from monai_xrgan.data.datalists import counterpart_items, datalist_from_folder, load_datalist
from monai_xrgan.utils.errors import ConfigError, MissingInputError


@pytest.fixture
def dataset(tmp_path):
    (tmp_path / "a.png").write_bytes(b"x")
    (tmp_path / "b.png").write_bytes(b"x")
    content = {
        "training": [{"image": "a.png", "target": "b.png", "label": 1}],
        "test": [{"image": "a.png"}],
        "empty": [],
    }
    path = tmp_path / "datalist.json"
    path.write_text(json.dumps(content))
    return path


def test_paths_are_resolved_against_the_dataset_folder(dataset):
    (item,) = load_datalist(dataset, "training", keys=["image", "target"])
    assert item == {"image": str(dataset.parent / "a.png"), "target": str(dataset.parent / "b.png"), "label": 1}


@pytest.mark.parametrize(
    "split,keys,error,message",
    [
        ("validation", ["image"], ConfigError, r"has no 'validation' list.*\['empty', 'test', 'training'\]"),
        ("test", ["image", "target"], ConfigError, r"test\[0\] has no \['target'\]"),
        ("empty", ["image"], ConfigError, "'empty' list is empty"),
    ],
)
def test_bad_datalists_name_item_and_key(dataset, split, keys, error, message):
    with pytest.raises(error, match=message):
        load_datalist(dataset, split, keys=keys)


def test_missing_files(dataset, tmp_path):
    (tmp_path / "b.png").unlink()
    with pytest.raises(MissingInputError, match=r"training\[0\]\['target'\] = .*b.png does not exist"):
        load_datalist(dataset, "training", keys=["image"])
    with pytest.raises(MissingInputError, match="datalist not found"):
        load_datalist(tmp_path / "nope.json")


def test_invalid_json(tmp_path):
    path = tmp_path / "bad.json"
    path.write_text("{")
    with pytest.raises(ConfigError, match="not valid JSON"):
        load_datalist(path)


def test_folder_listing(tmp_path):
    for name in ("b.dcm", "a.PNG", "c.nii.gz", "notes.txt"):
        (tmp_path / name).write_bytes(b"x")
    assert [item["image"].split("/")[-1] for item in datalist_from_folder(tmp_path)] == ["a.PNG", "b.dcm", "c.nii.gz"]
    with pytest.raises(MissingInputError, match="no images"):
        datalist_from_folder(tmp_path / "sub" if (tmp_path / "sub").mkdir() is None else tmp_path)


def test_a_list_where_a_path_belongs_is_one_line(tmp_path):
    path = tmp_path / "datalist.json"
    path.write_text(json.dumps({"training": [{"image": ["a.png", "b.png"]}]}))
    with pytest.raises(ConfigError, match=r"training\[0\]\['image'\] must be one path \(a string\), got list"):
        load_datalist(path, "training", keys=["image"])


def test_folder_listing_keeps_suffixless_dicom_files_by_their_preamble(tmp_path):
    (tmp_path / "IM000001").write_bytes(b"\0" * 128 + b"DICM" + b"\0" * 16)  # the DICOM preamble and prefix
    (tmp_path / "README").write_bytes(b"not an image")
    assert [item["image"].split("/")[-1] for item in datalist_from_folder(tmp_path)] == ["IM000001"]


def test_counterpart_items_read_another_file_of_the_same_items(tmp_path):
    items = [{"image": "/abs/a_nodule.png", "clean": "a_clean.png", "nodule": [0.5, 0.5, 0.1], "label": 1}]
    assert counterpart_items(items, "clean", tmp_path) == [
        {"image": str(tmp_path / "a_clean.png"), "nodule": [0.5, 0.5, 0.1]}
    ]
    assert counterpart_items(items, "clean", tmp_path, keep=("label",))[0]["label"] == 1
    with pytest.raises(ConfigError, match=r"item 0 has no \['nodule'\]"):
        counterpart_items([{"clean": "a.png"}], "clean", tmp_path)
