"""MONAI-style transforms (array + dictionary versions) for radiographs."""

from __future__ import annotations

from .ct import (
    CTWindow,
    CTWindowd,
    LoadCT,
    LoadCTd,
    LoadCTSlice,
    LoadCTSliced,
    SaveCTSlicesd,
    ct_slice_items,
    stack_axial_slices,
)
from .degradation import Degradation, Degradationd, RandDegradation, RandDegradationd
from .style import RandomStyleTransform
from .xray import (
    XRAY_MODALITIES,
    AntialiasedResize,
    AntialiasedResized,
    LoadXRay,
    LoadXRayd,
    XRayDicomReader,
    XRayMeta,
    XRayPreprocessd,
    XRayToModelRange,
    XRayToModelRanged,
    xray_format_of,
)
from .xray_io import SaveXRay, SaveXRayd

__all__ = [
    "Degradation",
    "Degradationd",
    "RandDegradation",
    "RandDegradationd",
    "CTWindow",
    "CTWindowd",
    "LoadCT",
    "LoadCTd",
    "LoadCTSlice",
    "LoadCTSliced",
    "SaveCTSlicesd",
    "ct_slice_items",
    "stack_axial_slices",
    "AntialiasedResize",
    "AntialiasedResized",
    "LoadXRay",
    "LoadXRayd",
    "RandomStyleTransform",
    "SaveXRay",
    "SaveXRayd",
    "XRayDicomReader",
    "XRayMeta",
    "XRayPreprocessd",
    "XRayToModelRange",
    "XRayToModelRanged",
    "xray_format_of",
    "XRAY_MODALITIES",
]
