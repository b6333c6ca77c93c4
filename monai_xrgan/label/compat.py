"""Make MONAI Label 0.8.5 importable next to pydicom 3 (which monai 1.6.1 and this package use).

MONAI Label imports ``pydicom_seg`` when its server starts; pydicom-seg 0.4.1 (the last release) imports
``pydicom._storage_sopclass_uids``, a private module that pydicom 3 folded into ``pydicom.uid`` (same constants).
"""

from __future__ import annotations

import importlib.util
import sys

import pydicom.uid

__all__ = ["alias_pydicom_sop_class_uids"]


def alias_pydicom_sop_class_uids() -> None:
    """Point ``pydicom._storage_sopclass_uids`` at ``pydicom.uid`` when this pydicom has no such module."""
    if importlib.util.find_spec("pydicom._storage_sopclass_uids") is None:
        sys.modules.setdefault("pydicom._storage_sopclass_uids", pydicom.uid)
