"""Loading and intensity normalisation of 2-D radiographs (PNG/JPEG, DICOM, NIfTI) as MONAI transforms.

Every format comes out the same way: a float32 :class:`~monai.data.MetaTensor` of shape ``(1, X, Y)``
(MONAI's spatial order, ``X`` runs along the image columns), min-max scaled to ``[0, 1]``, bright is dense.
The metadata keeps what is needed to write an output in the input's format (see :class:`XRayMeta`).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Hashable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pydicom
import torch
from monai.config import KeysCollection
from monai.data import MetaTensor, NibabelReader, PILReader, PydicomReader
from monai.data.meta_obj import get_track_meta
from monai.transforms import (
    Compose,
    InvertibleTransform,
    LoadImage,
    MapTransform,
    Resize,
    Resized,
    SpatialPadd,
    Transform,
)
from monai.utils import MetaKeys, TransformBackends, convert_to_dst_type, convert_to_tensor
from PIL import Image
from pydicom.pixels import apply_color_lut, apply_modality_lut, apply_voi_lut

from monai_xrgan.utils.errors import ConfigError, InputFileError, MissingInputError, one_line

__all__ = [
    "XRAY_MODALITIES",
    "XRayMeta",
    "XRayDicomReader",
    "AntialiasedResize",
    "AntialiasedResized",
    "LoadXRay",
    "LoadXRayd",
    "XRayToModelRange",
    "XRayToModelRanged",
    "XRayPreprocessd",
    "xray_format_of",
]

logger = logging.getLogger(__name__)

_PIL_FORMATS = {".png": "png", ".jpg": "jpeg", ".jpeg": "jpeg", ".bmp": "bmp", ".tif": "tiff", ".tiff": "tiff"}
_DICOM_SUFFIXES = (".dcm", ".dicom")
_LUMA = (0.299, 0.587, 0.114)  # ITU-R BT.601 weights, as PIL's convert("L")
#: DICOM modalities of projection radiographs (computed, digital, digital radiography, radiographic imaging, other)
XRAY_MODALITIES = ("CR", "DX", "DR", "RG", "OT")
_OVERRIDE = "allow_non_radiograph"  # the config key / argument that accepts other inputs with a warning


class XRayMeta:
    """Flat metadata keys that :class:`LoadXRay` adds to every image (same keys for every format, so batches collate).

    ``FORMAT``: ``"png"``, ``"jpeg"``, ``"bmp"``, ``"tiff"``, ``"dicom"`` or ``"nifti"``.
    ``BITS``: bit depth of the stored values (PNG 8/16, DICOM *BitsStored*, NIfTI *bitpix*).
    ``MIN``/``MAX``: intensity range of the decoded image before scaling to ``[0, 1]``, in file units
    (PNG pixel values, NIfTI voxel values, DICOM values after modality/VOI LUT and MONOCHROME1 inversion).
    ``PHOTOMETRIC``: DICOM *PhotometricInterpretation*; ``"MONOCHROME2"`` for grey files of other formats and
    the PIL mode (``"RGB"`` …) for colour ones.
    """

    FORMAT = "xray_format"
    BITS = "xray_bits"
    MIN = "xray_min"
    MAX = "xray_max"
    PHOTOMETRIC = "xray_photometric"


def _is_dicom_file(path: str) -> bool:
    if Path(path).suffix.lower() in _DICOM_SUFFIXES:
        return True
    try:
        return bool(pydicom.misc.is_dicom(path))
    except OSError:
        return False


def xray_format_of(path: os.PathLike | str) -> str | None:
    """Return the :attr:`XRayMeta.FORMAT` name of an existing file (``None`` when it is not a supported format).

    DICOM is recognised by its ``DICM`` preamble or a ``.dcm``/``.dicom`` suffix, the others by suffix.
    """
    name = f"{path}"
    if os.path.isfile(name) and _is_dicom_file(name):
        return "dicom"
    lower = name.lower()
    if lower.endswith((".nii", ".nii.gz")):
        return "nifti"
    return _PIL_FORMATS.get(Path(lower).suffix)


class XRayDicomReader(PydicomReader):
    """:class:`~monai.data.PydicomReader` for single-frame radiographs, decoded as a viewer displays them.

    Pixel values go through pydicom's Modality LUT (rescale slope/intercept or LUT sequence) and VOI LUT
    (window centre/width with *VOILUTFunction*, or VOI LUT sequence); MONOCHROME1 (or an INVERSE
    *PresentationLUTShape*) is inverted once so that bright is dense; PALETTE COLOR is expanded to RGB.
    The inversion reflects values inside the range the LUTs can produce, so the output range of a
    MONOCHROME1 file equals that of the same picture stored as MONOCHROME2.
    Files without *ImageOrientationPatient*/*ImagePositionPatient* (CR/DX) get an affine from *PixelSpacing*
    (or *ImagerPixelSpacing*) instead of MONAI's identity-affine warning.

    A file whose *Modality* is not one of :data:`XRAY_MODALITIES` (an MR or CT image) or that holds several frames
    is refused in one line, unless ``allow_non_radiograph`` accepts it with a warning (the first frame is used).

    Args:
        apply_voi: apply the VOI LUT / window of the file (the first one when there are several).
        prune_metadata: keep only the geometry tags in the metadata; by default all DICOM tags are kept.
        allow_non_radiograph: accept other modalities and multi-frame files (first frame) with a warning.
        kwargs: the other :class:`~monai.data.PydicomReader` arguments (``swap_ij`` stays ``True`` by default).
    """

    def __init__(
        self, apply_voi: bool = True, prune_metadata: bool = False, allow_non_radiograph: bool = False, **kwargs: Any
    ) -> None:
        super().__init__(prune_metadata=prune_metadata, **kwargs)
        self.apply_voi = apply_voi
        self.allow_non_radiograph = allow_non_radiograph

    def verify_suffix(self, filename: Sequence[os.PathLike] | os.PathLike) -> bool:
        """Return ``True`` only when every name is a DICOM file (``DICM`` preamble or ``.dcm``/``.dicom`` suffix)."""
        names = [f"{n}" for n in (filename if isinstance(filename, (list, tuple)) else [filename])]
        return bool(names) and all(_is_dicom_file(n) for n in names)

    def get_data(self, data: Any) -> tuple[np.ndarray, dict]:
        """Like :meth:`monai.data.PydicomReader.get_data`; colour samples of one file become a last channel axis."""
        img, meta = super().get_data(data)
        if len(self.filenames) == 1 and img.ndim == 3:  # (X, Y, samples): multi-frame files are refused
            meta[MetaKeys.SPATIAL_SHAPE] = tuple(meta[MetaKeys.SPATIAL_SHAPE][:2])
            meta[MetaKeys.ORIGINAL_CHANNEL_DIM] = -1
            meta["spacing"] = np.asarray(meta["spacing"])[:2]
        return img, meta

    def _get_array_data(self, img: pydicom.Dataset, filename: Any) -> np.ndarray:
        if self.to_gpu:
            raise ConfigError(f"{filename}: XRayDicomReader decodes on the CPU; use to_gpu=False.")
        if not any(tag in img for tag in ("PixelData", "FloatPixelData", "DoubleFloatPixelData")):
            if "SOPClassUID" not in img:
                raise InputFileError(
                    f"{filename}: corrupt DICOM, no image could be parsed after the DICM preamble; "
                    "re-export the image or remove it from the datalist."
                )
            raise InputFileError(
                f"{filename}: is a DICOM object without pixel data (SOP class {img.SOPClassUID}); "
                "remove it from the datalist."
            )
        self._check_radiograph(img, filename)
        frames = int(img.get("NumberOfFrames", 1) or 1)
        try:
            arr = img.pixel_array if frames == 1 else pydicom.pixels.pixel_array(img, index=0)
        except Exception as err:
            raise InputFileError(
                f"{filename}: corrupt DICOM, its pixel data cannot be decoded ({one_line(err)}); "
                "re-export the image or remove it from the datalist."
            ) from err
        photometric = str(img.get("PhotometricInterpretation", "MONOCHROME2")).upper()
        if photometric == "PALETTE COLOR":
            return np.asarray(apply_color_lut(arr, img), dtype=np.float32)
        if not photometric.startswith("MONOCHROME"):
            return np.asarray(arr, dtype=np.float32)  # colour: LoadXRay converts to grey
        arr = self._to_display(arr, img)
        inverse_lut = str(img.get("PresentationLUTShape", "")).upper() == "INVERSE"
        if photometric == "MONOCHROME1" or inverse_lut:  # DX pairs MONOCHROME1 with INVERSE: invert once
            lo, hi = self._display_range(img, arr)
            arr = lo + hi - arr
        return np.asarray(arr, dtype=np.float32)

    def _check_radiograph(self, img: pydicom.Dataset, filename: Any) -> None:
        """Refuse (or accept with a warning) a file that is not a single-frame projection radiograph."""
        modality = str(img.get("Modality", "OT") or "OT").upper()
        frames = int(img.get("NumberOfFrames", 1) or 1)
        problems = []
        if modality not in XRAY_MODALITIES:
            article = "an" if modality[:1] in "AEFHILMNORSX" else "a"  # as the letter is spoken: "an MR", "a CT"
            allowed = "/".join(XRAY_MODALITIES)
            problems.append(f"{article} {modality} image (DICOM Modality {modality}, not one of {allowed})")
        if frames > 1:
            problems.append(f"a multi-frame DICOM with {frames} frames")
        if not problems:
            return
        what = " and ".join(problems)
        if not self.allow_non_radiograph:
            raise InputFileError(
                f"{filename}: is {what}; this bundle needs a single-frame 2-D radiograph, remove it from the datalist "
                f"or set {_OVERRIDE}=True to use it anyway{' (first frame)' if frames > 1 else ''}."
            )
        logger.warning("%s: is %s; used anyway (%s=True)%s.", filename, what, _OVERRIDE, ", first frame" * (frames > 1))

    def _to_display(self, arr: np.ndarray, ds: pydicom.Dataset) -> np.ndarray:
        arr = apply_modality_lut(arr, ds)
        return apply_voi_lut(arr, ds) if self.apply_voi else arr

    def _display_range(self, ds: pydicom.Dataset, arr: np.ndarray) -> tuple[float, float]:
        """Smallest and largest value the LUTs produce over all storable values (the data range above 16 bits)."""
        bits = int(ds.get("BitsStored", 0) or 0)
        if not 1 <= bits <= 16:
            return float(arr.min()), float(arr.max())
        signed = int(ds.get("PixelRepresentation", 0) or 0) == 1
        first = -(1 << (bits - 1)) if signed else 0
        levels = self._to_display(np.arange(first, first + (1 << bits), dtype=np.int32), ds)
        return float(np.min(levels)), float(np.max(levels))

    def _get_meta_dict(self, img: pydicom.Dataset) -> dict:
        pixels = img.pop("PixelData", None)  # decoded already: spare its base64 JSON copy, which is dropped anyway
        try:
            meta = super()._get_meta_dict(img)
        finally:
            if pixels is not None:
                img["PixelData"] = pixels
        meta[XRayMeta.FORMAT] = "dicom"
        meta[XRayMeta.BITS] = int(img.get("BitsStored", 0) or img.get("BitsAllocated", 0) or 0)
        meta[XRayMeta.PHOTOMETRIC] = str(img.get("PhotometricInterpretation", "MONOCHROME2")).upper()
        # radiographs carry no patient geometry: keep the pixel spacing for the affine (pruned meta drops it)
        for tag in ("00280030", "00181164"):  # PixelSpacing, ImagerPixelSpacing
            if tag in img and tag not in meta:
                meta[tag] = {"vr": "DS", "Value": [float(v) for v in img[tag].value]}
        return meta

    def _get_affine(self, metadata: dict, lps_to_ras: bool = True) -> np.ndarray:
        if "00200037" in metadata and "00200032" in metadata:
            return super()._get_affine(metadata, lps_to_ras)
        # projection radiograph: rows run down (+y), columns run right (+x), spacing from the detector
        geometry = dict(metadata)
        geometry["00200037"] = {"Value": [1.0, 0.0, 0.0, 0.0, 1.0, 0.0]}
        geometry["00200032"] = {"Value": [0.0, 0.0, 0.0]}
        if "00280030" not in geometry and "00181164" in geometry:
            geometry["00280030"] = geometry["00181164"]
        return super()._get_affine(geometry, lps_to_ras)


def _pil_supported_mode(img: Image.Image) -> Image.Image:
    """Convert PIL modes whose array is not intensities (palette, bilevel, CMYK, YCbCr …) to L/RGB(A)."""
    if img.mode in ("L", "LA", "RGB", "RGBA", "I", "F") or img.mode.startswith("I;16"):
        return img
    if img.mode == "1":
        return img.convert("L")
    if img.mode in ("P", "PA"):
        return img.convert("RGBA" if img.mode == "PA" or "transparency" in img.info else "RGB")
    return img.convert("RGB")


def _pil_bits(mode: str, data: torch.Tensor) -> int:
    if mode.startswith("I;16"):
        return 16
    if mode in ("I", "F"):  # 32-bit integer / float images: report 16 when the values fit
        return 16 if float(data.min()) >= 0 and float(data.max()) <= 65535 else 32
    return 8


class LoadXRay(Transform):
    """Load a 2-D radiograph (PNG/JPEG/BMP/TIFF, DICOM or NIfTI) as a float32 ``(1, X, Y)`` MetaTensor in ``[0, 1]``.

    Reading goes through :class:`monai.transforms.LoadImage` with the readers ``[XRayDicomReader, NibabelReader,
    PILReader]``; the reader is chosen from the file (DICOM preamble or suffix, ``.nii``/``.nii.gz``, image
    suffixes). The spatial axes follow MONAI's ``(x, y)`` convention for every format, so the same picture gives
    the same tensor whatever its format. Colour images are converted to grey with BT.601 luminance weights (one
    log line names the file); a NIfTI of shape ``(X, Y)`` or ``(X, Y, 1)`` is a 2-D image. Intensities are
    min-max scaled (a constant image becomes 0) and the metadata gains the keys of :class:`XRayMeta`.

    User mistakes raise a one-line ``FileNotFoundError``/``ValueError`` that starts with the file path. A DICOM
    file that is not a radiograph (see :class:`XRayDicomReader`), a multi-frame file or a 3-D volume is refused unless
    ``allow_non_radiograph`` accepts it with a warning (first frame, middle slice of a volume along its third axis).

    Args:
        keep_dicom_tags: keep every DICOM tag in the metadata (``False`` keeps only the geometry tags, which
            collates more easily when batching DICOM files with different tag sets).
        apply_voi: apply the DICOM VOI LUT / window.
        allow_non_radiograph: accept other DICOM modalities, multi-frame files and 3-D volumes with a warning.
    """

    backend = [TransformBackends.TORCH]

    def __init__(
        self, keep_dicom_tags: bool = True, apply_voi: bool = True, allow_non_radiograph: bool = False
    ) -> None:
        self.allow_non_radiograph = allow_non_radiograph
        self.dicom_reader = XRayDicomReader(
            apply_voi=apply_voi, prune_metadata=not keep_dicom_tags, allow_non_radiograph=allow_non_radiograph
        )
        self.nifti_reader = NibabelReader()
        self.pil_reader = PILReader(converter=_pil_supported_mode)
        self.loader = LoadImage(
            reader=[self.dicom_reader, self.nifti_reader, self.pil_reader],
            image_only=True,
            dtype=np.float32,
            ensure_channel_first=True,
        )

    def __call__(self, filename: os.PathLike | str) -> MetaTensor:
        """Load ``filename`` (one file path)."""
        if not isinstance(filename, (str, os.PathLike)):
            raise InputFileError(f"{filename!r}: expected the path of one image file, got {type(filename).__name__}.")
        path = f"{Path(filename).expanduser()}"
        if not os.path.exists(path):
            raise MissingInputError(f"{path}: file not found; check the datalist entry and dataset_dir.")
        if os.path.isdir(path):
            raise InputFileError(f"{path}: is a directory; give the path of one 2-D radiograph file.")
        fmt = xray_format_of(path)
        readers = {"dicom": self.dicom_reader, "nifti": self.nifti_reader}
        if fmt is None:
            raise InputFileError(
                f"{path}: unsupported file type {Path(path).suffix or '(no suffix)'!r}; expected a PNG/JPEG/BMP/TIFF, "
                "DICOM or NIfTI (.nii/.nii.gz) radiograph, fix the datalist entry."
            )
        try:
            img = self.loader(path, reader=readers.get(fmt, self.pil_reader))
        except ValueError as err:
            if str(err).startswith(f"{path}:"):
                raise
            raise InputFileError(self._unreadable(path, fmt, err)) from err
        except Exception as err:
            raise InputFileError(self._unreadable(path, fmt, err)) from err
        return self._normalise(img, path, fmt)

    @staticmethod
    def _unreadable(path: str, fmt: str, err: BaseException) -> str:
        if fmt == "dicom":
            what = "corrupt DICOM, it cannot be parsed"
        elif fmt == "nifti":
            what = "not a readable NIfTI file"
        else:
            what = f"not a readable {fmt.upper()} image"
        return f"{path}: {what} ({one_line(err)}); re-export the image or remove it from the datalist."

    def _normalise(self, img: MetaTensor, path: str, fmt: str) -> MetaTensor:
        meta = dict(img.meta)
        data = img.as_tensor()
        channels, spatial = data.shape[0], tuple(data.shape[1:])
        if len(spatial) < 2 or min(spatial[:2]) < 2:
            raise InputFileError(f"{path}: has shape {tuple(data.shape)}, which is not a 2-D image; check the file.")
        if any(s != 1 for s in spatial[2:]):
            if not self.allow_non_radiograph:
                raise InputFileError(
                    f"{path}: is a 3-D volume of shape {spatial}; this bundle needs a 2-D frontal radiograph of shape "
                    f"(X, Y) or (X, Y, 1), extract or project one slice first (or set {_OVERRIDE}=True to use the "
                    "middle slice)."
                )
            logger.warning("%s: is a 3-D volume of shape %s; its middle slice is used (%s=True).", path, spatial,
                           _OVERRIDE)  # fmt: skip
            data = data.reshape(channels, *spatial[:2], -1)
            data = data[..., data.shape[-1] // 2]
        data = data.reshape(channels, *spatial[:2])
        photometric = meta.get(XRayMeta.PHOTOMETRIC, "MONOCHROME2")
        if channels > 1:
            data = self._to_grey(data, path, fmt, meta)
            if fmt != "dicom":
                photometric = meta.get("mode") or f"{channels}-channel"
        data = data.to(torch.float32)
        lo, hi = (float(v) for v in torch.aminmax(data))  # NaN propagates to both, inf shows in one of them
        if not (np.isfinite(lo) and np.isfinite(hi)):
            raise InputFileError(f"{path}: contains NaN or infinite values; fix or re-export the image.")
        scaled = (data - lo).mul_(1.0 / (hi - lo)) if hi > lo else torch.zeros_like(data)
        if fmt == "dicom":
            bits = int(meta.get(XRayMeta.BITS, 0))
        elif fmt == "nifti":
            bits = int(meta.get("bitpix", 32))
        else:
            bits = _pil_bits(str(meta.get("mode", "L")), data)
        meta.update(
            {
                XRayMeta.FORMAT: fmt,
                XRayMeta.BITS: bits,
                XRayMeta.MIN: lo,
                XRayMeta.MAX: hi,
                XRayMeta.PHOTOMETRIC: str(photometric),
            }
        )
        return MetaTensor(scaled.to(torch.float32), meta=meta)

    @staticmethod
    def _to_grey(data: torch.Tensor, path: str, fmt: str, meta: Mapping) -> torch.Tensor:
        channels = data.shape[0]
        if channels == 2:  # grey + alpha
            logger.warning("%s: grey image with an alpha channel, the alpha channel is dropped.", path)
            return data[:1]
        if channels not in (3, 4):
            raise InputFileError(f"{path}: has {channels} channels; expected a grey or RGB(A) radiograph.")
        mode = meta.get("mode") or meta.get(XRayMeta.PHOTOMETRIC) or f"{channels} channels"
        logger.warning("%s: colour %s image (%s) converted to grey with BT.601 luminance weights.", path, fmt, mode)
        weights = torch.tensor(_LUMA, dtype=data.dtype).reshape(3, 1, 1)
        return (data[:3] * weights).sum(dim=0, keepdim=True)


class LoadXRayd(MapTransform):
    """Dictionary version of :class:`LoadXRay`: replaces each path under ``keys`` by its ``(1, X, Y)`` image.

    Args:
        keys: keys of the paths to load.
        keep_dicom_tags: see :class:`LoadXRay`.
        apply_voi: see :class:`LoadXRay`.
        allow_non_radiograph: see :class:`LoadXRay`.
        allow_missing_keys: don't raise when a key is missing.
    """

    backend = LoadXRay.backend

    def __init__(
        self,
        keys: KeysCollection,
        keep_dicom_tags: bool = True,
        apply_voi: bool = True,
        allow_non_radiograph: bool = False,
        allow_missing_keys: bool = False,
    ) -> None:
        super().__init__(keys, allow_missing_keys)
        self.loader = LoadXRay(
            keep_dicom_tags=keep_dicom_tags, apply_voi=apply_voi, allow_non_radiograph=allow_non_radiograph
        )

    def __call__(self, data: Mapping[Hashable, Any]) -> dict[Hashable, Any]:
        d = dict(data)
        for key in self.key_iterator(d):
            d[key] = self.loader(d[key])
        return d


def _check_range(name: str, value: Sequence[float]) -> tuple[float, float]:
    lo, hi = (float(v) for v in value)
    if not lo < hi:
        raise ConfigError(f"{name} must be (low, high) with low < high, got {tuple(value)}.")
    return lo, hi


class XRayToModelRange(InvertibleTransform):
    """Linearly map intensities from ``in_range`` (the loaded ``[0, 1]``) to the model range ``out_range``.

    The mapping is recorded in the MetaTensor's applied operations, so :meth:`inverse` (and
    :class:`monai.transforms.Invertd`) maps a model output back to ``in_range``.

    Args:
        in_range: ``(low, high)`` of the input, default ``(0, 1)``.
        out_range: ``(low, high)`` of the model, default ``(-1, 1)`` (tanh generators).
        clip: clip the result to the target range (of the forward or the inverse mapping).
    """

    backend = [TransformBackends.TORCH]

    def __init__(
        self,
        in_range: Sequence[float] = (0.0, 1.0),
        out_range: Sequence[float] = (-1.0, 1.0),
        clip: bool = False,
    ) -> None:
        self.in_range = _check_range("in_range", in_range)
        self.out_range = _check_range("out_range", out_range)
        self.clip = clip

    def _map(self, img: torch.Tensor, src: tuple[float, float], dst: tuple[float, float]) -> torch.Tensor:
        out = (img - src[0]) * ((dst[1] - dst[0]) / (src[1] - src[0])) + dst[0]
        return out.clamp(dst[0], dst[1]) if self.clip else out

    def __call__(self, img: Any) -> torch.Tensor:
        """Map ``img`` from ``in_range`` to ``out_range``."""
        img = convert_to_tensor(img, track_meta=get_track_meta(), dtype=torch.float32)
        out = self._map(img, self.in_range, self.out_range)
        self.push_transform(out, extra_info={"in_range": self.in_range, "out_range": self.out_range})
        return out

    def inverse(self, data: torch.Tensor) -> torch.Tensor:
        """Map ``data`` from the recorded ``out_range`` back to ``in_range``."""
        in_range, out_range = self.in_range, self.out_range
        if isinstance(data, MetaTensor):
            info = self.pop_transform(data)["extra_info"]
            in_range, out_range = tuple(info["in_range"]), tuple(info["out_range"])
        data = convert_to_tensor(data, track_meta=get_track_meta(), dtype=torch.float32)
        return self._map(data, out_range, in_range)


class XRayToModelRanged(MapTransform, InvertibleTransform):
    """Dictionary version of :class:`XRayToModelRange`.

    Args:
        keys: keys of the images to map.
        in_range: ``(low, high)`` of the input, default ``(0, 1)``.
        out_range: ``(low, high)`` of the model, default ``(-1, 1)``.
        clip: clip the result to the target range.
        allow_missing_keys: don't raise when a key is missing.
    """

    backend = XRayToModelRange.backend

    def __init__(
        self,
        keys: KeysCollection,
        in_range: Sequence[float] = (0.0, 1.0),
        out_range: Sequence[float] = (-1.0, 1.0),
        clip: bool = False,
        allow_missing_keys: bool = False,
    ) -> None:
        super().__init__(keys, allow_missing_keys)
        self.scaler = XRayToModelRange(in_range=in_range, out_range=out_range, clip=clip)

    def __call__(self, data: Mapping[Hashable, Any]) -> dict[Hashable, Any]:
        d = dict(data)
        for key in self.key_iterator(d):
            d[key] = self.scaler(d[key])
        return d

    def inverse(self, data: Mapping[Hashable, Any]) -> dict[Hashable, Any]:
        d = dict(data)
        for key in self.key_iterator(d):
            d[key] = self.scaler.inverse(d[key])
        return d


class AntialiasedResize(Resize):
    """:class:`~monai.transforms.Resize` whose anti-aliased downsampling uses torch's separable antialiased kernels.

    MONAI smooths the full-resolution image with a Gaussian before interpolating (about 1 s for a 2k radiograph on
    one thread); ``torch.nn.functional.interpolate(..., antialias=True)`` widens the bilinear/bicubic kernel by the
    scale factor instead (PIL's resampling filters), some 50 times faster. The geometry, the metadata and the
    inverse are :class:`~monai.transforms.Resize`'s. Other modes, an explicit ``anti_aliasing_sigma``, upsampling
    and lazy execution fall back to :class:`~monai.transforms.Resize`.
    """

    def __call__(  # type: ignore[override]
        self,
        img: torch.Tensor,
        mode: str | None = None,
        align_corners: bool | None = None,
        anti_aliasing: bool | None = None,
        anti_aliasing_sigma: Sequence[float] | float | None = None,
        dtype: Any = None,
        lazy: bool | None = None,
    ) -> torch.Tensor:
        mode = self.mode if mode is None else mode
        anti_aliasing = self.anti_aliasing if anti_aliasing is None else anti_aliasing
        sigma = self.anti_aliasing_sigma if anti_aliasing_sigma is None else anti_aliasing_sigma
        fast = anti_aliasing and sigma is None and mode in ("bilinear", "bicubic") and not (self.lazy or lazy)
        out = super().__call__(img, mode, align_corners, anti_aliasing and not fast, sigma, dtype, lazy)
        if not fast or all(o >= i for o, i in zip(out.shape[1:], img.shape[1:])):
            return out
        align = self.align_corners if align_corners is None else align_corners
        src = convert_to_tensor(img, dtype=torch.float32, track_meta=False)
        smooth = torch.nn.functional.interpolate(
            src[None], size=tuple(out.shape[1:]), mode=mode, align_corners=align, antialias=True
        )[0]
        return convert_to_dst_type(smooth, out, dtype=torch.float32)[0]  # same meta and trace as ``out``


class AntialiasedResized(Resized):
    """Dictionary version of :class:`AntialiasedResize` (same arguments as :class:`~monai.transforms.Resized`)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.resizer = AntialiasedResize(self.resizer.spatial_size, self.resizer.size_mode, lazy=self.lazy)


class XRayPreprocessd(Compose):
    """The whole preprocessing of a radiograph bundle, invertible with :class:`monai.transforms.Invertd`.

    :class:`LoadXRayd` → :class:`AntialiasedResized` (aspect kept, longest side ``spatial_size``) →
    :class:`~monai.transforms.SpatialPadd` to a ``spatial_size`` square (symmetric, black) →
    :class:`XRayToModelRanged` (``[0, 1]`` → ``out_range``). ``Invertd(keys="pred", transform=<this>,
    orig_keys="image", nearest_interp=False)`` takes a model output back to the input's size and ``[0, 1]``.

    Args:
        keys: keys of the image paths (e.g. ``["image", "target"]`` for paired data).
        spatial_size: side of the square model input.
        out_range: intensity range of the model, default ``(-1, 1)``.
        mode: interpolation of the resize (and of its inverse), see :class:`~monai.transforms.Resize`.
        anti_aliasing: smooth before downsampling.
        keep_dicom_tags: keep every DICOM tag in the metadata, see :class:`LoadXRay`.
        allow_non_radiograph: accept other DICOM modalities, multi-frame files and 3-D volumes with a warning.
        allow_missing_keys: don't raise when a key is missing.

    A nested ``Compose`` counts as random for :class:`monai.data.CacheDataset`; build datasets with
    :func:`monai_xrgan.data.datasets.cached_dataset`, which inlines this one so that its steps are cached.
    """

    def __init__(
        self,
        keys: KeysCollection,
        spatial_size: int,
        out_range: Sequence[float] = (-1.0, 1.0),
        mode: str = "bilinear",
        anti_aliasing: bool = True,
        keep_dicom_tags: bool = True,
        allow_non_radiograph: bool = False,
        allow_missing_keys: bool = False,
    ) -> None:
        size = int(spatial_size)
        if size < 2 or size != spatial_size:
            raise ConfigError(f"spatial_size must be an integer >= 2 (one side of the square), got {spatial_size!r}.")
        super().__init__(
            [
                LoadXRayd(
                    keys,
                    keep_dicom_tags=keep_dicom_tags,
                    allow_non_radiograph=allow_non_radiograph,
                    allow_missing_keys=allow_missing_keys,
                ),
                AntialiasedResized(
                    keys,
                    spatial_size=size,
                    size_mode="longest",
                    mode=mode,
                    anti_aliasing=anti_aliasing,
                    allow_missing_keys=allow_missing_keys,
                ),
                SpatialPadd(
                    keys,
                    spatial_size=(size, size),
                    method="symmetric",
                    mode="constant",
                    allow_missing_keys=allow_missing_keys,
                ),
                XRayToModelRanged(keys, out_range=out_range, allow_missing_keys=allow_missing_keys),
            ]
        )
