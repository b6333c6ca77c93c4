"""Pack a bundle into the zip archive MONAI's tools accept, and download/unpack one safely."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import zipfile
from pathlib import Path

from monai.apps.utils import download_url, extractall

from monai_xrgan.utils.errors import ConfigError, InputFileError, MissingInputError
from monai_xrgan.utils.files import is_temporary

__all__ = [
    "PACKED_DIRS",
    "MAX_UNPACKED_MB",
    "MAX_RATIO",
    "pack_bundle",
    "download_bundle",
    "check_archive_size",
    "sha256_of",
]

#: what a distributed bundle holds; training outputs (checkpoints/, eval/, runs/, data/) stay behind
PACKED_DIRS = ("configs", "docs", "models")
_PACKED_FILES = ("LICENSE",)
_ZIP_DATE = (2020, 1, 1, 0, 0, 0)  # fixed timestamps: the same bundle content always gives the same archive hash
#: default limits of :func:`download_bundle` against zip bombs: total unpacked size, and unpacked / archive size
MAX_UNPACKED_MB = 4096
MAX_RATIO = 100.0


def sha256_of(path: str | os.PathLike) -> str:
    """Hex SHA-256 of a file, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _packed_files(bundle: Path) -> list[Path]:
    files = [bundle / name for name in _PACKED_FILES if (bundle / name).is_file()]
    for folder in PACKED_DIRS:
        found = sorted(p for p in (bundle / folder).rglob("*") if p.is_file())
        stray = [p for p in found if is_temporary(p)]
        if stray:
            raise InputFileError(f"{stray[0]}: a partial file left by an interrupted write; delete it (re-running "
                                 "training also removes it) before packing.")  # fmt: skip
        files += [p for p in found if not p.name.startswith(".")]
    return files


def check_archive_size(
    archive: str | os.PathLike,
    max_unpacked_mb: float = MAX_UNPACKED_MB,
    max_ratio: float = MAX_RATIO,
    label: str | None = None,
) -> None:
    """Refuse a zip whose entries unpack to more than ``max_unpacked_mb`` MiB in total or to more than ``max_ratio``
    times the archive's size (a zip bomb), from its directory, before anything is written.

    The sizes come from the zip's directory; ``zipfile`` stops an entry that decompresses past its declared size.
    ``label`` names the archive in messages (default its path).
    """
    archive = Path(archive)
    label = label or str(archive)
    try:
        with zipfile.ZipFile(archive) as zf:
            total = sum(info.file_size for info in zf.infolist())
    except zipfile.BadZipFile as e:
        raise InputFileError(f"{label}: not a valid bundle archive ({e}).") from e
    ratio = total / max(archive.stat().st_size, 1)
    if total > max_unpacked_mb * 2**20 or ratio > max_ratio:
        raise InputFileError(
            f"{label}: unpacks to {total / 2**20:.1f} MiB, {ratio:.0f}x its size (limits {max_unpacked_mb:g} MiB, "
            f"{max_ratio:g}x); refused as a possible zip bomb. If you trust it, raise --max_unpacked_mb / --max_ratio."
        )


def pack_bundle(
    bundle_dir: str | os.PathLike, out_dir: str | os.PathLike, require_weights: bool = True
) -> tuple[Path, str]:
    """Write ``out_dir/<name>.zip`` (all files under a top folder ``<name>/``) and ``<name>.zip.sha256``.

    The layout is the MONAI Bundle archive format, so ``monai.bundle.download(url=...)``, ``monai.bundle.load``
    and :func:`download_bundle` accept it. Entries are stored with fixed timestamps in sorted order, so packing
    the same content twice gives the same hash.

    Args:
        bundle_dir: the bundle folder (``configs/metadata.json`` inside).
        out_dir: where the archive and its checksum file go.
        require_weights: refuse to pack a bundle without ``models/model.pt`` (train it first).

    Returns:
        the archive path and its SHA-256.
    """
    bundle = Path(bundle_dir)
    if not (bundle / "configs" / "metadata.json").is_file():
        raise MissingInputError(f"{bundle}: not a bundle (no configs/metadata.json).")
    if require_weights and not (bundle / "models" / "model.pt").is_file():
        raise MissingInputError(f"{bundle}/models/model.pt: not found; train the bundle before packing it.")
    version = json.loads((bundle / "configs" / "metadata.json").read_text())["version"]
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    archive = out / f"{bundle.name}.zip"
    tmp = archive.with_name(f".{archive.name}.tmp")
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for file in _packed_files(bundle):
            info = zipfile.ZipInfo(f"{bundle.name}/{file.relative_to(bundle).as_posix()}", date_time=_ZIP_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            with open(file, "rb") as src, zf.open(info, "w") as dst:
                shutil.copyfileobj(src, dst, 1 << 20)
    os.replace(tmp, archive)
    digest = sha256_of(archive)
    (out / f"{archive.name}.sha256").write_text(f"{digest}  {archive.name}\n")
    print(f"packed {bundle.name} v{version}: {archive} (sha256 {digest})")
    return archive, digest


def download_bundle(
    url: str,
    sha256: str,
    bundle_dir: str | os.PathLike,
    name: str | None = None,
    max_unpacked_mb: float = MAX_UNPACKED_MB,
    max_ratio: float = MAX_RATIO,
) -> Path:
    """Download a packed bundle with MONAI's ``download_url`` (checking its SHA-256) and unpack it safely.

    Unlike a plain download-and-extract, nothing is left behind on failure: the archive is downloaded and
    unpacked in a temporary folder beside ``bundle_dir/<name>``, checked (hash, zip integrity, unpacked size and
    compression ratio before anything is unpacked, no entry escaping the folder, a ``configs/metadata.json`` inside)
    and only then moved into place.

    Args:
        url: address of ``<name>.zip``.
        sha256: expected SHA-256 of the archive (as printed by :func:`pack_bundle`).
        bundle_dir: folder that receives ``<name>/``.
        name: bundle name, default the archive's file name without ``.zip``.
        max_unpacked_mb: largest total unpacked size accepted, in MiB.
        max_ratio: largest unpacked size / archive size accepted.

    Returns:
        the unpacked bundle folder.
    """
    name = name or Path(url.split("?")[0]).name.removesuffix(".zip")
    parent = Path(bundle_dir)
    target = parent / name
    if target.exists():
        raise ConfigError(f"{target}: already exists; remove it or choose another bundle_dir.")
    parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=parent, prefix=f".{name}.download.") as staging:
        archive = Path(staging) / f"{name}.zip"
        try:
            download_url(url=url, filepath=archive, hash_val=sha256, hash_type="sha256", progress=False)
        except Exception as e:  # MONAI raises HashCheckError / RuntimeError / URLError with long messages
            raise InputFileError(f"{url}: download failed or the archive is not the expected one ({type(e).__name__}: "
                                 f"{str(e).splitlines()[0]}); check the URL and the sha256.") from e  # fmt: skip
        check_archive_size(archive, max_unpacked_mb, max_ratio, label=url)
        unpacked = Path(staging) / "unpacked"
        try:
            extractall(archive, output_dir=unpacked, file_type="zip", has_base=True)
        except (zipfile.BadZipFile, ValueError, OSError) as e:
            raise InputFileError(f"{url}: not a valid bundle archive ({type(e).__name__}: {e}).") from e
        if not (unpacked / name / "configs" / "metadata.json").is_file():
            raise InputFileError(f"{url}: the archive has no {name}/configs/metadata.json; it is not a packed bundle.")
        shutil.move(str(unpacked / name), target)
    return target
