"""Command line of the MONAI Label app: ``python -m monai_xrgan.label app-path`` prints the app folder."""

from __future__ import annotations

import argparse
import sys

from monai_xrgan.label import APP_DIR


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m monai_xrgan.label", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("app-path", help="print the app folder to give `monailabel start_server --app`")
    parser.parse_args(argv)
    print(APP_DIR)
    return 0


if __name__ == "__main__":
    sys.exit(main())
