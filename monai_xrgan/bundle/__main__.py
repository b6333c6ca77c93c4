"""``python -m monai_xrgan.bundle demo <bundle> [--key value ...]``: run a bundle end to end on its demo data."""

from __future__ import annotations

import argparse
import subprocess
import sys

from monai_xrgan.bundle.demo import run_demo


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m monai_xrgan.bundle", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    demo = commands.add_parser("demo", help="train, run inference and evaluate a bundle on its demo data")
    demo.add_argument("bundle", help="bundle name under bundles/ (e.g. pix2pix_cxr) or a bundle folder")
    args, overrides = parser.parse_known_args(argv)
    try:
        run_demo(args.bundle, overrides)
    except subprocess.CalledProcessError as e:
        print(f"error: step failed with exit code {e.returncode}: {' '.join(e.cmd)}", file=sys.stderr)
        return e.returncode
    return 0


if __name__ == "__main__":
    sys.exit(main())
