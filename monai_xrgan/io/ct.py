"""Writers for CT volumes in Hounsfield units: NIfTI (with the affine) and DICOM series (CT Image Storage).

Reading goes through :class:`monai.transforms.LoadImage` (see :mod:`monai_xrgan.transforms.ct`); this module
writes, and lists the CT volumes of a folder (:func:`ct_volumes_in_folder`). A volume is an ``(X, Y, Z)`` array of
HU with a ``4 x 4`` RAS affine (voxel index -> world mm), MONAI's and NIfTI's convention; a DICOM series stores one
axial slice ``volume[:, :, k]`` per file, so that both files load back to the same array and affine.
"""

from __future__ import annotations

import datetime
import os
from collections.abc import Sequence
from pathlib import Path

import nibabel as nib
import numpy as np
from pydicom.uid import generate_uid
from pydicom.valuerep import DSfloat

from monai_xrgan.io.dicom import new_dataset
from monai_xrgan.utils.errors import ConfigError, MissingInputError

__all__ = ["CT_IMAGE_STORAGE", "ct_volumes_in_folder", "write_ct_nifti", "write_ct_dicom_series"]

#: SOP class UID of CT Image Storage
CT_IMAGE_STORAGE = "1.2.840.10008.5.1.4.1.1.2"
#: RAS (NIfTI, MONAI) <-> LPS (DICOM) world coordinates
_RAS_TO_LPS = np.diag([-1.0, -1.0, 1.0, 1.0])


def _is_dicom(path: Path) -> bool:
    return path.is_file() and path.name.lower().endswith((".dcm", ".dicom"))


def ct_volumes_in_folder(folder: str | os.PathLike, key: str = "image") -> list[dict[str, str]]:
    """Items ``{key: path}`` for the CT volumes of ``folder`` (sorted): its NIfTI files and its sub-folders holding
    a DICOM series (``.dcm`` files), or the folder itself when it holds the ``.dcm`` files of one series."""
    root = Path(folder)
    if not root.is_dir():
        raise MissingInputError(f"{root}: input folder not found; set `input_dir` to a folder of CT volumes.")
    if any(_is_dicom(f) for f in root.iterdir()):
        return [{key: str(root)}]
    nifti = (".nii", ".nii.gz")
    volumes = [
        f
        for f in sorted(root.iterdir())
        if (f.is_file() and f.name.lower().endswith(nifti)) or (f.is_dir() and any(map(_is_dicom, f.iterdir())))
    ]
    if not volumes:
        raise MissingInputError(f"{root}: no CT volumes (.nii, .nii.gz files or DICOM series folders) in this folder.")
    return [{key: str(f)} for f in volumes]


def _check_volume(volume: np.ndarray, affine: np.ndarray, where: os.PathLike | str) -> tuple[np.ndarray, np.ndarray]:
    volume = np.asarray(volume)
    affine = np.asarray(affine, dtype=np.float64)
    if volume.ndim != 3 or min(volume.shape) < 1:
        raise ConfigError(f"{where}: expected a CT volume of shape (X, Y, Z), got an array of shape {volume.shape}.")
    if not np.isfinite(volume).all():
        raise ConfigError(f"{where}: the volume to write contains NaN or infinite values.")
    if affine.shape != (4, 4) or not np.isfinite(affine).all() or abs(np.linalg.det(affine[:3, :3])) < 1e-9:
        raise ConfigError(f"{where}: the affine must be a finite, invertible 4 x 4 matrix, got {affine.tolist()}.")
    return volume, affine


def write_ct_nifti(
    path: os.PathLike | str, volume: np.ndarray, affine: np.ndarray, dtype: np.dtype | type = np.int16
) -> Path:
    """Write a HU volume as NIfTI-1 (``.nii`` or ``.nii.gz``) with ``affine`` as its sform and qform (scanner space).

    Args:
        path: output file, parent folders are created.
        volume: ``(X, Y, Z)`` array in HU.
        affine: ``4 x 4`` RAS affine.
        dtype: stored type: ``np.int16`` (HU rounded, clipped to the int16 range) or a float type.
    """
    path = Path(path)
    volume, affine = _check_volume(volume, affine, path)
    dtype = np.dtype(dtype)
    if dtype.kind == "i":
        info = np.iinfo(dtype)
        data = np.clip(np.round(volume), info.min, info.max).astype(dtype)
    elif dtype.kind == "f":
        data = volume.astype(dtype)
    else:
        raise ConfigError(f"{path}: dtype must be a signed integer or float type, got {dtype}.")
    image = nib.Nifti1Image(data, affine)
    image.set_sform(affine, code="scanner")
    image.set_qform(affine, code="scanner")
    image.header.set_xyzt_units("mm")
    path.parent.mkdir(parents=True, exist_ok=True)
    nib.save(image, path)
    return path


def _ds(value: float) -> DSfloat:
    """A decimal string that fits DICOM's 16-character limit."""
    return DSfloat(float(value), auto_format=True)


def write_ct_dicom_series(
    folder: os.PathLike | str,
    volume: np.ndarray,
    affine: np.ndarray,
    *,
    rescale: tuple[float, float] = (1.0, -1024.0),
    signed: bool = True,
    patient_id: str = "XRGAN-DEMO",
    patient_name: str = "Demo^Phantom",
    study_description: str = "monai_xrgan phantom",
    series_description: str = "",
    series_number: int = 1,
    uid_seed: str | None = None,
    acquisition_time: datetime.datetime | None = None,
    windows: Sequence[tuple[float, float]] = ((-600.0, 1500.0), (40.0, 400.0)),
) -> list[Path]:
    """Write a HU volume as a DICOM series of axial CT Image Storage objects, one file per slice ``volume[:, :, k]``.

    Each file carries ImagePositionPatient/ImageOrientationPatient (from the affine, in DICOM's LPS space),
    PixelSpacing, SliceThickness, SliceLocation and InstanceNumber ``k + 1``; stored values are 16-bit integers with
    ``HU = stored * RescaleSlope + RescaleIntercept`` (clipped to the stored range). All slices share the study,
    series and frame-of-reference UIDs.

    Args:
        folder: output folder (created); files are ``IM00001.dcm``, ``IM00002.dcm``...
        volume: ``(X, Y, Z)`` array in HU; rows of a stored slice run along ``Y``, columns along ``X``.
        affine: ``4 x 4`` RAS affine; its third column must be perpendicular to the first two (an axial stack).
        rescale: ``(RescaleSlope, RescaleIntercept)``.
        signed: store int16 (PixelRepresentation 1) rather than uint16.
        patient_id, patient_name, study_description, series_description, series_number: identifiers.
        uid_seed: when given, every UID is derived from it (same seed, same UIDs); default fresh random UIDs.
        acquisition_time: study/series/content date and time, default now; give it with ``uid_seed`` for
            byte-identical files across runs.
        windows: VOI windows ``(centre, width)`` offered to viewers (default lung, then soft tissue).

    Returns:
        the written files, in slice order.
    """
    folder = Path(folder)
    volume, affine = _check_volume(volume, affine, folder)
    slope, intercept = (float(v) for v in rescale)
    if slope <= 0:
        raise ConfigError(f"{folder}: RescaleSlope must be > 0, got {slope}.")
    lps = _RAS_TO_LPS @ affine
    col_step, row_step, slice_step = (lps[:3, a] for a in range(3))  # along X (a row), along Y, along Z
    col_spacing, row_spacing, thickness = (float(np.linalg.norm(v)) for v in (col_step, row_step, slice_step))
    row_cosines, col_cosines = col_step / col_spacing, row_step / row_spacing
    normal = np.cross(row_cosines, col_cosines)
    if abs(float(row_cosines @ col_cosines)) > 1e-4 or abs(abs(float(normal @ slice_step)) / thickness - 1) > 1e-4:
        raise ConfigError(
            f"{folder}: the affine is not an axial stack of orthogonal slices ({affine.tolist()}); resample the "
            "volume to an orthogonal grid before writing a DICOM series."
        )
    dtype = np.int16 if signed else np.uint16
    info = np.iinfo(dtype)
    stored = np.clip(np.round((volume - intercept) / slope), info.min, info.max).astype(dtype)

    def uid(*parts: str) -> str:
        if uid_seed is None:
            return generate_uid()
        return generate_uid(entropy_srcs=["monai_xrgan ct", uid_seed, *parts])

    study_uid, series_uid, frame_uid = uid("study"), uid("series"), uid("frame of reference")
    when = acquisition_time or datetime.datetime.now()
    date, time = when.strftime("%Y%m%d"), when.strftime("%H%M%S")
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for k in range(volume.shape[2]):
        position = lps[:3, 3] + k * slice_step
        sop_uid = uid("image", str(k))
        ds = new_dataset(CT_IMAGE_STORAGE, sop_uid)
        ds.SpecificCharacterSet = "ISO_IR 100"
        # patient, study, series, frame of reference, equipment
        ds.PatientName, ds.PatientID, ds.PatientBirthDate, ds.PatientSex = patient_name, patient_id, "", ""
        ds.StudyInstanceUID, ds.StudyDate, ds.StudyTime, ds.StudyID = study_uid, date, time, "1"
        ds.ReferringPhysicianName, ds.AccessionNumber, ds.StudyDescription = "", "", study_description
        ds.Modality, ds.SeriesInstanceUID, ds.SeriesNumber = "CT", series_uid, int(series_number)
        ds.SeriesDate, ds.SeriesTime, ds.SeriesDescription = date, time, series_description
        ds.PatientPosition, ds.BodyPartExamined = "HFS", "CHEST"
        ds.FrameOfReferenceUID, ds.PositionReferenceIndicator = frame_uid, ""
        ds.Manufacturer = "monai_xrgan"
        # image: general, plane, pixel, CT image, VOI LUT
        ds.ImageType = ["ORIGINAL", "PRIMARY", "AXIAL"]
        ds.InstanceNumber, ds.AcquisitionNumber = k + 1, 1
        ds.ContentDate, ds.ContentTime, ds.AcquisitionDate, ds.AcquisitionTime = date, time, date, time
        ds.ImagePositionPatient = [_ds(v) for v in position]
        ds.ImageOrientationPatient = [_ds(v) for v in (*row_cosines, *col_cosines)]
        ds.PixelSpacing = [_ds(row_spacing), _ds(col_spacing)]
        ds.SliceThickness, ds.SpacingBetweenSlices = _ds(thickness), _ds(thickness)
        ds.SliceLocation = _ds(float(position @ normal))
        ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
        ds.Rows, ds.Columns = int(volume.shape[1]), int(volume.shape[0])
        ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 16, 15, int(signed)
        ds.RescaleSlope, ds.RescaleIntercept, ds.RescaleType = _ds(slope), _ds(intercept), "HU"
        ds.KVP = _ds(120.0)
        if windows:
            ds.WindowCenter = [_ds(c) for c, _ in windows]
            ds.WindowWidth = [_ds(w) for _, w in windows]
        ds.PixelData = np.ascontiguousarray(stored[:, :, k].T).tobytes()  # rows along Y, columns along X
        path = folder / f"IM{k + 1:05d}.dcm"
        ds.save_as(path, enforce_file_format=True)
        paths.append(path)
    return paths
