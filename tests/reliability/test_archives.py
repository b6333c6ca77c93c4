"""Archives: zip bombs are refused before anything is written, and ``pack`` refuses partial files (issue 18, cases 6
and 8)."""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path

import pytest

from monai_xrgan.bundle import download_bundle, pack_bundle, sha256_of
from monai_xrgan.bundle.archive import check_archive_size
from monai_xrgan.utils.bundles import REPO_BUNDLES
from monai_xrgan.utils.errors import InputFileError


def zeros_archive(path: Path, mib: int) -> Path:
    """A bundle-shaped zip holding ``mib`` MiB of zeros (about 1000x compressed)."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("bomb/configs/metadata.json", "{}")
        with zf.open("bomb/models/zeros.bin", "w") as f:
            for _ in range(mib):
                f.write(bytes(1 << 20))
    return path


def test_zip_bomb_is_refused_before_unpacking(tmp_path):
    archive = zeros_archive(tmp_path / "bomb.zip", 32)
    target = tmp_path / "bundles"
    with pytest.raises(InputFileError, match=r"bomb\.zip: unpacks to 32\.0 MiB, \d+x its size .*--max_ratio"):
        download_bundle(f"file://{archive}", sha256_of(archive), target)
    assert list(target.iterdir()) == []  # nothing unpacked, no staging folder left


def test_archive_limits_are_configurable(tmp_path):
    archive = zeros_archive(tmp_path / "bomb.zip", 2)
    check_archive_size(archive, max_ratio=10_000)  # accepted when the user raises the ratio
    with pytest.raises(InputFileError, match=r"limits 1 MiB"):
        check_archive_size(archive, max_unpacked_mb=1, max_ratio=10_000)
    assert download_bundle(f"file://{archive}", sha256_of(archive), tmp_path / "b", max_ratio=10_000).is_dir()


@pytest.mark.parametrize("stray", ["tmpab12cd_9", ".model.pt.4242.partial"])
def test_pack_refuses_partial_files(tmp_path, stray):
    bundle = tmp_path / "pix2pix_cxr"
    shutil.copytree(REPO_BUNDLES / "pix2pix_cxr" / "configs", bundle / "configs")
    (bundle / "models").mkdir()
    (bundle / "models" / "model.pt").write_bytes(b"weights")
    (bundle / "models" / stray).write_bytes(b"half")
    with pytest.raises(InputFileError, match=f"{stray}: a partial file left by an interrupted write"):
        pack_bundle(bundle, tmp_path / "out")
