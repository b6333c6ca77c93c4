"""Preprocess → (identity model) → Invertd → SaveXRayd round trips, and the invertible model-range transform."""

from __future__ import annotations

from pathlib import Path

import nibabel as nib
import numpy as np
import pydicom
import pytest
import torch
from monai.data import DataLoader, Dataset, decollate_batch
from monai.transforms import Compose, Invertd
from PIL import Image

from monai_xrgan.io.xray import write_dicom, write_png
from monai_xrgan.transforms import (
    LoadXRay,
    SaveXRayd,
    XRayMeta,
    XRayPreprocessd,
    XRayToModelRange,
    XRayToModelRanged,
    xray_io,
)
from monai_xrgan.utils.errors import find_user_error
from monai_xrgan.utils.files import OutputWriteError

H, W = 80, 96  # rows, columns: non-square on purpose


@pytest.fixture(scope="module")
def picture() -> np.ndarray:
    """Smooth picture in [0, 1] (rows first) with a bright disc, so resampling errors stay small."""
    y, x = np.mgrid[0:H, 0:W].astype(np.float64)
    img = 0.2 + 0.4 * x / (W - 1) + 0.2 * y / (H - 1) + 0.2 * np.exp(-((x - 30) ** 2 + (y - 40) ** 2) / 200)
    return (img - img.min()) / (img.max() - img.min())


def run(path: Path, out_dir: Path, spatial_size: int) -> dict:
    """Preprocess ``path``, use the model input as the "model output", invert it and save it."""
    pre = XRayPreprocessd(keys="image", spatial_size=spatial_size)
    post = Compose(
        [
            Invertd(keys="pred", transform=pre, orig_keys="image", nearest_interp=False),
            SaveXRayd(keys="pred", output_dir=out_dir),
        ]
    )
    data = pre({"image": str(path)})
    assert data["image"].shape == (1, spatial_size, spatial_size)
    assert float(data["image"].min()) >= -1 and float(data["image"].max()) <= 1
    data["pred"] = data["image"].clone()
    return post(data)


@pytest.mark.parametrize("bits", [8, 16])
def test_png_round_trip_is_pixel_equal(tmp_path, picture, bits):
    src = write_png(tmp_path / "cxr.png", 0.1 + 0.7 * picture, bits=bits)  # not the full range: mapped back too
    out = run(src, tmp_path / "out", spatial_size=W)
    assert out["pred"].shape == (1, W, H)
    assert Path(out["pred_path"]) == tmp_path / "out" / "cxr_gen.png"
    written, original = Image.open(out["pred_path"]), Image.open(src)
    assert written.mode == original.mode
    diff = np.abs(np.asarray(written, dtype=np.int64) - np.asarray(original, dtype=np.int64))
    assert diff.shape == (H, W) and diff.max() <= 1


def test_downsampled_png_comes_back_at_its_size(tmp_path, picture):
    src = write_png(tmp_path / "cxr.png", picture)
    out = run(src, tmp_path / "out", spatial_size=64)
    written = np.asarray(Image.open(out["pred_path"]), dtype=np.float64) / 255
    assert written.shape == (H, W)
    assert np.abs(written - picture).mean() < 0.01 and np.abs(written - picture).max() < 0.06


def test_batched_pipeline_keeps_what_the_saver_needs(tmp_path, picture):
    files = [write_png(tmp_path / "a.png", picture), write_png(tmp_path / "b.png", 1 - picture, bits=16)]
    pre = XRayPreprocessd(keys="image", spatial_size=W)
    post = Compose(
        [
            Invertd(keys="pred", transform=pre, orig_keys="image", nearest_interp=False),
            SaveXRayd(keys="pred", output_dir=tmp_path / "out", output_postfix="fake"),
        ]
    )
    loader = DataLoader(Dataset([{"image": str(f)} for f in files], transform=pre), batch_size=2)
    batch = next(iter(loader))
    batch["pred"] = batch["image"] * 1.0  # identity "model" on the batch
    outputs = [post(item) for item in decollate_batch(batch)]
    for src, out in zip(files, outputs):
        assert Path(out["pred_path"]).name == f"{src.stem}_fake.png"
        diff = np.asarray(Image.open(out["pred_path"]), np.int64) - np.asarray(Image.open(src), np.int64)
        assert np.abs(diff).max() <= 1


@pytest.mark.parametrize("spatial_size", [W, 64])
def test_nifti_round_trip_keeps_affine_and_values(tmp_path, picture, spatial_size):
    affine = np.array([[-0.2, 0, 0, 30.0], [0, 0.25, 0, -12.0], [0, 0, 1.5, 4.0], [0, 0, 0, 1]])
    src = tmp_path / "cxr.nii.gz"
    nib.save(nib.Nifti1Image((picture.T[..., None] * 1000 - 200).astype(np.float32), affine), src)
    out = run(src, tmp_path / "out", spatial_size=spatial_size)
    assert Path(out["pred_path"]) == tmp_path / "out" / "cxr_gen.nii.gz"
    written, original = nib.load(out["pred_path"]), nib.load(src)
    assert written.shape == original.shape == (W, H, 1)
    np.testing.assert_allclose(written.affine, original.affine, atol=1e-5)
    err = np.abs(written.get_fdata() - original.get_fdata())
    if spatial_size == W:
        assert err.max() < 0.05  # float32 rounding of 1000-unit values
    else:
        assert err.mean() < 10 and err.max() < 60  # resampling of a smooth picture, range 1000


@pytest.mark.parametrize("spatial_size", [W, 64])
def test_dicom_round_trip_gives_a_derived_dicom(tmp_path, picture, spatial_size):
    src = write_dicom(
        tmp_path / "cxr.dcm",
        picture,
        modality="CR",
        bits_stored=12,
        photometric="MONOCHROME1",
        pixel_spacing=(0.15, 0.18),
        patient_id="PAT-0042",
        study_uid="1.2.826.0.1.3680043.8.498.4242",
    )
    out = run(src, tmp_path / "out", spatial_size=spatial_size)
    assert Path(out["pred_path"]) == tmp_path / "out" / "cxr_gen.dcm"
    source, derived = pydicom.dcmread(src), pydicom.dcmread(out["pred_path"])
    for keyword in ("PatientID", "StudyInstanceUID", "PhotometricInterpretation", "PixelSpacing", "BitsStored"):
        assert derived.get(keyword) == source.get(keyword), keyword
    assert (derived.Rows, derived.Columns) == (H, W)
    assert derived.SOPInstanceUID != source.SOPInstanceUID
    assert derived.DerivationDescription and list(derived.ImageType)[0] == "DERIVED"
    # MONOCHROME1 is stored inverted, and decodes back to the same bright-is-dense picture
    assert np.corrcoef(derived.pixel_array.ravel(), source.pixel_array.ravel())[0, 1] > 0.99
    again = LoadXRay()(out["pred_path"])
    assert again.meta[XRayMeta.PHOTOMETRIC] == "MONOCHROME1"
    err = (again - LoadXRay()(src)).abs()
    if spatial_size == W:
        assert float(err.max()) <= 1.5 / 4095
    else:
        assert float(err.mean()) < 0.02 and float(err.max()) < 0.06


def test_saver_needs_the_input_metadata(tmp_path):
    with pytest.raises(ValueError, match="Invertd"):
        SaveXRayd(keys="pred", output_dir=tmp_path)({"pred": torch.zeros(1, 8, 8)})


def test_output_folder_that_is_a_file_is_one_line(tmp_path):
    (tmp_path / "out").write_text("x")
    with pytest.raises(OutputWriteError, match="out: is a file, but config `output_dir` must name a folder"):
        SaveXRayd(keys="pred", output_dir=tmp_path / "out")


def test_unwritable_output_is_one_line_naming_the_input(tmp_path, picture, monkeypatch):
    # a folder that becomes read-only (or a disk that fills) after the start; root may write anywhere, so the
    # failing write is simulated
    src = write_png(tmp_path / "cxr.png", picture, bits=8)

    def refuse(path, *args, **kwargs):
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(xray_io, "write_png", refuse)
    with pytest.raises(RuntimeError) as err:  # MONAI's Compose wraps it; the bundle's error hook prints it
        run(src, tmp_path / "out", spatial_size=W)
    message = str(find_user_error(err.value))
    assert isinstance(find_user_error(err.value), OutputWriteError), err.value
    assert "cxr_gen.png: cannot write the output of" in message and "cxr.png (Permission denied)" in message


def test_model_range_is_invertible():
    img = torch.rand(1, 7, 5)
    fwd = XRayToModelRange()
    out = fwd(img)
    assert float(out.min()) >= -1 and float(out.max()) <= 1
    torch.testing.assert_close(out.as_tensor(), img * 2 - 1)
    torch.testing.assert_close(fwd.inverse(out).as_tensor(), img)
    to_255 = XRayToModelRanged(keys="x", out_range=(0, 255))
    data = to_255({"x": img})
    torch.testing.assert_close(data["x"].as_tensor(), img * 255)
    torch.testing.assert_close(to_255.inverse(data)["x"].as_tensor(), img)
    with pytest.raises(ValueError, match="out_range"):
        XRayToModelRange(out_range=(1, -1))
