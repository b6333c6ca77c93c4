"""Loading radiographs: DICOM decoding (LUTs, MONOCHROME1), format equivalence and one-line user errors."""

from __future__ import annotations

import logging
import os
import shutil

import nibabel as nib
import numpy as np
import pydicom
import pytest
import torch
from monai.data import PILReader
from monai.transforms import LoadImage
from PIL import Image

from monai_xrgan.io.xray import write_dicom, write_png
from monai_xrgan.transforms import LoadXRay, LoadXRayd, XRayDicomReader, XRayMeta

H, W = 80, 96  # rows, columns: non-square on purpose


@pytest.fixture(scope="module")
def picture() -> np.ndarray:
    """Smooth gradient plus a bright disc and a dark bar, spanning exactly [0, 1], rows first (H, W)."""
    y, x = np.mgrid[0:H, 0:W].astype(np.float64)
    img = 0.25 + 0.4 * x / (W - 1) + 0.25 * y / (H - 1)
    img[(x - 30) ** 2 + (y - 40) ** 2 < 150] = 0.97
    img[10:20, 60:85] = 0.03
    return (img - img.min()) / (img.max() - img.min())


def as_monai(picture: np.ndarray) -> torch.Tensor:
    """The (1, X, Y) tensor MONAI's convention gives for an (H, W) picture."""
    return torch.as_tensor(picture.T[None], dtype=torch.float32)


def check_one_line(err: pytest.ExceptionInfo, path: os.PathLike) -> str:
    message = str(err.value)
    assert message.startswith(str(path)), message
    assert "\n" not in message
    return message


@pytest.mark.parametrize("photometric", ["MONOCHROME2", "MONOCHROME1"])
@pytest.mark.parametrize("bits", [8, 12, 16])
@pytest.mark.parametrize("rescale", [None, (0.5, -100.0)])
@pytest.mark.parametrize("windowed", [False, True])
def test_dicom_variants_decode_to_the_same_image(tmp_path, picture, photometric, bits, rescale, windowed):
    slope, intercept = rescale or (1.0, 0.0)
    lo, hi = intercept, ((1 << bits) - 1) * slope + intercept  # modality range of the stored values
    window = ((lo + hi) / 2 + 0.5, hi - lo + 1) if windowed else None  # LINEAR window mapping [lo, hi] onto itself
    path = write_dicom(
        tmp_path / "x.dcm",
        picture,
        modality="CR" if rescale else "DX",
        bits_stored=bits,
        photometric=photometric,
        rescale=rescale,
        window=window,
    )
    img = LoadXRay()(path)
    assert img.shape == (1, W, H) and img.dtype == torch.float32
    torch.testing.assert_close(img.as_tensor(), as_monai(picture), atol=0.5 / ((1 << bits) - 1) + 1e-6, rtol=0)
    meta = img.meta
    assert meta[XRayMeta.FORMAT] == "dicom" and meta[XRayMeta.BITS] == bits
    assert meta[XRayMeta.PHOTOMETRIC] == photometric
    assert (meta[XRayMeta.MIN], meta[XRayMeta.MAX]) == pytest.approx((lo, hi))  # inversion keeps the LUT range
    assert meta["filename_or_obj"] == str(path)
    assert "00100020" in meta  # DICOM tags kept (PatientID)


def test_voi_window_is_applied(tmp_path, picture):
    path = write_dicom(tmp_path / "w.dcm", picture, bits_stored=12, window=(2048.0, 2048.0))
    stored = pydicom.dcmread(path).pixel_array.astype(np.float64)
    # DICOM LINEAR window (PS3.3 C.11.2.1.2.1) with c = 2048, w = 2048, then min-max scaled
    expected = np.where(stored <= 1024, 0.0, np.clip((stored - 2047.5) / 2047.0 + 0.5, 0.0, 1.0))
    torch.testing.assert_close(LoadXRay()(path).as_tensor(), as_monai(expected), atol=1e-5, rtol=0)


def test_png_nifti_and_dicom_give_the_same_tensor(tmp_path, picture):
    affine = np.diag([0.2, 0.2, 1, 1])
    nib.save(nib.Nifti1Image(picture.T.astype(np.float32) * 1000 - 200, affine), tmp_path / "a.nii.gz")
    nib.save(nib.Nifti1Image(np.round(picture.T[..., None] * 3000).astype(np.int16), np.eye(4)), tmp_path / "b.nii")
    files = {
        "png8": (write_png(tmp_path / "p8.png", picture, bits=8), 8, 0.5 / 255),
        "png16": (write_png(tmp_path / "p16.png", picture, bits=16), 16, 0.5 / 65535),
        "nifti": (tmp_path / "a.nii.gz", 32, 1e-6),
        "nifti_xy1": (tmp_path / "b.nii", 16, 0.5 / 3000),
        "dicom": (write_dicom(tmp_path / "d.dcm", picture, bits_stored=16), 16, 0.5 / 65535),
    }
    loader = LoadXRayd(keys=list(files))
    data = loader({key: path for key, (path, _, _) in files.items()})
    for key, (path, bits, atol) in files.items():
        img = data[key]
        assert img.shape == (1, W, H), key
        torch.testing.assert_close(img.as_tensor(), as_monai(picture), atol=atol + 1e-6, rtol=0, msg=key)
        assert img.meta[XRayMeta.BITS] == bits, key
        assert img.meta["filename_or_obj"] == str(path)
    assert data["png8"].meta[XRayMeta.FORMAT] == "png"
    assert data["nifti"].meta[XRayMeta.FORMAT] == "nifti"
    assert (data["nifti"].meta[XRayMeta.MIN], data["nifti"].meta[XRayMeta.MAX]) == pytest.approx((-200, 800))


def test_dicom_reader_does_not_claim_other_files(tmp_path, picture):
    png = write_png(tmp_path / "p.png", picture)
    dcm = write_dicom(tmp_path / "d.dcm", picture)
    shutil.copy(dcm, tmp_path / "no_suffix")
    reader = XRayDicomReader()
    assert not reader.verify_suffix(png)
    assert reader.verify_suffix(dcm) and reader.verify_suffix(tmp_path / "no_suffix")
    # registered after PIL, so it is tried first: the PNG must still go to PILReader
    img = LoadImage(reader=[PILReader(), reader], image_only=True)(png)
    assert img.shape == (W, H)
    img = LoadImage(reader=[PILReader(), reader], image_only=True)(dcm)
    assert img.meta[XRayMeta.FORMAT] == "dicom"


def test_constant_image_maps_to_zero(tmp_path):
    path = write_png(tmp_path / "flat.png", np.full((H, W), 0.4))
    img = LoadXRay()(path)
    assert torch.count_nonzero(img) == 0 and torch.isfinite(img).all()
    assert img.meta[XRayMeta.MIN] == img.meta[XRayMeta.MAX] == 102


def test_missing_file(tmp_path):
    path = tmp_path / "nowhere" / "cxr.png"
    with pytest.raises(FileNotFoundError) as err:
        LoadXRay()(path)
    assert "dataset_dir" in check_one_line(err, path)


@pytest.mark.parametrize("name", ["notes.png", "notes.txt"])
def test_non_image_file(tmp_path, name):
    path = tmp_path / name
    path.write_text("not an image\n")
    with pytest.raises(ValueError) as err:
        LoadXRay()(path)
    check_one_line(err, path)


@pytest.mark.parametrize("damage", ["truncated", "garbage"])
def test_corrupt_dicom(tmp_path, picture, damage):
    good = write_dicom(tmp_path / "good.dcm", picture, bits_stored=12).read_bytes()
    path = tmp_path / f"{damage}.dcm"
    if damage == "truncated":
        path.write_bytes(good[:-1000])
    else:
        path.write_bytes(good[:128] + b"DICM" + np.random.default_rng(0).bytes(2000))
    with pytest.raises(ValueError) as err:
        LoadXRay()(path)
    assert "corrupt" in check_one_line(err, path)


def test_colour_png_is_converted_with_one_log_line(tmp_path, picture, caplog):
    rgb = np.stack([picture, picture * 0.5, picture * 0.25], axis=-1)
    path = tmp_path / "colour.png"
    Image.fromarray(np.round(rgb * 255).astype(np.uint8)).save(path)
    with caplog.at_level(logging.INFO, logger="monai_xrgan"):
        img = LoadXRay()(path)
    records = [r for r in caplog.records if str(path) in r.getMessage()]
    assert len(records) == 1 and "grey" in records[0].getMessage()
    assert img.shape == (1, W, H)
    grey = np.round(rgb * 255) @ np.array([0.299, 0.587, 0.114])
    expected = (grey - grey.min()) / (grey.max() - grey.min())
    torch.testing.assert_close(img.as_tensor(), as_monai(expected), atol=1e-5, rtol=0)
    assert img.meta[XRayMeta.PHOTOMETRIC] == "RGB"


def test_3d_nifti_volume_is_refused(tmp_path):
    path = tmp_path / "ct.nii.gz"
    nib.save(nib.Nifti1Image(np.zeros((32, 24, 5), np.float32), np.eye(4)), path)
    with pytest.raises(ValueError) as err:
        LoadXRay()(path)
    message = check_one_line(err, path)
    assert "3-D volume of shape (32, 24, 5)" in message and "2-D frontal radiograph" in message
