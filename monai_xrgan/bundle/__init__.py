"""Tools around the bundles in ``bundles/``: locate them and run their train -> inference -> evaluate demo."""

from monai_xrgan.bundle.demo import bundle_command, find_bundle, run_demo

__all__ = ["find_bundle", "bundle_command", "run_demo"]
