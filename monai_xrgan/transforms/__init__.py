"""MONAI-style transforms (array + dictionary versions) for radiographs."""

from __future__ import annotations

from .xray import (
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
    "LoadXRay",
    "LoadXRayd",
    "SaveXRay",
    "SaveXRayd",
    "XRayDicomReader",
    "XRayMeta",
    "XRayPreprocessd",
    "XRayToModelRange",
    "XRayToModelRanged",
    "xray_format_of",
]
