"""Tests of the demo dataset writer and its datalists (monai_xrgan.demo.datasets)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pydicom
import pytest
from PIL import Image

from monai_xrgan.demo.datasets import DATALIST_NAME, MARKER_NAME, ensure_demo_data, main, make_demo_dataset
from monai_xrgan.demo.tasks import TASKS

SMALL = {
    "size": 64,
    "num_train": 3,
    "num_val": 1,
    "num_test": 1,
    "num_normal": 2,
    "num_viral": 2,
    "num_covid": 1,
    "num_test_per_class": 1,
}
SMALL_ARGS = [
    "--size", "64", "--num-train", "3", "--num-val", "1", "--num-test", "1", "--num-normal", "2", "--num-viral", "2",
    "--num-covid", "1", "--num-test-per-class", "1",
]  # fmt: skip
SPLITS = ("training", "validation", "test", "classification_training", "classification_test")


def _items(datalist: dict) -> list[tuple[str, str]]:
    keys = ("image", "target")
    return [(split, item[key]) for split in SPLITS for item in datalist[split] for key in keys if key in item]


def test_cli_writes_pix2pix_datalist(tmp_path, capsys):
    out = tmp_path / "demo"
    path = main(["--task", "pix2pix", "--out", str(out), *SMALL_ARGS])
    assert path == out / DATALIST_NAME and str(path) in capsys.readouterr().out
    datalist = json.loads(path.read_text())
    assert datalist["task"] == "pix2pix" and datalist["image_size"] == 64 and datalist["format"] == "png"
    assert datalist["labels"] == {"0": "normal", "1": "viral_pneumonia", "2": "covid"}
    assert [len(datalist[s]) for s in SPLITS] == [3, 1, 1, 5, 3]
    assert datalist["training"][0] == {"image": "pairs/train/0000_normal.png", "target": "pairs/train/0000_covid.png"}
    assert [item["label"] for item in datalist["classification_training"]] == [0, 0, 1, 1, 2]
    assert sorted(item["label"] for item in datalist["classification_test"]) == [0, 1, 2]
    for _, relative in _items(datalist):
        assert not Path(relative).is_absolute()
        with Image.open(out / relative) as image:
            assert image.size == (64, 64) and image.mode == "L"
    # a pair is the same patient: the images differ, but far less than two different patients
    pair = [np.asarray(Image.open(out / datalist["training"][0][k]), dtype=np.float32) for k in ("image", "target")]
    other = np.asarray(Image.open(out / datalist["training"][1]["image"]), dtype=np.float32)
    assert 0 < np.abs(pair[0] - pair[1]).mean() < 0.5 * np.abs(pair[0] - other).mean()


def test_module_entry_point(tmp_path):
    out = tmp_path / "cli"
    done = subprocess.run(
        [sys.executable, "-m", "monai_xrgan.demo", "--task", "pix2pix", "--out", str(out), *SMALL_ARGS],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert str(out / DATALIST_NAME) in done.stdout
    assert (out / DATALIST_NAME).is_file() and (out / MARKER_NAME).is_file()


def test_deterministic_byte_identical(tmp_path):
    a = make_demo_dataset("pix2pix", tmp_path / "a", **SMALL)
    b = make_demo_dataset("pix2pix", tmp_path / "b", **SMALL)
    assert a.read_bytes() == b.read_bytes()
    for _, relative in _items(json.loads(a.read_text())):
        assert (tmp_path / "a" / relative).read_bytes() == (tmp_path / "b" / relative).read_bytes()
    c = make_demo_dataset("pix2pix", tmp_path / "c", **{**SMALL, "seed": 1})
    first = json.loads(c.read_text())["training"][0]["image"]
    assert (tmp_path / "a" / first).read_bytes() != (tmp_path / "c" / first).read_bytes()


def test_dicom_format(tmp_path):
    path = make_demo_dataset("pix2pix", tmp_path, **SMALL, format="dicom")
    datalist = json.loads(path.read_text())
    patients: dict[str, set[str]] = {}
    for split, relative in _items(datalist):
        assert relative.endswith(".dcm")
        ds = pydicom.dcmread(tmp_path / relative)
        assert ds.Modality == "DX" and ds.BitsStored == 12 and ds.PhotometricInterpretation == "MONOCHROME2"
        assert ds.pixel_array.shape == (64, 64) and int(ds.pixel_array.max()) <= 4095
        patients.setdefault(ds.PatientID, set()).add(split)
    assert all(len(splits) == 1 for splits in patients.values())  # patient-disjoint splits
    assert len(patients) == sum(len(datalist[s]) for s in SPLITS)  # one patient per pair or labelled image
    for item in datalist["training"]:
        image, target = (pydicom.dcmread(tmp_path / item[k]) for k in ("image", "target"))
        assert image.PatientID == target.PatientID and image.StudyInstanceUID == target.StudyInstanceUID
        assert image.SeriesInstanceUID != target.SeriesInstanceUID


def test_ensure_existing_datalist_is_returned_unchanged(tmp_path):
    (tmp_path / "user.png").write_bytes(b"not touched")
    datalist = tmp_path / DATALIST_NAME
    datalist.write_text('{"training": []}')
    assert ensure_demo_data(tmp_path, "pix2pix", **SMALL) == str(datalist)
    assert datalist.read_text() == '{"training": []}' and not (tmp_path / MARKER_NAME).exists()
    other = tmp_path / "elsewhere.json"
    other.write_text("{}")
    assert ensure_demo_data(tmp_path / "missing", "pix2pix", datalist=other) == str(other)


@pytest.mark.parametrize("exists", [True, False])
def test_ensure_generates_into_empty_or_new_folder(tmp_path, exists):
    folder = tmp_path / "data"
    if exists:
        folder.mkdir()
    path = ensure_demo_data(folder, "pix2pix", **SMALL)
    assert path == str(folder / DATALIST_NAME) and Path(path).is_file() and (folder / MARKER_NAME).is_file()
    assert len(json.loads(Path(path).read_text())["training"]) == 3


def test_ensure_refuses_a_foreign_folder(tmp_path):
    (tmp_path / "my_scan.png").write_bytes(b"user data")
    with pytest.raises(FileNotFoundError) as err:
        ensure_demo_data(tmp_path, "pix2pix", **SMALL)
    message = str(err.value)
    assert str(tmp_path / DATALIST_NAME) in message and "datalist" in message and "\n" not in message
    assert sorted(p.name for p in tmp_path.iterdir()) == ["my_scan.png"]
    # an explicit datalist that does not exist is the user's mistake too, even in an empty folder
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match="mine.json"):
        ensure_demo_data(tmp_path / "empty", "pix2pix", datalist=tmp_path / "mine.json")


def test_ensure_regenerates_an_interrupted_demo(tmp_path):
    (tmp_path / MARKER_NAME).write_text("{}")
    (tmp_path / "pairs").mkdir()
    (tmp_path / "pairs" / "partial.png").write_bytes(b"")
    path = ensure_demo_data(tmp_path, "pix2pix", **SMALL)
    datalist = json.loads(Path(path).read_text())
    assert all((tmp_path / relative).is_file() for _, relative in _items(datalist))


@pytest.mark.parametrize(
    "task, options, words",
    [
        ("cyclegan", {}, ("task", "pix2pix")),
        ("pix2pix", {"num_epochs": 3}, ("num_epochs", "num_train")),
        ("pix2pix", {"format": "jpeg"}, ("format", "dicom")),
        ("pix2pix", {"size": 32}, ("size", "64")),
        ("pix2pix", {"num_covid": -1}, ("num_covid",)),
    ],
)
def test_bad_options_raise_value_error(tmp_path, task, options, words):
    with pytest.raises(ValueError) as err:
        make_demo_dataset(task, tmp_path, **options)
    assert all(w in str(err.value) for w in words)


def test_registry_describes_tasks():
    assert "pix2pix" in TASKS and TASKS["pix2pix"].options["num_covid"][0] == 12
