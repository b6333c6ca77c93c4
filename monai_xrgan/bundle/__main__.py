"""Command line for the bundles: ``python -m monai_xrgan.bundle {demo,reproduce,verify,export,pack,download} ...``."""

from __future__ import annotations

import argparse
import subprocess
import sys

from monai_xrgan.bundle.archive import MAX_RATIO, MAX_UNPACKED_MB, download_bundle, pack_bundle
from monai_xrgan.bundle.demo import run_demo
from monai_xrgan.bundle.export import FORMATS, export_bundle
from monai_xrgan.bundle.verify import verify_bundle
from monai_xrgan.evaluation.experiments import experiment_for
from monai_xrgan.evaluation.runner import StepFailedError, reproduce
from monai_xrgan.utils.bundles import REPO_BUNDLES, find_bundle
from monai_xrgan.utils.errors import UserInputError


def _all_bundles() -> list[str]:
    return sorted(p.name for p in REPO_BUNDLES.iterdir() if (p / "configs" / "metadata.json").is_file())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m monai_xrgan.bundle", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    demo = commands.add_parser("demo", help="train, run inference and evaluate a bundle on its demo data")
    demo.add_argument("bundle", help="bundle name under bundles/ (e.g. pix2pix_cxr) or a bundle folder")
    repro = commands.add_parser(
        "reproduce", help="run a bundle's experiment (every arm, every seed) and write eval/report/ (json, md, figures)"
    )
    repro.add_argument("bundle", help="bundle name under bundles/, a bundle folder, or `all`")
    repro.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2], help="training seeds (default: 0 1 2)")
    repro.add_argument("--reuse", action="store_true", help="reuse models trained by an earlier run")
    repro.add_argument("--card", action="store_true", help="also write report.md into the bundle's docs/README.md")
    verify = commands.add_parser("verify", help="check bundles offline as the MONAI model zoo does")
    verify.add_argument("bundles", nargs="*", help="bundle names or folders (default: every bundle in bundles/)")
    export = commands.add_parser(
        "export", help="export the served network to TorchScript or ONNX, checked against eager"
    )
    export.add_argument("bundle", help="bundle name or folder")
    export.add_argument("--format", required=True, choices=FORMATS)
    export.add_argument("--filepath", required=True, help="output file")
    export.add_argument("--ckpt_file", default=None, help="weights (default: the bundle's models/model.pt)")
    pack = commands.add_parser("pack", help="write <bundle>.zip (+ .sha256) for monai.bundle download/load")
    pack.add_argument("bundle", help="bundle name or folder (trained: models/model.pt present)")
    pack.add_argument("--out", required=True, help="output folder")
    download = commands.add_parser("download", help="download a packed bundle, check its sha256, unpack it safely")
    download.add_argument("--url", required=True)
    download.add_argument("--sha256", required=True)
    download.add_argument("--bundle_dir", required=True, help="folder that receives <name>/")
    download.add_argument("--name", default=None, help="bundle name (default: the archive's name)")
    download.add_argument("--max_unpacked_mb", type=float, default=MAX_UNPACKED_MB, help="refuse larger archives")
    download.add_argument("--max_ratio", type=float, default=MAX_RATIO, help="refuse higher compression ratios")
    args, overrides = parser.parse_known_args(argv)
    if overrides and args.command not in ("demo", "reproduce"):
        parser.error(f"unrecognized arguments: {' '.join(overrides)}")
    try:
        if args.command == "demo":
            run_demo(args.bundle, overrides)
        elif args.command == "reproduce":
            names = _all_bundles() if args.bundle == "all" else [args.bundle]
            for bundle in map(find_bundle, names):
                reproduce(bundle, experiment_for(bundle), args.seeds, overrides, reuse=args.reuse, card=args.card)
        elif args.command == "verify":
            for name in args.bundles or _all_bundles():
                verify_bundle(find_bundle(name))
        elif args.command == "export":
            export_bundle(find_bundle(args.bundle), args.format, args.filepath, args.ckpt_file)
        elif args.command == "pack":
            pack_bundle(find_bundle(args.bundle), args.out)
        else:
            target = download_bundle(args.url, args.sha256, args.bundle_dir, args.name, args.max_unpacked_mb,
                                     args.max_ratio)  # fmt: skip
            print(f"unpacked {target}")
    except StepFailedError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    except subprocess.CalledProcessError as e:
        print(f"error: step failed with exit code {e.returncode}: {' '.join(e.cmd)}", file=sys.stderr)
        return e.returncode
    except UserInputError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
