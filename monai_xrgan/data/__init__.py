"""Data: datalists and image writers (demo datasets: :mod:`monai_xrgan.data.demo`, phantoms:
:mod:`monai_xrgan.data.phantoms`, kept out of this namespace so that both run with ``python -m``)."""

from monai_xrgan.data.datalists import datalist_from_folder, load_datalist
from monai_xrgan.data.datasets import cached_dataset
from monai_xrgan.data.io import write_dicom, write_png
from monai_xrgan.data.loaders import GuardedDataLoader

__all__ = ["load_datalist", "datalist_from_folder", "cached_dataset", "write_png", "write_dicom", "GuardedDataLoader"]
