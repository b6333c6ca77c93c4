"""MONAI Label integration: an app that serves the bundles to 3D Slicer, OHIF or any HTTP client.

Start it with ``monailabel start_server --app $(python -m monai_xrgan.label app-path) --studies <images>
--uvicorn_app monai_xrgan.label.server:app --conf models pix2pix_cxr`` (see ``docs/monai_label.md``).
:mod:`~monai_xrgan.label.registry` and :mod:`~monai_xrgan.label.conf` need no MONAI Label;
:mod:`~monai_xrgan.label.tasks`, :mod:`~monai_xrgan.label.application` and :mod:`~monai_xrgan.label.server` do.
"""

from pathlib import Path

from monai_xrgan.label.compat import alias_pydicom_sop_class_uids

__all__ = ["APP_DIR"]

#: the MONAI Label app folder (its ``main.py`` defines the app) to give ``monailabel start_server --app``
APP_DIR = Path(__file__).resolve().parent / "app"

# MONAI Label imports pydicom-seg, which needs this alias on pydicom 3; every entry point imports this package first
alias_pydicom_sop_class_uids()
