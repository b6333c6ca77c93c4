"""Loading real DICOM files: pydicom's own test files and the ``pydicom-data`` package (test extra), never downloaded.

Each test skips only when the file is absent (``pydicom-data`` not installed).
"""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

import numpy as np
import pydicom
import pytest
from pydicom.pixels import apply_modality_lut, apply_voi_lut
from pydicom.uid import generate_uid

from monai_xrgan.transforms import LoadCT, LoadXRay
from monai_xrgan.utils.errors import InputFileError


def real_file(name: str) -> str:
    """Path of a pydicom test file, from pydicom itself or pydicom-data; skip when it is not installed."""
    from pydicom.data import get_testdata_file

    path = get_testdata_file(name, download=False)
    if path is None:
        pytest.skip(f"{name} is in pydicom-data, which is not installed (pip install pydicom-data)")
    return str(path)


def dicomdir_cr() -> str:
    """The 16 x 16 MONOCHROME1 CR with rescale slope/intercept and a VOI window shipped with pydicom."""
    from pydicom.data import get_testdata_file

    path = get_testdata_file("6154", download=False)  # dicomdirtests/77654033/CR1/6154
    if path is None or "CR1" not in str(path):
        pytest.skip("pydicom's dicomdirtests CR file is not available in this pydicom version")
    return str(path)


def minmax(a: np.ndarray) -> np.ndarray:
    a = np.asarray(a, dtype=np.float64)
    return (a - a.min()) / (a.max() - a.min())


def displayed(path: str) -> np.ndarray:
    """What pydicom displays: modality LUT then VOI LUT, rows first."""
    ds = pydicom.dcmread(path)
    return apply_voi_lut(apply_modality_lut(ds.pixel_array, ds), ds)


def series_of(tmp_path: Path, source: str, copies: int = 3) -> Path:
    """A CT series folder: ``copies`` of one real slice, ``SliceThickness`` apart (what LoadCT needs: >= 2 slices)."""
    folder = tmp_path / "series"
    folder.mkdir(parents=True)
    series = generate_uid()
    for k in range(copies):
        ds = pydicom.dcmread(source)
        thickness = float(ds.get("SliceThickness", 1.0) or 1.0)
        x, y, z = (float(v) for v in ds.ImagePositionPatient)
        ds.ImagePositionPatient = [x, y, z + k * thickness]
        ds.InstanceNumber, ds.SeriesInstanceUID = k + 1, series
        ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
        ds.save_as(folder / f"IM{k:03d}.dcm")
    return folder


# --- CT in Hounsfield units -------------------------------------------------------------------------------------


def test_ct_small_lung_in_hu(tmp_path):
    """CT_small.dcm (RescaleIntercept -1024): its lung is about -850 HU, its soft tissue about 0 HU.

    This crop holds no air outside the body (its lowest value is -896 HU): air is checked on 693_UNCR.dcm below.
    """
    path = real_file("CT_small.dcm")
    assert float(pydicom.dcmread(path).RescaleIntercept) == -1024
    volume = LoadCT()(series_of(tmp_path, path))
    hu = volume[0, :, :, 0].numpy()
    np.testing.assert_allclose(
        np.sort(hu.ravel()),
        np.sort(apply_modality_lut(pydicom.dcmread(path).pixel_array, pydicom.dcmread(path)).ravel()),
    )
    lung = hu[hu < -500]
    assert lung.size > 0.2 * hu.size
    assert -880 < np.median(lung) < -780, np.median(lung)
    tissue = hu[(hu > -200) & (hu < 200)]
    assert abs(float(np.median(tissue))) < 60


def test_ct_air_in_hu(tmp_path):
    """693_UNCR.dcm (pydicom-data): air inside the field of view is -1000 HU (the -3024 HU outside it is padding)."""
    volume = LoadCT()(series_of(tmp_path, real_file("693_UNCR.dcm"), copies=2))
    hu = volume[0, :, :, 0].numpy()
    air = hu[(hu > -1100) & (hu < -900)]
    assert air.size > 0.05 * hu.size
    assert abs(float(np.median(air)) + 1000) < 25, np.median(air)


def test_ct_jpeg2000_lossless_equals_uncompressed(tmp_path):
    a = LoadCT()(series_of(tmp_path / "a", real_file("693_UNCR.dcm"), copies=2))
    b = LoadCT()(series_of(tmp_path / "b", real_file("693_J2KR.dcm"), copies=2))
    np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_ct_bundle_refuses_a_radiograph(tmp_path):
    cr = real_file("RG1_UNCR.dcm")
    with pytest.raises(InputFileError, match=r"RG1_UNCR\.dcm: is a CR radiograph .*2-D X-ray bundle") as err:
        LoadCT()(cr)
    assert "\n" not in str(err.value)
    folder = tmp_path / "crs"
    folder.mkdir()
    shutil.copy(dicomdir_cr(), folder / "a.dcm")
    with pytest.raises(InputFileError, match=r"a\.dcm: is a CR radiograph"):
        LoadCT()(folder)


# --- radiographs -------------------------------------------------------------------------------------------------


def test_cr_jpeg2000_lossless_equals_uncompressed():
    """RG1: a real 1955 x 1841 15-bit MONOCHROME1 CR chest radiograph, uncompressed and JPEG 2000 lossless."""
    a, b = LoadXRay()(real_file("RG1_UNCR.dcm")), LoadXRay()(real_file("RG1_J2KR.dcm"))
    assert a.shape == (1, 1841, 1955)
    np.testing.assert_array_equal(a.numpy(), b.numpy())


@pytest.mark.parametrize("source", ["dicomdir", "RG1_UNCR.dcm"])
def test_monochrome1_is_inverted(source):
    """MONOCHROME1 (0 is white): after the modality and VOI LUTs, bright must become dense (the values reversed)."""
    path = dicomdir_cr() if source == "dicomdir" else real_file(source)
    ds = pydicom.dcmread(path, stop_before_pixels=True)
    assert ds.PhotometricInterpretation == "MONOCHROME1"
    out = LoadXRay()(path)[0].numpy().T  # (X, Y) -> rows first
    np.testing.assert_allclose(out, 1.0 - minmax(displayed(path)), atol=1e-5)


@pytest.mark.parametrize("name", ["mlut_18.dcm", "vlut_04.dcm"])
def test_lut_sequences_match_pydicom(name):
    """Modality LUT sequence (mlut_18) and VOI LUT sequence (vlut_04) give what pydicom's apply_*_lut give."""
    path = real_file(name)
    ds = pydicom.dcmread(path, stop_before_pixels=True)
    assert ("ModalityLUTSequence" if name.startswith("m") else "VOILUTSequence") in ds
    out = LoadXRay()(path)[0].numpy().T
    np.testing.assert_allclose(out, minmax(displayed(path)), atol=1e-5)
    no_voi = LoadXRay(apply_voi=False)(path)[0].numpy().T
    np.testing.assert_allclose(no_voi, minmax(apply_modality_lut(pydicom.dcmread(path).pixel_array, ds)), atol=1e-5)


def test_multiframe_mr_refused_in_one_line():
    path = real_file("emri_small.dcm")  # enhanced MR, 10 frames
    with pytest.raises(InputFileError) as err:
        LoadXRay()(path)
    msg = str(err.value)
    assert "\n" not in msg and msg.startswith(path)
    assert "an MR image" in msg and "multi-frame DICOM with 10 frames" in msg and "allow_non_radiograph=True" in msg


def test_multiframe_accepted_with_override(caplog):
    path = real_file("emri_small.dcm")
    with caplog.at_level(logging.WARNING):
        img = LoadXRay(allow_non_radiograph=True)(path)
    assert img.shape == (1, 64, 64)
    first = pydicom.pixels.pixel_array(path, index=0)
    np.testing.assert_allclose(img[0].numpy().T, minmax(first), atol=1e-5)
    assert "used anyway (allow_non_radiograph=True), first frame" in caplog.text


@pytest.mark.parametrize("name, modality", [("MR_small.dcm", "MR"), ("CT_small.dcm", "CT")])
def test_other_modalities_refused(name, modality):
    path = real_file(name)
    with pytest.raises(
        InputFileError,
        match=rf"is an? {modality} image \(DICOM Modality {modality}, not one of "
        r"CR/DX/DR/RG/OT\).*allow_non_radiograph=True",
    ):
        LoadXRay()(path)
    assert LoadXRay(allow_non_radiograph=True)(path).shape[0] == 1
