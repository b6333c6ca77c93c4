"""Data: datalists, cached datasets, guarded loaders, public-dataset preparation, and the image writers of
:mod:`monai_xrgan.io` (demo datasets and phantoms: :mod:`monai_xrgan.demo`)."""

from monai_xrgan.data.datalists import counterpart_items, datalist_from_folder, load_datalist
from monai_xrgan.data.datasets import cached_dataset
from monai_xrgan.data.loaders import GuardedDataLoader
from monai_xrgan.io.xray import write_dicom, write_png

__all__ = [
    "load_datalist",
    "datalist_from_folder",
    "counterpart_items",
    "cached_dataset",
    "write_png",
    "write_dicom",
    "GuardedDataLoader",
]
