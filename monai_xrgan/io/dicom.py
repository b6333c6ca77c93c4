"""What every DICOM file the package writes starts from."""

from __future__ import annotations

from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian

__all__ = ["new_dataset"]


def new_dataset(sop_class_uid: str, sop_instance_uid: str) -> Dataset:
    """An otherwise empty dataset of one SOP instance with its file meta information (explicit VR little endian).

    Args:
        sop_class_uid: SOP class of the instance (e.g. CT Image Storage).
        sop_instance_uid: the instance's unique identifier.
    """
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = sop_class_uid
    meta.MediaStorageSOPInstanceUID = sop_instance_uid
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = Dataset()
    ds.file_meta = meta
    ds.SOPClassUID, ds.SOPInstanceUID = sop_class_uid, sop_instance_uid
    return ds
