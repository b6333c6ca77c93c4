"""Tools around the bundles in ``bundles/``: run their demo, verify, pack and download them."""

from monai_xrgan.bundle.archive import download_bundle, pack_bundle, sha256_of
from monai_xrgan.bundle.demo import run_demo
from monai_xrgan.bundle.verify import verify_bundle
from monai_xrgan.utils.bundles import REPO_BUNDLES, bundle_command, find_bundle

__all__ = [
    "REPO_BUNDLES",
    "find_bundle",
    "bundle_command",
    "run_demo",
    "verify_bundle",
    "pack_bundle",
    "download_bundle",
    "sha256_of",
]
