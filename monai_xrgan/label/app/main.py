"""MONAI Label app folder of monai_xrgan: ``monailabel start_server --app <this folder> ...`` loads this file and
uses the :class:`~monai_xrgan.label.application.XRGANLabelApp` it finds here (see docs/monai_label.md)."""

from monai_xrgan.label.application import XRGANLabelApp

__all__ = ["XRGANLabelApp"]
