"""Tests of the CT volume writers (monai_xrgan.io.ct): NIfTI and DICOM CT series."""

from __future__ import annotations

import datetime

import nibabel as nib
import numpy as np
import pydicom
import pytest
from pydicom.pixels import apply_modality_lut

from monai_xrgan.demo.ct_phantoms import phantom_affine, synthetic_ct
from monai_xrgan.io.ct import CT_IMAGE_STORAGE, write_ct_dicom_series, write_ct_nifti
from monai_xrgan.utils.errors import ConfigError

SHAPE = (40, 36, 32)
WHEN = datetime.datetime(2020, 3, 1, 9, 30, 0)


@pytest.fixture(scope="module")
def phantom() -> tuple[np.ndarray, np.ndarray]:
    volume, info = synthetic_ct(0, SHAPE, return_info=True, spacing=(10.0, 11.0, 12.5))
    return volume, info["affine"]


def _rotated_affine(degrees: float) -> np.ndarray:
    """An oblique but orthogonal affine: the phantom's, turned about the cranio-caudal axis."""
    t = np.radians(degrees)
    rot = np.eye(4)
    rot[:2, :2] = [[np.cos(t), -np.sin(t)], [np.sin(t), np.cos(t)]]
    return rot @ phantom_affine(SHAPE, (10.0, 11.0, 12.5))


@pytest.mark.parametrize("dtype", [np.int16, np.float32])
def test_nifti_round_trip(tmp_path, phantom, dtype):
    volume, affine = phantom
    path = write_ct_nifti(tmp_path / "sub" / "ct.nii.gz", volume, affine, dtype=dtype)
    image = nib.load(path)
    expected = np.round(volume) if dtype == np.int16 else volume
    np.testing.assert_allclose(image.get_fdata(), expected, atol=1e-3)
    np.testing.assert_allclose(image.affine, affine, atol=1e-5)
    assert image.get_data_dtype() == dtype
    assert int(image.header["sform_code"]) == 1 and int(image.header["qform_code"]) == 1
    assert image.header.get_xyzt_units()[0] == "mm"


def test_dicom_series_is_valid_ct_and_decodes_to_hu(tmp_path, phantom):
    volume, affine = phantom
    paths = write_ct_dicom_series(tmp_path / "series", volume, affine, uid_seed="case-1", acquisition_time=WHEN)
    assert len(paths) == SHAPE[2]
    datasets = [pydicom.dcmread(p) for p in paths]
    shared = ("StudyInstanceUID", "SeriesInstanceUID", "FrameOfReferenceUID", "PatientID", "StudyDate")
    for key in shared:
        assert len({str(ds.data_element(key).value) for ds in datasets}) == 1, key
    assert len({ds.SOPInstanceUID for ds in datasets}) == len(datasets)
    spacing = (10.0, 11.0, 12.5)
    for k, ds in enumerate(datasets):
        assert ds.SOPClassUID == CT_IMAGE_STORAGE == ds.file_meta.MediaStorageSOPClassUID
        assert ds.Modality == "CT" and ds.InstanceNumber == k + 1
        assert (ds.Rows, ds.Columns) == (SHAPE[1], SHAPE[0])
        np.testing.assert_allclose([float(v) for v in ds.ImageOrientationPatient], [1, 0, 0, 0, 1, 0])
        np.testing.assert_allclose([float(v) for v in ds.PixelSpacing], [spacing[1], spacing[0]])
        assert float(ds.SliceThickness) == spacing[2]
        lps = np.diag([-1.0, -1.0, 1.0, 1.0]) @ affine @ np.array([0.0, 0.0, k, 1.0])
        np.testing.assert_allclose([float(v) for v in ds.ImagePositionPatient], lps[:3], atol=1e-4)
        assert ds.pixel_array.dtype == np.int16 and ds.PixelRepresentation == 1
        hu = apply_modality_lut(ds.pixel_array, ds)
        np.testing.assert_allclose(hu, volume[:, :, k].T, atol=0.51)  # rows run along Y, columns along X
    assert datasets[0].StudyDate == "20200301" and datasets[0].StudyTime == "093000"


def test_dicom_series_is_deterministic_when_asked(tmp_path, phantom):
    volume, affine = phantom
    first = write_ct_dicom_series(tmp_path / "a", volume, affine, uid_seed="x", acquisition_time=WHEN)
    second = write_ct_dicom_series(tmp_path / "b", volume, affine, uid_seed="x", acquisition_time=WHEN)
    assert all(p.read_bytes() == q.read_bytes() for p, q in zip(first, second))
    other = write_ct_dicom_series(tmp_path / "c", volume, affine, acquisition_time=WHEN)
    assert pydicom.dcmread(other[0]).SeriesInstanceUID != pydicom.dcmread(first[0]).SeriesInstanceUID


def test_unsigned_storage_and_rescale(tmp_path):
    volume = np.linspace(-1500.0, 2000.0, 8 * 8 * 4, dtype=np.float32).reshape(8, 8, 4)
    paths = write_ct_dicom_series(
        tmp_path, volume, np.diag([-2.0, -2.0, 3.0, 1.0]), rescale=(0.5, -1024.0), signed=False, windows=()
    )
    ds = pydicom.dcmread(paths[1])
    assert ds.PixelRepresentation == 0 and ds.pixel_array.dtype == np.uint16 and "WindowCenter" not in ds
    hu = apply_modality_lut(ds.pixel_array, ds)
    np.testing.assert_allclose(hu, np.maximum(volume[:, :, 1], -1024.0).T, atol=0.26)  # below the intercept: clipped


def test_oblique_series_keeps_the_affine(tmp_path, phantom):
    from monai.data import PydicomReader
    from monai.transforms import LoadImage

    volume, _ = phantom
    affine = _rotated_affine(20.0)
    write_ct_dicom_series(tmp_path, volume, affine)
    loaded = LoadImage(reader=PydicomReader(), image_only=True)(str(tmp_path))
    np.testing.assert_allclose(np.asarray(loaded.affine), affine, atol=1e-3)
    np.testing.assert_allclose(np.asarray(loaded), np.round(volume), atol=1.0)


def test_bad_inputs_raise_config_errors(tmp_path, phantom):
    volume, affine = phantom
    sheared = affine.copy()
    sheared[0, 2] = 5.0
    with pytest.raises(ConfigError, match="not an axial stack"):
        write_ct_dicom_series(tmp_path / "s", volume, sheared)
    with pytest.raises(ConfigError, match=r"shape \(X, Y, Z\)"):
        write_ct_nifti(tmp_path / "x.nii.gz", volume[:, :, 0], affine)
    bad = volume.copy()
    bad[0, 0, 0] = np.nan
    with pytest.raises(ConfigError, match="NaN"):
        write_ct_dicom_series(tmp_path / "n", bad, affine)
    with pytest.raises(ConfigError, match="affine"):
        write_ct_nifti(tmp_path / "x.nii.gz", volume, np.zeros((4, 4)))
    with pytest.raises(ConfigError, match="dtype"):
        write_ct_nifti(tmp_path / "x.nii.gz", volume, affine, dtype=np.uint8)
