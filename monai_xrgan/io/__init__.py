"""Image file writers: PNG and DICOM radiographs (:mod:`~monai_xrgan.io.xray`), NIfTI volumes and DICOM CT series
(:mod:`~monai_xrgan.io.ct`). The layer just above ``utils``: transforms, data and handlers write through it."""

from monai_xrgan.io.ct import write_ct_dicom_series, write_ct_nifti
from monai_xrgan.io.xray import SOP_CLASS_UIDS, write_dicom, write_png

__all__ = ["SOP_CLASS_UIDS", "write_png", "write_dicom", "write_ct_nifti", "write_ct_dicom_series"]
