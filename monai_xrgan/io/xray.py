"""Writers for 2-D radiographs: PNG (8/16-bit) and DICOM CR/DX objects, including derived images.

Reading goes through :class:`monai.transforms.LoadImage` (see :mod:`monai_xrgan.transforms.xray`);
this module only writes. Images handed to the writers are grey ``(H, W)`` arrays in ``[0, 1]``
where larger means denser (bones bright), the display convention of a MONOCHROME2 radiograph.
"""

from __future__ import annotations

import datetime
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PIL import Image
from pydicom.dataset import Dataset
from pydicom.uid import generate_uid
from pydicom.valuerep import DSfloat

from monai_xrgan.io.dicom import new_dataset

__all__ = ["write_png", "write_dicom", "SOP_CLASS_UIDS", "quantize"]

#: Storage SOP classes of the radiograph IODs we write.
SOP_CLASS_UIDS = {
    "CR": "1.2.840.10008.5.1.4.1.1.1",  # Computed Radiography Image Storage
    "DX": "1.2.840.10008.5.1.4.1.1.1.1",  # Digital X-Ray Image Storage - For Presentation
}

# attributes a derived image keeps from its source so it files under the same patient and study
_INHERITED_TAGS = (
    "PatientName",
    "PatientID",
    "PatientBirthDate",
    "PatientSex",
    "PatientAge",
    "StudyInstanceUID",
    "StudyID",
    "StudyDate",
    "StudyTime",
    "StudyDescription",
    "AccessionNumber",
    "ReferringPhysicianName",
    "BodyPartExamined",
    "ViewPosition",
    "PatientOrientation",
    "Laterality",
    "ImageLaterality",
    "PixelSpacing",
    "ImagerPixelSpacing",
)


def quantize(image: np.ndarray, bits: int) -> np.ndarray:
    """Map a ``[0, 1]`` float image to unsigned integers of ``bits`` bits (clipping outside the range)."""
    if not 1 <= bits <= 16:
        raise ValueError(f"bits must be in [1, 16], got {bits}.")
    max_value = (1 << bits) - 1
    dtype = np.uint8 if bits <= 8 else np.uint16
    return np.round(np.clip(image, 0.0, 1.0) * max_value).astype(dtype)


def _ds(value: float) -> DSfloat:
    """A decimal string value that fits DICOM's 16-character limit."""
    return DSfloat(float(value), auto_format=True)


def _check_grey_2d(image: np.ndarray, path: os.PathLike | str) -> np.ndarray:
    image = np.asarray(image, dtype=np.float64)
    if image.ndim != 2:
        raise ValueError(f"{path}: expected a grey 2-D image (H, W), got an array of shape {image.shape}.")
    if not np.isfinite(image).all():
        raise ValueError(f"{path}: the image to write contains NaN or infinite values.")
    return image


def write_png(path: os.PathLike | str, image: np.ndarray, bits: int = 8) -> Path:
    """Write a grey ``[0, 1]`` image as an 8- or 16-bit PNG.

    Args:
        path: output file, parent folders are created.
        image: ``(H, W)`` array, rows first (the orientation a viewer shows).
        bits: 8 or 16.
    """
    if bits not in (8, 16):
        raise ValueError(f"PNG bits must be 8 or 16, got {bits}.")
    path = Path(path)
    image = _check_grey_2d(image, path)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(quantize(image, bits)).save(path)
    return path


def write_dicom(
    path: os.PathLike | str,
    image: np.ndarray,
    *,
    modality: str = "CR",
    bits_stored: int = 12,
    photometric: str = "MONOCHROME2",
    rescale: tuple[float, float] | None = None,
    window: tuple[float, float] | None = None,
    pixel_spacing: Sequence[float] | None = None,
    source: Dataset | None = None,
    derivation: str | None = None,
    patient_id: str = "XRGAN-DEMO",
    patient_name: str = "Demo^Phantom",
    study_uid: str | None = None,
    series_uid: str | None = None,
    instance_number: int = 1,
    series_description: str = "",
    sop_instance_uid: str | None = None,
    content_time: datetime.datetime | None = None,
) -> Path:
    """Write a grey ``[0, 1]`` image as a valid DICOM CR or DX (for presentation) object.

    Stored pixels are ``round(image * (2**bits_stored - 1))``, inverted for MONOCHROME1, so that
    decoding (modality LUT, VOI LUT, MONOCHROME1 inversion, min-max scaling) gives ``image`` back.

    Args:
        path: output file, parent folders are created.
        image: ``(H, W)`` array in ``[0, 1]``, rows first.
        modality: ``"CR"`` or ``"DX"``.
        bits_stored: 8 to 16; 8 is stored in 8-bit words, more in 16-bit words.
        photometric: ``"MONOCHROME2"`` (0 is black) or ``"MONOCHROME1"`` (0 is white).
        rescale: optional ``(slope, intercept)`` of the modality LUT (CR only; DX for presentation
            requires the identity).
        window: optional VOI window ``(centre, width)`` in modality units.
        pixel_spacing: row and column spacing in mm; default the source's spacing for a derived image, else 0.2.
        source: when given, the new image is *derived* from this dataset: it keeps the source's
            patient and study identifiers, body part, view and pixel spacing, gets a new series and
            SOP instance UID, and ``ImageType`` ``DERIVED\\SECONDARY``.
        derivation: ``DerivationDescription`` of a derived image.
        patient_id, patient_name, study_uid, series_uid, instance_number, series_description:
            identifiers of a new (non-derived) image.
        sop_instance_uid: UID of the new object, default a fresh random UID.
        content_time: content (and, for a new image, study) date and time, default now; give both of these for
            byte-identical files across runs.
    """
    path = Path(path)
    image = _check_grey_2d(image, path)
    modality = modality.upper()
    if modality not in SOP_CLASS_UIDS:
        raise ValueError(f"{path}: modality must be one of {sorted(SOP_CLASS_UIDS)}, got {modality!r}.")
    if photometric not in ("MONOCHROME1", "MONOCHROME2"):
        raise ValueError(f"{path}: photometric must be MONOCHROME1 or MONOCHROME2, got {photometric!r}.")
    if not 8 <= bits_stored <= 16:
        raise ValueError(f"{path}: bits_stored must be in [8, 16], got {bits_stored}.")
    if modality == "DX" and rescale is not None and tuple(float(v) for v in rescale) != (1.0, 0.0):
        raise ValueError(f"{path}: DX for presentation requires an identity rescale; use modality='CR'.")

    stored = quantize(image, bits_stored)
    if photometric == "MONOCHROME1":
        stored = ((1 << bits_stored) - 1 - stored).astype(stored.dtype)
    if bits_stored > 8:
        stored = stored.astype(np.uint16)

    sop_class = SOP_CLASS_UIDS[modality]
    sop_instance = sop_instance_uid or generate_uid()
    ds = new_dataset(sop_class, sop_instance)
    now = content_time or datetime.datetime.now()
    ds.Modality = modality
    ds.ContentDate = now.strftime("%Y%m%d")
    ds.ContentTime = now.strftime("%H%M%S")
    if source is not None:
        for keyword in _INHERITED_TAGS:
            if keyword in source:
                setattr(ds, keyword, source.data_element(keyword).value)
        ds.ImageType = ["DERIVED", "SECONDARY"]
        ds.DerivationDescription = (derivation or "generated by monai_xrgan")[:1024]
        ds.SeriesDescription = (series_description or f"{source.get('SeriesDescription', '')} monai_xrgan").strip()
        if "SOPInstanceUID" in source:
            ref = Dataset()
            ref.ReferencedSOPClassUID = source.get("SOPClassUID", sop_class)
            ref.ReferencedSOPInstanceUID = source.SOPInstanceUID
            ds.SourceImageSequence = [ref]
    else:
        ds.PatientName = patient_name
        ds.PatientID = patient_id
        ds.PatientBirthDate = ""
        ds.PatientSex = ""
        ds.StudyDate = ds.ContentDate
        ds.StudyTime = ds.ContentTime
        ds.StudyID = "1"
        ds.AccessionNumber = ""
        ds.ReferringPhysicianName = ""
        ds.BodyPartExamined = "CHEST"
        ds.ViewPosition = "PA"
        ds.ImageType = ["ORIGINAL", "PRIMARY"]
        ds.SeriesDescription = series_description
    for keyword, default in (
        ("StudyInstanceUID", study_uid or generate_uid()),
        ("PatientOrientation", ["L", "F"]),
        ("PatientName", ""),
        ("PatientID", ""),
        ("StudyDate", ""),
        ("StudyTime", ""),
        ("StudyID", ""),
        ("AccessionNumber", ""),
        ("ReferringPhysicianName", ""),
        ("PatientBirthDate", ""),
        ("PatientSex", ""),
    ):
        if keyword not in ds:
            setattr(ds, keyword, default)
    ds.SeriesInstanceUID = series_uid or generate_uid()
    ds.SeriesNumber = 1
    ds.InstanceNumber = instance_number
    ds.Manufacturer = "monai_xrgan"

    # Image Pixel module
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = photometric
    ds.Rows, ds.Columns = (int(s) for s in stored.shape)
    ds.BitsAllocated = 8 if bits_stored == 8 else 16
    ds.BitsStored = bits_stored
    ds.HighBit = bits_stored - 1
    ds.PixelRepresentation = 0
    ds.PixelData = np.ascontiguousarray(stored).tobytes()
    if pixel_spacing is not None or "PixelSpacing" not in ds:
        spacing = pixel_spacing if pixel_spacing is not None else ds.get("ImagerPixelSpacing", (0.2, 0.2))
        ds.PixelSpacing = [_ds(v) for v in spacing]
    if modality == "DX":
        if "ImagerPixelSpacing" not in ds:
            ds.ImagerPixelSpacing = ds.PixelSpacing
        ds.PresentationIntentType = "FOR PRESENTATION"
        ds.PixelIntensityRelationship = "LIN"
        ds.PixelIntensityRelationshipSign = 1
        ds.RescaleSlope = 1
        ds.RescaleIntercept = 0
        ds.RescaleType = "US"
        ds.PresentationLUTShape = "INVERSE" if photometric == "MONOCHROME1" else "IDENTITY"
        ds.DetectorType = "DIRECT"
        ds.BurnedInAnnotation = "NO"
    elif rescale is not None:
        ds.RescaleSlope = _ds(rescale[0])
        ds.RescaleIntercept = _ds(rescale[1])
        ds.RescaleType = "US"
    if window is None and modality == "DX":
        window = ((1 << bits_stored) / 2, float(1 << bits_stored))  # DX requires a VOI window: the full range
    if window is not None:
        ds.WindowCenter = _ds(window[0])
        ds.WindowWidth = _ds(window[1])

    path.parent.mkdir(parents=True, exist_ok=True)
    ds.save_as(path, enforce_file_format=True)
    return path
