"""CT input handling: NIfTI / DICOM series loading in HU, lung window, axial slices and restacking, user errors."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import nibabel as nib
import numpy as np
import pydicom
import pytest
import torch
from ignite.engine import Engine
from monai.data import DataLoader, Dataset, decollate_batch
from monai.transforms import Compose, Invertd
from PIL import Image

from monai_xrgan.demo.ct_phantoms import synthetic_ct
from monai_xrgan.io.ct import write_ct_dicom_series, write_ct_nifti
from monai_xrgan.transforms import ct as ct_module
from monai_xrgan.transforms.ct import (
    CTMeta,
    CTWindow,
    CTWindowd,
    LoadCT,
    LoadCTd,
    LoadCTSlice,
    LoadCTSliced,
    SaveCTSlicesd,
    check_dicom_series,
    ct_slice_items,
    lung_slice_indices,
    stack_axial_slices,
)
from monai_xrgan.utils.errors import ConfigError, InputFileError, MissingInputError

SHAPE = (48, 40, 32)
SPACING = (8.0, 9.0, 12.5)
# ITK's SWIG bindings warn about their own types when imported under Python 3.11+
pytestmark = pytest.mark.filterwarnings("ignore:builtin type .* has no __module__ attribute:DeprecationWarning")


@pytest.fixture(scope="module")
def phantom(tmp_path_factory) -> dict:
    """One phantom written as NIfTI (int16), as a DICOM series, and as NIfTI in RAS array order."""
    root = tmp_path_factory.mktemp("ct")
    volume, info = synthetic_ct(0, SHAPE, spacing=SPACING, return_info=True)
    affine = info["affine"]
    write_ct_nifti(root / "ct.nii.gz", volume, affine)
    write_ct_dicom_series(root / "series", volume, affine, uid_seed="test")
    flip = np.diag([-1.0, -1.0, 1.0, 1.0])
    flip[:2, 3] = [SHAPE[0] - 1, SHAPE[1] - 1]  # voxel index of the flipped array -> index of the original
    write_ct_nifti(root / "ras.nii.gz", volume[::-1, ::-1], affine @ flip)
    return {"root": root, "volume": np.round(volume), "affine": affine, "info": info}


def one_line(err: pytest.ExceptionInfo, path: os.PathLike | str) -> str:
    message = str(err.value)
    assert message.startswith(str(path)), message
    assert "\n" not in message
    return message


@pytest.mark.parametrize("reader", ["pydicom", "itk"])
def test_nifti_and_dicom_series_load_to_the_same_hu_volume(phantom, reader):
    loader = LoadCT(reader=reader)
    nifti = loader(phantom["root"] / "ct.nii.gz")
    dicom = loader(str(phantom["root"] / "series"))
    for img, fmt in ((nifti, "nifti"), (dicom, "dicom")):
        assert img.shape == (1, *SHAPE) and img.dtype == torch.float32
        assert img.meta[CTMeta.FORMAT] == fmt
        np.testing.assert_allclose(np.asarray(img.affine), phantom["affine"], atol=1e-4)
        np.testing.assert_allclose(img[0].numpy(), phantom["volume"], atol=1.0)  # HU within quantisation


def test_nifti_scaling_gives_hounsfield_units(phantom, tmp_path):
    hu = np.maximum(phantom["volume"], -1024.0)
    image = nib.Nifti1Image((hu + 1024).astype(np.uint16), phantom["affine"])
    image.header.set_slope_inter(1.0, -1024.0)
    nib.save(image, tmp_path / "scaled.nii.gz")
    np.testing.assert_allclose(LoadCT()(tmp_path / "scaled.nii.gz")[0].numpy(), hu, atol=1e-3)


def test_orientation_turns_any_axis_order_to_lps(phantom):
    root = phantom["root"]
    lps = LoadCT()(root / "ct.nii.gz")
    ras = LoadCT()(root / "ras.nii.gz")
    np.testing.assert_array_equal(ras.numpy(), lps.numpy())
    np.testing.assert_allclose(np.asarray(ras.affine), np.asarray(lps.affine), atol=1e-6)
    np.testing.assert_allclose(np.asarray(ras.meta[CTMeta.FILE_AFFINE]), nib.load(root / "ras.nii.gz").affine)
    kept = LoadCTd("image", axcodes=None)({"image": str(root / "ras.nii.gz")})["image"]
    np.testing.assert_array_equal(kept[0].numpy(), phantom["volume"][::-1, ::-1])


def test_lung_window_is_invertible():
    window = CTWindow()
    hu = torch.tensor([[-2000.0, -1350.0, -600.0, 150.0, 700.0]])
    out = window(hu)
    np.testing.assert_allclose(out.numpy(), [[-1.0, -1.0, 0.0, 1.0, 1.0]], atol=1e-6)
    back = window.inverse(out)
    np.testing.assert_allclose(back.numpy(), [[-1350.0, -1350.0, -600.0, 150.0, 150.0]], atol=1e-3)
    soft = CTWindow(level=40.0, width=400.0, out_range=(0.0, 1.0))
    assert float(soft(torch.tensor([40.0]))) == pytest.approx(0.5)
    with pytest.raises(ConfigError, match="width"):
        CTWindow(width=0.0)


def test_slice_extraction_window_and_inverse_through_invertd(phantom):
    path = str(phantom["root"] / "ct.nii.gz")
    preprocess = Compose([LoadCTSliced("image"), CTWindowd("image")])
    item = preprocess({"image": path, "slice": 17, "domain": 2})
    img = item["image"]
    assert img.shape == (1, SHAPE[0], SHAPE[1]) and item["domain"] == 2
    assert float(img.min()) >= -1.0 and float(img.max()) <= 1.0
    meta = img.meta
    assert meta[CTMeta.SLICE] == 17 and tuple(meta[CTMeta.VOLUME_SHAPE]) == SHAPE
    np.testing.assert_allclose(np.asarray(meta[CTMeta.VOLUME_AFFINE]), phantom["affine"], atol=1e-6)
    corner = np.asarray(img.affine) @ np.array([0.0, 0.0, 0.0, 1.0])
    np.testing.assert_allclose(corner, phantom["affine"] @ np.array([0.0, 0.0, 17.0, 1.0]), atol=1e-6)
    item["pred"] = img.clone()
    restored = Invertd("pred", transform=preprocess, orig_keys="image", nearest_interp=False)(item)["pred"]
    expected = np.clip(phantom["volume"][:, :, 17], -1350.0, 150.0)
    np.testing.assert_allclose(np.asarray(restored[0]), expected, atol=0.05)


def test_slices_of_one_volume_read_it_once(phantom, monkeypatch):
    calls = []
    original = LoadCT.__call__
    monkeypatch.setattr(LoadCT, "__call__", lambda self, path: calls.append(path) or original(self, path))
    loader = LoadCTSliced("image", cache_size=2)
    volume_paths = [str(phantom["root"] / "ct.nii.gz"), str(phantom["root"] / "series")]
    items = ct_slice_items([{"image": p, "label": i} for i, p in enumerate(volume_paths)], loader=loader.loader)
    assert len(items) == 2 * SHAPE[2] and items[SHAPE[2]] == {"image": volume_paths[1], "label": 1, "slice": 0}
    for item in items:
        expected = loader.loader.volume(item["image"])[0, :, :, item["slice"]]
        np.testing.assert_array_equal(loader(item)["image"][0].numpy(), expected.numpy())
    assert len(calls) == 2  # each volume read once, for the listing and all its slices
    small = LoadCTSliced("image", cache_size=1)  # one volume kept: alternating volumes reads them again
    for item in (items[0], items[1], items[-1], items[2]):
        small(item)
    assert len(calls) == 5


def test_lung_slice_items_match_the_phantom(phantom):
    items = ct_slice_items([{"image": str(phantom["root"] / "ct.nii.gz")}], slices="lungs")
    lung_z = np.flatnonzero(phantom["info"]["lung_mask"].mean(axis=(0, 1)) >= 0.02)
    found = [item["slice"] for item in items]
    assert found == list(range(found[0], found[-1] + 1))
    assert abs(found[0] - lung_z[0]) <= 1 and abs(found[-1] - lung_z[-1]) <= 1  # HU criterion vs the true lung mask
    assert lung_slice_indices(np.full((8, 8, 8), -1000.0)) == []


def _translate_every_slice(path: str, out_dir: Path, **saver_options) -> tuple[SaveCTSlicesd, list[dict]]:
    """Slice-level pipeline with batches: load, window, identity 'model', invert the window, save."""
    preprocess = Compose([LoadCTSliced("image"), CTWindowd("image")])
    saver = SaveCTSlicesd("pred", out_dir, **saver_options)
    post = Compose([Invertd("pred", transform=preprocess, orig_keys="image", nearest_interp=False), saver])
    loader = DataLoader(Dataset(ct_slice_items([{"image": path}]), transform=preprocess), batch_size=5)
    outputs = []
    for batch in loader:
        batch["pred"] = batch["image"] * 1.0  # a model would translate the slices here
        outputs += [post(item) for item in decollate_batch(batch)]
    return saver, outputs


@pytest.mark.parametrize("name", ["ct.nii.gz", "ras.nii.gz", "series"])
def test_translated_slices_are_written_back_with_the_input_geometry(phantom, tmp_path, name):
    source = phantom["root"] / name
    saver, outputs = _translate_every_slice(str(source), tmp_path, restore_outside=(-1350.0, 150.0))
    written = [o["pred_path"] for o in outputs if "pred_path" in o]
    assert len(written) == 1 and saver.flush() == []
    stem = "series" if name == "series" else name[: -len(".nii.gz")]
    assert Path(written[0]).name == f"{stem}_trans.nii.gz"
    out = nib.load(written[0])
    reference = nib.load(source) if name != "series" else None
    expected_affine = reference.affine if reference is not None else phantom["affine"]
    expected = np.asarray(reference.dataobj) if reference is not None else phantom["volume"]
    np.testing.assert_allclose(out.affine, expected_affine, atol=1e-4)
    np.testing.assert_allclose(np.asarray(out.dataobj), expected, atol=1.0)  # the identity model gives the input back


def test_partial_volumes_are_completed_from_the_input_when_flushed(phantom, tmp_path):
    path = str(phantom["root"] / "ct.nii.gz")
    preprocess = LoadCTSliced("image")
    saver = SaveCTSlicesd("pred", tmp_path, output_postfix="gen", dtype="float32")
    engine = Engine(lambda engine, batch: None)
    saver.attach(engine)
    for k in (3, 4):
        item = preprocess({"image": path, "slice": k})
        item["pred"] = torch.full_like(item["image"], 1234.0)
        assert "pred_path" not in saver(item)
    engine.run([0], max_epochs=1)  # the end of the run flushes the incomplete volume
    out = nib.load(tmp_path / "ct_gen.nii.gz").get_fdata()
    np.testing.assert_array_equal(out[:, :, 3:5], 1234.0)
    np.testing.assert_allclose(out[:, :, 5:], phantom["volume"][:, :, 5:], atol=1e-3)


def test_stacking_and_saving_errors(phantom, tmp_path):
    with pytest.raises(ConfigError, match="missing"):
        stack_axial_slices([torch.zeros(1, 4, 5)], [0], (4, 5, 3), np.eye(4))
    with pytest.raises(ConfigError, match="distinct"):
        stack_axial_slices([torch.zeros(1, 4, 5)] * 2, [1, 1], (4, 5, 2), np.eye(4))
    full = stack_axial_slices([torch.full((1, 4, 5), float(k)) for k in range(3)], [0, 1, 2], (4, 5, 3), np.eye(4))
    assert full.shape == (1, 4, 5, 3) and float(full[0, 0, 0, 2]) == 2.0
    item = LoadCTSliced("image")({"image": str(phantom["root"] / "ct.nii.gz"), "slice": 0})
    item["pred"] = torch.zeros(1, 16, 16)  # a resized output that was not inverted
    with pytest.raises(InputFileError, match="undo the resizing"):
        SaveCTSlicesd("pred", tmp_path, orig_key="image")(item)
    with pytest.raises(InputFileError, match="no CT slice metadata"):
        SaveCTSlicesd("pred", tmp_path, orig_key=None)({"pred": torch.zeros(1, 4, 4)})
    with pytest.raises(ConfigError, match="slice 99"):
        LoadCTSliced("image")({"image": str(phantom["root"] / "ct.nii.gz"), "slice": 99})
    with pytest.raises(ConfigError, match="'slice'"):
        LoadCTSliced("image")({"image": str(phantom["root"] / "ct.nii.gz")})


# ----------------------------------------------------------------------------------------------------------------
# user errors


def _copy_series(phantom: dict, tmp_path: Path) -> Path:
    folder = tmp_path / "series"
    shutil.copytree(phantom["root"] / "series", folder)
    return folder


def _edit(path: Path, **tags) -> None:
    ds = pydicom.dcmread(path)
    for key, value in tags.items():
        setattr(ds, key, value)
    ds.save_as(path)


def test_two_dimensional_inputs_are_refused(phantom, tmp_path):
    png = tmp_path / "xray.png"
    Image.fromarray(np.zeros((16, 16), np.uint8)).save(png)
    flat = tmp_path / "flat.nii.gz"
    nib.save(nib.Nifti1Image(np.zeros((16, 16), np.int16), np.eye(4)), flat)
    single = tmp_path / "single.nii.gz"
    nib.save(nib.Nifti1Image(np.arange(256, dtype=np.int16).reshape(16, 16, 1), np.eye(4)), single)
    one_slice = tmp_path / "one"
    one_slice.mkdir()
    shutil.copy(phantom["root"] / "series" / "IM00001.dcm", one_slice)
    for path, text in (
        (png, "2-D image"),
        (flat, "2-D image"),
        (single, "2-D image"),
        (one_slice, "single 2-D slice"),
        (phantom["root"] / "series" / "IM00001.dcm", "single DICOM file"),
    ):
        with pytest.raises(InputFileError) as err:
            LoadCT()(path)
        assert text in one_line(err, path)


@pytest.mark.parametrize(
    "damage, text",
    [
        ("missing", "missing slices"),
        ("spacing", "mixed pixel spacing"),
        ("orientation", "mixed slice orientations"),
        ("uneven", "uneven slice spacing"),
        ("duplicate", "same position"),
        ("two_series", "2 DICOM series"),
        ("numbering", "InstanceNumbers"),
        ("truncated", "truncated"),
        ("empty", "no DICOM files"),
    ],
)
def test_broken_dicom_series_give_one_line_errors(phantom, tmp_path, damage, text):
    folder = _copy_series(phantom, tmp_path)
    files = sorted(folder.iterdir())
    if damage == "missing":
        files[10].unlink()
    elif damage == "spacing":
        _edit(files[5], PixelSpacing=[4.0, 4.0])
    elif damage == "orientation":
        _edit(files[5], ImageOrientationPatient=[1, 0, 0, 0, 0, -1])
    elif damage == "uneven":
        ds = pydicom.dcmread(files[5])
        _edit(files[5], ImagePositionPatient=[*ds.ImagePositionPatient[:2], float(ds.ImagePositionPatient[2]) + 2.0])
    elif damage == "duplicate":
        _edit(files[5], ImagePositionPatient=pydicom.dcmread(files[6]).ImagePositionPatient)
    elif damage == "two_series":
        _edit(files[5], SeriesInstanceUID="1.2.3.4")
    elif damage == "numbering":
        _edit(files[5], InstanceNumber=99)
    elif damage == "truncated":
        files[5].write_bytes(files[5].read_bytes()[:-200])
    elif damage == "empty":
        for f in files:
            f.unlink()
        (folder / "README.txt").write_text("not a DICOM file")
    for loader in (LoadCT(), lambda p: check_dicom_series(p)):
        with pytest.raises(InputFileError) as err:
            loader(folder)
        message = str(err.value)
        assert text in message and "\n" not in message and message.startswith(str(folder)), message


def test_empty_missing_and_corrupt_volumes(tmp_path):
    constant = tmp_path / "constant.nii.gz"
    nib.save(nib.Nifti1Image(np.full((8, 8, 8), -1000, np.int16), np.eye(4)), constant)
    zero = tmp_path / "zero.nii.gz"
    nib.save(nib.Nifti1Image(np.zeros((0, 8, 8), np.int16), np.eye(4)), zero)
    corrupt = tmp_path / "corrupt.nii.gz"
    corrupt.write_bytes(os.urandom(300))
    cases = [
        (constant, InputFileError, "empty volume"),
        (zero, InputFileError, "empty volume"),
        (corrupt, InputFileError, "corrupt"),
        (tmp_path / "absent.nii.gz", MissingInputError, "not found"),
        (tmp_path / "absent_series", MissingInputError, "not found"),
        (tmp_path / "notes.txt", MissingInputError, "not found"),
    ]
    for path, kind, text in cases:
        with pytest.raises(kind) as err:
            LoadCT()(path)
        assert text in one_line(err, path)
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(InputFileError, match="unsupported file type"):
        LoadCT()(tmp_path / "notes.txt")
    with pytest.raises(ConfigError, match="reader"):
        LoadCT(reader="gdcm")
    with pytest.raises(ConfigError, match="cache_size"):
        LoadCTSlice(cache_size=0)
    assert issubclass(InputFileError, ValueError) and ct_module.__all__
