"""Shape and modality guards of LoadXRay on synthetic files: refused in one line naming the override, or accepted with
a warning when ``allow_non_radiograph`` is set (real MR/CT/multi-frame files: ``test_real_dicom.py``)."""

from __future__ import annotations

import logging

import nibabel as nib
import numpy as np
import pydicom
import pytest

from monai_xrgan.io.xray import write_dicom
from monai_xrgan.transforms import XRAY_MODALITIES, LoadXRay, XRayPreprocessd
from monai_xrgan.utils.errors import InputFileError, find_user_error


def test_3d_volume_refused_or_middle_slice(tmp_path, caplog):
    volume = np.random.default_rng(0).random((12, 10, 5)).astype(np.float32)
    path = tmp_path / "ct.nii.gz"
    nib.save(nib.Nifti1Image(volume, np.eye(4)), path)
    with pytest.raises(InputFileError, match=r"3-D volume of shape \(12, 10, 5\).*allow_non_radiograph=True"):
        LoadXRay()(path)
    with caplog.at_level(logging.WARNING):
        img = LoadXRay(allow_non_radiograph=True)(path)
    middle = volume[:, :, 2]
    np.testing.assert_allclose(img[0].numpy(), (middle - middle.min()) / (middle.max() - middle.min()), atol=1e-6)
    assert "its middle slice is used (allow_non_radiograph=True)" in caplog.text


@pytest.mark.parametrize("modality", [*XRAY_MODALITIES, "MR", "US"])
def test_modalities(tmp_path, modality):
    path = write_dicom(tmp_path / "x.dcm", np.random.default_rng(1).random((16, 12)))
    ds = pydicom.dcmread(path)
    ds.Modality = modality
    ds.save_as(path)
    pre = XRayPreprocessd("image", 8)
    if modality in XRAY_MODALITIES:
        assert pre({"image": str(path)})["image"].shape == (1, 8, 8)
        return
    with pytest.raises(RuntimeError) as err:  # Compose wraps the loader's error
        pre({"image": str(path)})
    article = "an" if modality == "MR" else "a"
    assert str(find_user_error(err.value)) == (
        f"{path}: is {article} {modality} image (DICOM Modality {modality}, not one of CR/DX/DR/RG/OT); this bundle "
        "needs a single-frame 2-D radiograph, remove it from the datalist or set allow_non_radiograph=True to use it "
        "anyway."
    )
    override = XRayPreprocessd("image", 8, allow_non_radiograph=True)
    assert override({"image": str(path)})["image"].shape == (1, 8, 8)
