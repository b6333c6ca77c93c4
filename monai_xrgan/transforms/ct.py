"""CT input handling as MONAI transforms: volumes in Hounsfield units, the lung window, axial slices and back.

- :class:`LoadCT` / :class:`LoadCTd` read a NIfTI volume or a DICOM series (a folder) through
  :class:`monai.transforms.LoadImage` (:class:`CTSeriesReader`, a checked :class:`~monai.data.PydicomReader`, or
  :class:`~monai.data.ITKReader`), keep HU from the files' rescale tags and return a float32 ``(1, X, Y, Z)``
  :class:`~monai.data.MetaTensor` with its affine, turned to a fixed axis order (``"LPS"`` by default: ``X`` to the
  patient's left, ``Y`` posterior, ``Z`` superior, so that ``volume[0, :, :, k]`` is an axial slice shown with
  anterior up and the patient's right on the left, as a DICOM axial series stores it).
- :class:`CTWindow` / :class:`CTWindowd` map a HU window (default the lung window, level -600, width 1500) to the
  model range ``[-1, 1]``, invertibly.
- :class:`LoadCTSlice` / :class:`LoadCTSliced` give one axial slice ``(1, X, Y)`` of a volume for slice-level
  datalists (``{"image": "ct.nii.gz", "slice": 40, ...}``), keeping the slice index and the volume's shape and
  affines in the metadata (:class:`CTMeta`); the volumes go through a small LRU cache, so the slices of one volume
  read it once. :func:`ct_slice_items` expands volume items into slice items (every slice or the lung slices),
  which is how a whole volume is translated slice by slice.
- :func:`stack_axial_slices` and :class:`SaveCTSlicesd` put translated slices back into a volume with the input's
  geometry and write it as NIfTI.

User mistakes (a 2-D image given as a CT, a DICOM series with missing slices or mixed spacing/orientation, an empty
volume, a missing or corrupt file) raise one-line :mod:`monai_xrgan.utils.errors` errors naming the file.

A slice-level pipeline, the same for training on a slice datalist and for translating every slice of volumes::

    load = LoadCTSliced("image")
    preprocessing = Compose([load, CTWindowd("image"), Resized("image", (128, 128))])
    items = ct_slice_items(volume_items, slices="all", loader=load.loader)  # or a slice datalist as it is
    saver = SaveCTSlicesd("pred", output_dir)  # also listed among the evaluator's handlers: flushes at the end
    postprocessing = Compose([Invertd("pred", preprocessing, orig_keys="image"), saver])
"""

from __future__ import annotations

import logging
import os
import threading
from collections import OrderedDict
from collections.abc import Hashable, Mapping, Sequence
from pathlib import Path
from typing import Any

import nibabel as nib
import numpy as np
import pydicom
import torch
from monai.config import KeysCollection
from monai.data import ITKReader, MetaTensor, NibabelReader, PydicomReader
from monai.transforms import LoadImage, MapTransform, Orientation, Transform
from monai.utils import ImageMetaKey, MetaKeys
from pydicom.uid import ExplicitVRLittleEndian

from monai_xrgan.io.ct import write_ct_nifti
from monai_xrgan.transforms.meta import source_meta
from monai_xrgan.transforms.xray import XRayToModelRange, XRayToModelRanged
from monai_xrgan.utils.errors import ConfigError, InputFileError, MissingInputError, one_line

__all__ = [
    "CTMeta",
    "CTSeriesReader",
    "check_dicom_series",
    "LoadCT",
    "LoadCTd",
    "CTWindow",
    "CTWindowd",
    "LoadCTSlice",
    "LoadCTSliced",
    "axial_slice",
    "ct_slice_items",
    "lung_slice_indices",
    "stack_axial_slices",
    "SaveCTSlicesd",
]

logger = logging.getLogger(__name__)

_NIFTI_SUFFIXES = (".nii", ".nii.gz")
_IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff")
_AXIS_LABELS = (("L", "R"), ("P", "A"), ("I", "S"))
#: DICOM modalities of projection radiographs, refused as CT input
_RADIOGRAPH_MODALITIES = ("CR", "DX", "DR", "RG", "MG", "XA", "RF", "PX", "IO")


def _not_a_radiograph(path: str, ds: pydicom.Dataset) -> None:
    """Refuse a DICOM radiograph given as CT input, in one line."""
    modality = str(ds.get("Modality", "") or "").upper()
    if modality in _RADIOGRAPH_MODALITIES:
        raise InputFileError(
            f"{path}: is a {modality} radiograph (DICOM Modality {modality}), not a CT slice; this bundle needs a CT "
            "volume (a folder of CT slices or a NIfTI file) and has no override for radiographs: give it to a 2-D "
            "X-ray bundle."
        )


#: tags every slice of a series needs (geometry, order, decoding)
_SLICE_TAGS = (
    "SeriesInstanceUID",
    "ImagePositionPatient",
    "ImageOrientationPatient",
    "PixelSpacing",
    "InstanceNumber",
    "Rows",
    "Columns",
    "BitsAllocated",
)


class CTMeta:
    """Metadata keys added by the CT transforms (flat keys of fixed shapes, so that batches collate).

    ``FORMAT``: ``"nifti"`` or ``"dicom"``. ``SLICE``: index ``k`` of an axial slice in its volume.
    ``VOLUME_SHAPE``: ``(X, Y, Z)`` of the loaded (reoriented) volume. ``VOLUME_AFFINE``: its ``4 x 4`` affine.
    ``FILE_AFFINE``: the affine of the volume as stored in the file (before reorientation), used to write outputs
    in the input's axis order.
    """

    FORMAT = "ct_format"
    SLICE = "ct_slice"
    VOLUME_SHAPE = "ct_volume_shape"
    VOLUME_AFFINE = "ct_volume_affine"
    FILE_AFFINE = "ct_file_affine"


def _is_nifti(path: str) -> bool:
    return path.lower().endswith(_NIFTI_SUFFIXES)


# ----------------------------------------------------------------------------------------------------------------
# DICOM series


def _read_series(folder: str, pixels: bool) -> list[tuple[str, pydicom.Dataset]]:
    """The DICOM objects of a folder (files that are not DICOM are skipped; a corrupt one is an error).

    Without ``pixels`` the pixel data are left on disk (deferred), their length still checked against the file.
    """
    items = []
    for name in sorted(os.listdir(folder)):
        path = os.path.join(folder, name)
        if name.startswith(".") or not os.path.isfile(path):
            continue
        try:
            ds = pydicom.dcmread(path, defer_size=None if pixels else "4 KB")
        except pydicom.errors.InvalidDicomError:
            continue  # not a DICOM file (a readme, a thumbnail...)
        except Exception as err:
            raise InputFileError(
                f"{path}: corrupt DICOM file in the series ({one_line(err)}); re-export the series or remove the file."
            ) from err
        if name.upper() != "DICOMDIR":
            items.append((path, ds))
    return items


def _pixel_bytes(path: str, ds: pydicom.Dataset) -> int | None:
    """Bytes of uncompressed pixel data present in the file (None: compressed or absent)."""
    if "PixelData" not in ds or ds.file_meta.get("TransferSyntaxUID", ExplicitVRLittleEndian).is_compressed:
        return None
    raw = ds.get_item("PixelData")
    if isinstance(raw, pydicom.dataelem.RawDataElement) and raw.value is None:  # deferred: still on disk
        return max(0, min(int(raw.length), os.path.getsize(path) - int(raw.value_tell)))
    return len(ds.PixelData)


def _check_series(folder: str, items: list[tuple[str, pydicom.Dataset]]) -> list[tuple[str, pydicom.Dataset]]:
    """Check that ``items`` form one complete axial stack and return them sorted by InstanceNumber."""
    if not items:
        raise InputFileError(f"{folder}: no DICOM files in this folder; a CT series folder holds one file per slice.")
    for path, ds in items:
        _not_a_radiograph(path, ds)
        missing = [k for k in _SLICE_TAGS if k not in ds]
        if missing:
            raise InputFileError(
                f"{path}: is truncated or not an image slice of a CT series (no {', '.join(missing)}); keep only the "
                "series' complete slices in the folder."
            )
        if int(ds.get("NumberOfFrames", 1) or 1) > 1:
            raise InputFileError(f"{path}: is a multi-frame DICOM; export the CT as one file per slice.")
        stored = _pixel_bytes(path, ds)
        expected = int(ds.Rows) * int(ds.Columns) * int(ds.get("SamplesPerPixel", 1)) * int(ds.BitsAllocated) // 8
        if stored is not None and stored < expected:
            raise InputFileError(
                f"{path}: corrupt DICOM file, its pixel data is truncated ({stored} of {expected} bytes); re-export "
                "the series or remove the file."
            )
    series = {str(ds.SeriesInstanceUID) for _, ds in items}
    if len(series) > 1:
        raise InputFileError(
            f"{folder}: holds {len(series)} DICOM series (SeriesInstanceUID); put each series in its own folder."
        )
    if len(items) < 2:
        raise InputFileError(
            f"{folder}: holds a single 2-D slice ({items[0][0]}); a CT needs the whole series of axial slices."
        )
    first = items[0][1]
    orientation = np.asarray(first.ImageOrientationPatient, dtype=np.float64)
    spacing = np.asarray(first.PixelSpacing, dtype=np.float64)
    size = (int(first.Rows), int(first.Columns))
    for path, ds in items[1:]:
        if np.abs(np.asarray(ds.ImageOrientationPatient, dtype=np.float64) - orientation).max() > 1e-4:
            raise InputFileError(
                f"{folder}: mixed slice orientations ({path} differs from {items[0][0]}); the series must be one "
                "stack of parallel slices, export it again."
            )
        if np.abs(np.asarray(ds.PixelSpacing, dtype=np.float64) - spacing).max() > 1e-4:
            raise InputFileError(
                f"{folder}: mixed pixel spacing ({list(map(float, ds.PixelSpacing))} in {path}, "
                f"{spacing.tolist()} in {items[0][0]}); resample the series to one spacing."
            )
        if (int(ds.Rows), int(ds.Columns)) != size:
            raise InputFileError(f"{folder}: mixed slice sizes ({path} is not {size[0]} x {size[1]}).")
    normal = np.cross(orientation[:3], orientation[3:])
    position = np.array([float(np.asarray(ds.ImagePositionPatient, dtype=np.float64) @ normal) for _, ds in items])
    order = np.argsort(position, kind="stable")
    gaps = np.diff(position[order])
    if (gaps < 1e-3).any():
        i = int(np.argmax(gaps < 1e-3))
        raise InputFileError(
            f"{folder}: two slices at the same position ({items[order[i]][0]}, {items[order[i + 1]][0]}); the folder "
            "mixes series or repeats a slice."
        )
    step = float(np.median(gaps))
    if gaps.max() > 1.5 * step:
        i = int(np.argmax(gaps))
        raise InputFileError(
            f"{folder}: missing slices: a gap of {gaps[i]:.2f} mm between {Path(items[order[i]][0]).name} and "
            f"{Path(items[order[i + 1]][0]).name} where the slices are {step:.2f} mm apart; export the complete series."
        )
    if gaps.max() - gaps.min() > 0.01 * step + 1e-3:
        raise InputFileError(
            f"{folder}: uneven slice spacing ({gaps.min():.3f} to {gaps.max():.3f} mm); resample the series to one "
            "slice spacing."
        )
    by_number = sorted(range(len(items)), key=lambda i: int(items[i][1].InstanceNumber))
    ranks = np.argsort(np.argsort(position))[by_number]
    if not (np.all(np.diff(ranks) == 1) or np.all(np.diff(ranks) == -1)):
        raise InputFileError(
            f"{folder}: the InstanceNumbers do not follow the slice positions; renumber the series or load it with "
            "reader='itk' (which sorts by position)."
        )
    return [items[i] for i in by_number]


def check_dicom_series(folder: os.PathLike | str) -> list[str]:
    """Check a folder holding one axial CT series and return its files in slice order.

    Raises one-line :class:`~monai_xrgan.utils.errors.InputFileError` for an empty folder, several series, a single
    slice, non-image objects, mixed orientation/pixel spacing/slice size, duplicate positions, missing slices
    (a gap larger than 1.5 slice spacings), uneven spacing, or InstanceNumbers out of position order.
    """
    folder = f"{folder}"
    return [path for path, _ in _check_series(folder, _read_series(folder, pixels=False))]


class CTSeriesReader(PydicomReader):
    """:class:`~monai.data.PydicomReader` for a folder holding one axial CT series, checked first.

    The folder's DICOM files are read once, checked as in :func:`check_dicom_series` and stacked in slice order by
    the base class, which applies RescaleSlope/RescaleIntercept (HU) and builds the affine from the slice positions.

    Args:
        kwargs: the other :class:`~monai.data.PydicomReader` arguments.
    """

    def verify_suffix(self, filename: Sequence[os.PathLike] | os.PathLike) -> bool:
        """Return ``True`` for one folder."""
        names = filename if isinstance(filename, (list, tuple)) else [filename]
        return len(names) == 1 and os.path.isdir(f"{names[0]}")

    def read(self, data: Sequence[os.PathLike] | os.PathLike, **kwargs: Any) -> list[pydicom.Dataset]:
        """Read and check the series in the folder ``data``."""
        folder = f"{data[0] if isinstance(data, (list, tuple)) else data}"
        items = _check_series(folder, _read_series(folder, pixels=True))
        self.filenames = [[path for path, _ in items]]
        self.has_series = True
        return [ds for _, ds in items]


# ----------------------------------------------------------------------------------------------------------------
# volumes


class LoadCT(Transform):
    """Load a CT volume (NIfTI file or DICOM series folder) as a float32 ``(1, X, Y, Z)`` MetaTensor in HU.

    Args:
        reader: DICOM reader, ``"pydicom"`` (:class:`CTSeriesReader`) or ``"itk"`` (:class:`~monai.data.ITKReader`,
            the series checked with :func:`check_dicom_series` first). NIfTI files use
            :class:`~monai.data.NibabelReader` (scaling from ``scl_slope``/``scl_inter``).
        axcodes: axis order to turn every volume to (:class:`~monai.transforms.Orientation`, no resampling),
            default ``"LPS"`` (see the module docstring); ``None`` keeps the file's order.
    """

    def __init__(self, reader: str = "pydicom", axcodes: str | None = "LPS") -> None:
        if reader not in ("pydicom", "itk"):
            raise ConfigError(f"reader must be 'pydicom' or 'itk', got {reader!r}.")
        self.reader = reader
        self.axcodes = axcodes
        self.dicom_reader = CTSeriesReader() if reader == "pydicom" else ITKReader()
        self.nifti_reader = NibabelReader()
        self.loader = LoadImage(
            reader=[self.dicom_reader, self.nifti_reader], image_only=True, dtype=np.float32, ensure_channel_first=True
        )
        self.orient = Orientation(axcodes=axcodes, labels=_AXIS_LABELS) if axcodes else None

    def __call__(self, path: os.PathLike | str) -> MetaTensor:
        """Load the volume at ``path``."""
        if not isinstance(path, (str, os.PathLike)):
            raise InputFileError(f"{path!r}: expected the path of a CT volume, got {type(path).__name__}.")
        name = f"{Path(path).expanduser()}"
        if not os.path.exists(name):
            raise MissingInputError(f"{name}: CT volume not found; check the datalist entry and dataset_dir.")
        if os.path.isdir(name):
            fmt = "dicom"
            if self.reader == "itk":
                check_dicom_series(name)
            reader = self.dicom_reader
        elif _is_nifti(name):
            fmt, reader = "nifti", self.nifti_reader
        elif name.lower().endswith(_IMAGE_SUFFIXES):
            raise InputFileError(
                f"{name}: is a 2-D image; a CT must be a 3-D NIfTI volume (.nii/.nii.gz) or a folder holding one "
                "DICOM series."
            )
        elif pydicom.misc.is_dicom(name) or name.lower().endswith((".dcm", ".dicom")):
            try:
                header = pydicom.dcmread(name, stop_before_pixels=True)
            except Exception:  # unreadable: the message below still applies
                header = pydicom.Dataset()
            _not_a_radiograph(name, header)
            raise InputFileError(
                f"{name}: is a single DICOM file; give the folder that holds the whole series of axial slices."
            )
        else:
            raise InputFileError(
                f"{name}: unsupported file type; a CT must be a NIfTI volume (.nii/.nii.gz) or a DICOM series folder."
            )
        try:
            img = self.loader(name, reader=reader)
        except InputFileError:
            raise
        except Exception as err:
            what = "DICOM series" if fmt == "dicom" else "NIfTI file"
            raise InputFileError(
                f"{name}: corrupt or unreadable {what} ({one_line(err)}); re-export the volume."
            ) from err
        return self._check(img, name, fmt)

    def _check(self, img: MetaTensor, name: str, fmt: str) -> MetaTensor:
        if img.numel() == 0:
            shape = tuple(int(s) for s in np.asarray(img.meta.get(MetaKeys.SPATIAL_SHAPE, img.shape)).ravel())
            raise InputFileError(f"{name}: is an empty volume of shape {shape}; check the file.")
        spatial = tuple(int(s) for s in img.shape[1:])
        if len(spatial) == 4 and spatial[3] == 1:
            img, spatial = img[..., 0], spatial[:3]
        if img.shape[0] == 1 and len(spatial) == 2:
            raise InputFileError(
                f"{name}: is a 2-D image of shape {spatial}; a CT must be a 3-D volume with several axial slices."
            )
        if img.shape[0] != 1 or len(spatial) != 3:
            raise InputFileError(
                f"{name}: has shape {tuple(img.shape[1:]) if img.shape[0] == 1 else tuple(img.shape)}; a CT must be "
                "one 3-D volume (X, Y, Z)."
            )
        if min(spatial) < 2:
            raise InputFileError(
                f"{name}: is a 2-D image of shape {spatial}; a CT must be a 3-D volume with several axial slices."
            )
        data = img.as_tensor()
        if not torch.isfinite(data).all():
            raise InputFileError(f"{name}: contains NaN or infinite values; fix or re-export the volume.")
        lo, hi = float(data.min()), float(data.max())
        if hi <= lo:
            raise InputFileError(f"{name}: is an empty volume (every voxel is {lo:g}); check the file.")
        file_affine = torch.as_tensor(img.affine, dtype=torch.float64).clone()
        if self.orient is not None:
            img = self.orient(img)
        img.meta[CTMeta.FORMAT] = fmt
        img.meta[CTMeta.FILE_AFFINE] = file_affine
        return img


class LoadCTd(MapTransform):
    """Dictionary version of :class:`LoadCT`.

    Args:
        keys: keys of the paths to load.
        reader, axcodes: see :class:`LoadCT`.
        allow_missing_keys: don't raise when a key is missing.
    """

    def __init__(
        self,
        keys: KeysCollection,
        reader: str = "pydicom",
        axcodes: str | None = "LPS",
        allow_missing_keys: bool = False,
    ) -> None:
        super().__init__(keys, allow_missing_keys)
        self.loader = LoadCT(reader=reader, axcodes=axcodes)

    def __call__(self, data: Mapping[Hashable, Any]) -> dict[Hashable, Any]:
        d = dict(data)
        for key in self.key_iterator(d):
            d[key] = self.loader(d[key])
        return d


# ----------------------------------------------------------------------------------------------------------------
# window


def _window_range(level: float, width: float) -> tuple[float, float]:
    if not width > 0:
        raise ConfigError(f"window width must be > 0, got {width!r}.")
    return float(level) - float(width) / 2.0, float(level) + float(width) / 2.0


class CTWindow(XRayToModelRange):
    """Map the HU window ``[level - width / 2, level + width / 2]`` linearly to ``out_range`` (clipped).

    The default is the lung window (level -600, width 1500: -1350 to 150 HU) onto the generators' ``[-1, 1]``.
    The mapping is recorded, so :meth:`inverse` and :class:`monai.transforms.Invertd` turn a model output back into
    HU; values outside the window come back at its limits.

    Args:
        level: window centre (HU).
        width: window width (HU).
        out_range: model range.
        clip: clip to the window (forward) and to it again (inverse).
    """

    def __init__(
        self, level: float = -600.0, width: float = 1500.0, out_range: Sequence[float] = (-1.0, 1.0), clip: bool = True
    ) -> None:
        super().__init__(in_range=_window_range(level, width), out_range=out_range, clip=clip)


class CTWindowd(XRayToModelRanged):
    """Dictionary version of :class:`CTWindow`.

    Args:
        keys: keys of the HU images.
        level, width, out_range, clip: see :class:`CTWindow`.
        allow_missing_keys: don't raise when a key is missing.
    """

    def __init__(
        self,
        keys: KeysCollection,
        level: float = -600.0,
        width: float = 1500.0,
        out_range: Sequence[float] = (-1.0, 1.0),
        clip: bool = True,
        allow_missing_keys: bool = False,
    ) -> None:
        MapTransform.__init__(self, keys, allow_missing_keys)
        self.scaler = CTWindow(level=level, width=width, out_range=out_range, clip=clip)


# ----------------------------------------------------------------------------------------------------------------
# slices


def axial_slice(volume: MetaTensor, index: int) -> MetaTensor:
    """Axial slice ``index`` of a ``(1, X, Y, Z)`` volume as a ``(1, X, Y)`` MetaTensor (a copy).

    The slice's affine places it in the world (its third column is the slice step). The metadata hold only fixed
    keys (so that slices of NIfTI and DICOM volumes collate together): the source path, ``space``, the slice
    affine and spatial shape, and the :class:`CTMeta` keys (format, slice index, the volume's shape and affines).
    """
    depth = int(volume.shape[-1])
    k = int(index)
    if isinstance(index, bool) or k != index or not 0 <= k < depth:
        source = volume.meta.get(ImageMetaKey.FILENAME_OR_OBJ, "volume") if isinstance(volume, MetaTensor) else "volume"
        raise ConfigError(f"{source}: slice {index!r} is outside the volume's {depth} axial slices (0 to {depth - 1}).")
    affine = torch.as_tensor(volume.affine, dtype=torch.float64)
    slice_affine = affine.clone()
    slice_affine[:3, 3] = affine[:3, 3] + k * affine[:3, 2]
    kept = (ImageMetaKey.FILENAME_OR_OBJ, MetaKeys.SPACE, CTMeta.FORMAT)
    meta = {key: volume.meta[key] for key in kept if key in volume.meta}
    file_affine = volume.meta.get(CTMeta.FILE_AFFINE, affine)
    meta.update(
        {
            MetaKeys.AFFINE: slice_affine,
            MetaKeys.SPATIAL_SHAPE: np.asarray(volume.shape[1:3]),
            CTMeta.SLICE: k,
            CTMeta.VOLUME_SHAPE: np.asarray(volume.shape[1:]),
            CTMeta.VOLUME_AFFINE: affine.clone(),
            CTMeta.FILE_AFFINE: torch.as_tensor(file_affine, dtype=torch.float64).clone(),
        }
    )
    return MetaTensor(volume.as_tensor()[..., k].clone(), meta=meta)


class LoadCTSlice(Transform):
    """Load axial slice ``k`` of a CT volume as a ``(1, X, Y)`` MetaTensor in HU (see :func:`axial_slice`).

    Volumes are kept in an LRU cache of ``cache_size`` entries keyed by path and modification time, shared by the
    threads of a :class:`~monai.data.CacheDataset`: a datalist listing the slices of each volume together reads each
    volume once (keep ``cache_size`` at least the number of loader threads; a 512 x 512 x 300 float32 volume takes
    300 MB).

    Args:
        reader, axcodes: see :class:`LoadCT`.
        cache_size: number of volumes kept.
    """

    def __init__(self, reader: str = "pydicom", axcodes: str | None = "LPS", cache_size: int = 2) -> None:
        if isinstance(cache_size, bool) or not isinstance(cache_size, int) or cache_size < 1:
            raise ConfigError(f"cache_size must be an integer >= 1, got {cache_size!r}.")
        self.loader = LoadCT(reader=reader, axcodes=axcodes)
        self.cache_size = cache_size
        self._cache: OrderedDict[tuple, MetaTensor] = OrderedDict()
        self._lock = threading.Lock()

    def volume(self, path: os.PathLike | str) -> MetaTensor:
        """The whole volume at ``path``, from the cache when it is there (do not modify it in place)."""
        name = f"{Path(path).expanduser()}"
        try:
            stat = os.stat(name)
        except OSError:
            return self.loader(name)  # raises the missing-file error
        key = (os.path.realpath(name), stat.st_mtime_ns, stat.st_size)
        with self._lock:  # one load at a time: threads asking for the same volume wait for it instead of re-reading
            if key in self._cache:
                self._cache.move_to_end(key)
                return self._cache[key]
            volume = self.loader(name)
            self._cache[key] = volume
            while len(self._cache) > self.cache_size:
                self._cache.popitem(last=False)
            return volume

    def __call__(self, path: os.PathLike | str, index: int) -> MetaTensor:
        """Axial slice ``index`` of the volume at ``path``."""
        return axial_slice(self.volume(path), index)


class LoadCTSliced(MapTransform):
    """Dictionary version of :class:`LoadCTSlice` for slice-level datalists ``{"image": path, "slice": k, ...}``.

    Args:
        keys: keys of the volume paths.
        slice_key: key of the slice index.
        reader, axcodes, cache_size: see :class:`LoadCTSlice`.
        allow_missing_keys: don't raise when a key is missing.
    """

    def __init__(
        self,
        keys: KeysCollection,
        slice_key: str = "slice",
        reader: str = "pydicom",
        axcodes: str | None = "LPS",
        cache_size: int = 2,
        allow_missing_keys: bool = False,
    ) -> None:
        super().__init__(keys, allow_missing_keys)
        self.slice_key = slice_key
        self.loader = LoadCTSlice(reader=reader, axcodes=axcodes, cache_size=cache_size)

    def __call__(self, data: Mapping[Hashable, Any]) -> dict[Hashable, Any]:
        d = dict(data)
        if self.slice_key not in d:
            raise ConfigError(
                f"datalist item {dict(data)!r} has no '{self.slice_key}' key; give the axial slice index of each item "
                "(or expand volumes with ct_slice_items)."
            )
        for key in self.key_iterator(d):
            d[key] = self.loader(d[key], d[self.slice_key])
        return d


def lung_slice_indices(
    volume: torch.Tensor | np.ndarray, min_fraction: float = 0.02, lung_range: Sequence[float] = (-950.0, -400.0)
) -> list[int]:
    """Indices of the axial slices through the lungs of a HU volume (``(1, X, Y, Z)`` or ``(X, Y, Z)``).

    A voxel counts as lung when its value lies in ``lung_range`` and none of its four in-plane neighbours is below
    it (which leaves out the partial-volume rim between the body and the air around it); a slice counts when at
    least ``min_fraction`` of its voxels are lung. The slices from the first to the last such slice are returned.
    """
    data = torch.as_tensor(volume)
    data = data[0] if data.ndim == 4 else data
    lo, hi = (float(v) for v in lung_range)
    air = torch.nn.functional.pad(data < lo, (0, 0, 1, 1, 1, 1), value=True)
    near_air = air[:-2, 1:-1] | air[2:, 1:-1] | air[1:-1, :-2] | air[1:-1, 2:]
    lung = (data >= lo) & (data <= hi) & ~near_air
    fraction = lung.float().mean(dim=(0, 1))
    hits = torch.nonzero(fraction >= min_fraction).flatten().tolist()
    return list(range(hits[0], hits[-1] + 1)) if hits else []


def ct_slice_items(
    items: Sequence[Mapping[str, Any]],
    key: str = "image",
    slice_key: str = "slice",
    slices: str = "all",
    loader: LoadCTSlice | None = None,
) -> list[dict[str, Any]]:
    """Expand volume items ``{"image": path, ...}`` into axial slice items ``{"image": path, "slice": k, ...}``.

    Args:
        items: datalist items naming volumes (other keys are copied to every slice item).
        key: key of the volume path.
        slice_key: key that receives the slice index.
        slices: ``"all"`` (every axial slice) or ``"lungs"`` (:func:`lung_slice_indices`).
        loader: the :class:`LoadCTSlice` of the slice pipeline, so that its cache already holds the volumes
            (a new one by default).
    """
    if slices not in ("all", "lungs"):
        raise ConfigError(f"slices must be 'all' or 'lungs', got {slices!r}.")
    loader = loader or LoadCTSlice()
    out = []
    for item in items:
        volume = loader.volume(item[key])
        indices = range(int(volume.shape[-1])) if slices == "all" else lung_slice_indices(volume)
        out.extend({**item, slice_key: k} for k in indices)
    return out


def _meta_value(meta: Mapping, key: str) -> Any:
    """A metadata value with what collation adds (a batch dimension of one, a 1-element list) removed."""
    value = meta[key]
    if isinstance(value, (list, tuple)) and len(value) == 1:
        value = value[0]
    return value


def _as_array(value: Any, shape: tuple[int, ...]) -> np.ndarray:
    array = np.asarray(value.detach().cpu() if isinstance(value, torch.Tensor) else value, dtype=np.float64)
    return array.reshape(shape)


def _slice_geometry(img: torch.Tensor, meta: Mapping) -> tuple[str, int, tuple[int, int, int], np.ndarray, np.ndarray]:
    """Source, slice index, volume shape, volume affine and file affine recorded by :func:`axial_slice`."""
    missing = [k for k in (CTMeta.SLICE, CTMeta.VOLUME_SHAPE, CTMeta.VOLUME_AFFINE) if k not in meta]
    if missing:
        raise InputFileError(
            f"{meta.get(ImageMetaKey.FILENAME_OR_OBJ, 'slice')}: the slice carries no CT slice metadata {missing}; "
            "load slices with LoadCTSliced (and run Invertd(orig_keys=...) on model outputs)."
        )
    source = f"{_meta_value(meta, ImageMetaKey.FILENAME_OR_OBJ)}"
    k = int(_as_array(_meta_value(meta, CTMeta.SLICE), ()))
    shape = tuple(int(s) for s in _as_array(_meta_value(meta, CTMeta.VOLUME_SHAPE), (3,)))
    affine = _as_array(_meta_value(meta, CTMeta.VOLUME_AFFINE), (4, 4))
    file_affine = _as_array(_meta_value(meta, CTMeta.FILE_AFFINE), (4, 4)) if CTMeta.FILE_AFFINE in meta else affine
    if tuple(img.shape[-2:]) != shape[:2]:
        raise InputFileError(
            f"{source}: slice {k} has shape {tuple(img.shape[-2:])} but the volume's slices are {shape[:2]}; undo the "
            "resizing (Invertd) before stacking slices back into the volume."
        )
    return source, k, shape, affine, file_affine


def stack_axial_slices(
    slices: Sequence[torch.Tensor], indices: Sequence[int], shape: Sequence[int], affine: Any, fill: Any = None
) -> MetaTensor:
    """Stack ``(1, X, Y)`` slices at axial ``indices`` into a ``(1, X, Y, Z)`` MetaTensor with ``affine``.

    Args:
        slices: the slices.
        indices: their axial indices.
        shape: ``(X, Y, Z)`` of the volume.
        affine: the volume's ``4 x 4`` affine.
        fill: a ``(1, X, Y, Z)`` (or ``(X, Y, Z)``) volume giving the slices that are not in ``slices``; required
            unless every slice is given.
    """
    x, y, z = (int(s) for s in shape)
    given = {int(k) for k in indices}
    if len(given) != len(slices) or not all(0 <= k < z for k in given):
        raise ConfigError(f"slice indices must be distinct and in [0, {z - 1}], got {sorted(int(k) for k in indices)}.")
    if fill is None and len(given) < z:
        raise ConfigError(f"{z - len(given)} of the {z} slices are missing; give `fill` for them.")
    out = torch.zeros((1, x, y, z), dtype=torch.float32)
    if fill is not None:
        out[0] = torch.as_tensor(fill, dtype=torch.float32).reshape(x, y, z)
    for img, k in zip(slices, indices):
        out[0, :, :, int(k)] = torch.as_tensor(img, dtype=torch.float32).reshape(x, y)
    return MetaTensor(out, affine=torch.as_tensor(affine, dtype=torch.float64))


def _to_file_order(volume: np.ndarray, affine: np.ndarray, file_affine: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Undo the loader's reorientation (axis flips and permutations only): the input file's array order and affine."""
    transform = nib.orientations.ornt_transform(
        nib.orientations.io_orientation(affine), nib.orientations.io_orientation(file_affine)
    )
    array = nib.orientations.apply_orientation(volume, transform)
    return np.ascontiguousarray(array), affine @ nib.orientations.inv_ornt_aff(transform, volume.shape)


def _stem(source: str) -> str:
    name = Path(source.rstrip("/\\")).name
    for suffix in (".nii.gz", ".nii"):
        if name.lower().endswith(suffix):
            return name[: -len(suffix)]
    return name


class SaveCTSlicesd(MapTransform):
    """Collect translated axial slices and write each volume as NIfTI with its input's geometry.

    Each slice (``(1, X, Y)`` in HU, e.g. after ``Invertd`` over :class:`CTWindowd`) must carry the metadata of
    :class:`LoadCTSliced` (its own or the ``orig_key`` item's). A volume is written to
    ``output_dir/<stem>_<output_postfix>.nii.gz`` as soon as all its slices have arrived, in the input file's array
    order and affine; :meth:`flush` (called at the end of an engine run when the saver is also given as a handler)
    writes the volumes still incomplete, taking the slices that were not translated from the input volume.

    Args:
        keys: keys of the slices to save (e.g. ``"pred"``).
        output_dir: folder of the outputs (created).
        output_postfix: appended to the input's stem.
        orig_key: key of the loaded input slice whose metadata is used when an output carries none.
        restore_outside: optional ``(low, high)`` HU range: voxels whose input value lies outside it keep the input
            value (e.g. the lung window ``(-1350, 150)``, so bone and contrast are not clipped by the window).
        dtype: stored NIfTI type (``"int16"`` or ``"float32"``).
        reader, axcodes: how to re-read input volumes (for ``restore_outside`` and missing slices); use the values
            given to :class:`LoadCTSliced`.
        path_key_postfix: the written path of a completed volume is stored in ``data[f"{key}_{postfix}"]``.
        allow_missing_keys: don't raise when a key is missing.
    """

    def __init__(
        self,
        keys: KeysCollection,
        output_dir: os.PathLike | str,
        output_postfix: str = "trans",
        orig_key: str | None = "image",
        restore_outside: Sequence[float] | None = None,
        dtype: str = "int16",
        reader: str = "pydicom",
        axcodes: str | None = "LPS",
        path_key_postfix: str = "path",
        allow_missing_keys: bool = False,
    ) -> None:
        super().__init__(keys, allow_missing_keys)
        if dtype not in ("int16", "float32"):
            raise ConfigError(f"dtype must be 'int16' or 'float32', got {dtype!r}.")
        if restore_outside is not None and len(restore_outside) != 2:
            raise ConfigError(f"restore_outside must be None or (low, high) in HU, got {restore_outside!r}.")
        self.output_dir = Path(output_dir)
        self.output_postfix = output_postfix
        self.orig_key = orig_key
        self.restore_outside = None if restore_outside is None else tuple(float(v) for v in restore_outside)
        self.dtype = np.dtype(dtype)
        self.path_key_postfix = path_key_postfix
        self.inputs = LoadCTSlice(reader=reader, axcodes=axcodes, cache_size=1)
        self._pending: dict[str, dict[str, Any]] = {}
        self._lock = threading.Lock()

    def __call__(self, data: Mapping[Hashable, Any]) -> dict[Hashable, Any]:
        d = dict(data)
        for key in self.key_iterator(d):
            meta = source_meta(d, key, self.orig_key, CTMeta.SLICE)
            path = self.add(d[key], meta if meta is not None else {})
            if path is not None:
                d[f"{key}_{self.path_key_postfix}"] = str(path)
        return d

    def add(self, img: torch.Tensor, meta: Mapping) -> Path | None:
        """Add one slice; write and return the volume's path when this slice completes it."""
        source, k, shape, affine, file_affine = _slice_geometry(img, meta)
        with self._lock:
            entry = self._pending.setdefault(
                source, {"shape": shape, "affine": affine, "file_affine": file_affine, "slices": {}}
            )
            entry["slices"][k] = torch.as_tensor(img).detach().float().cpu().reshape(shape[:2])
            if len(entry["slices"]) < shape[2]:
                return None
            del self._pending[source]
        return self._write(source, entry)

    def flush(self) -> list[Path]:
        """Write every incomplete volume (its other slices from the input) and return the paths."""
        with self._lock:
            pending, self._pending = self._pending, {}
        return [self._write(source, entry) for source, entry in pending.items()]

    def attach(self, engine: Any) -> None:
        """Flush at the end of ``engine``'s run (so the saver can also be listed among an evaluator's handlers)."""
        from ignite.engine import Events

        engine.add_event_handler(Events.COMPLETED, lambda _: self.flush())

    def _write(self, source: str, entry: dict[str, Any]) -> Path:
        shape, slices = entry["shape"], entry["slices"]
        needs_input = len(slices) < shape[2] or self.restore_outside is not None
        original = self.inputs.volume(source).as_tensor()[0] if needs_input else None
        if original is not None and tuple(original.shape) != tuple(shape):
            raise InputFileError(f"{source}: the volume changed on disk while its slices were translated.")
        volume = stack_axial_slices(list(slices.values()), list(slices), shape, entry["affine"], fill=original)[0]
        volume = volume.as_tensor().numpy()
        if self.restore_outside is not None:
            lo, hi = self.restore_outside
            keep = (original < lo) | (original > hi)
            volume = np.where(keep.numpy(), original.numpy(), volume)
        array, affine = _to_file_order(volume, entry["affine"], entry["file_affine"])
        path = self.output_dir / f"{_stem(source)}_{self.output_postfix}.nii.gz"
        write_ct_nifti(path, array, affine, dtype=self.dtype)
        logger.info("saved %s", path)
        return path
