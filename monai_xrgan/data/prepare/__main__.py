"""``python -m monai_xrgan.data.prepare <dataset> --root DIR --out DATALIST.json [options]``."""

from __future__ import annotations

import argparse
import importlib
import inspect
import sys

from monai_xrgan.data.prepare import DATASETS, prepare_dataset
from monai_xrgan.utils.errors import UserInputError

#: dataset-specific options: flag → (type, help)
_OPTIONS = {
    "bundle": (str, "covid19_radiography: the bundle whose training lists to write (pix2pix_cxr or drai_cxr)"),
    "lq_list": (str, "qata_cov19: text file naming the low-quality images (relative to --root), one per line"),
    "derived": (str, "folder of the files a preparer derives (default ROOT/monai_xrgan_derived/<dataset>)"),
    "slice_step": (int, "mosmeddata, cc_ccii: every n-th slice of the central 60 %% of a volume (default 4)"),
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m monai_xrgan.data.prepare", description=__doc__)
    parser.add_argument("dataset", choices=sorted(DATASETS), help="; ".join(f"{k}: {v}" for k, v in DATASETS.items()))
    parser.add_argument("--root", required=True, help="the dataset's folder as downloaded")
    parser.add_argument("--out", required=True, help="the datalist JSON to write")
    parser.add_argument("--val", type=float, default=0.1, help="fraction of patients for validation")
    parser.add_argument("--test", type=float, default=0.1, help="fraction of patients for the test split")
    parser.add_argument("--seed", type=int, default=0, help="seed of the split (and of derived degradations)")
    for flag, (kind, text) in _OPTIONS.items():
        parser.add_argument(f"--{flag}", type=kind, default=None, help=text)
    parser.add_argument("--no_invert", action="store_true", help="jsrt: keep the stored values (default 4095 - value)")
    args = parser.parse_args(argv)
    accepted = inspect.signature(importlib.import_module(f"monai_xrgan.data.prepare.{args.dataset}").prepare).parameters
    options = {"val": args.val, "test": args.test, "seed": args.seed}
    for flag in (*_OPTIONS, "invert"):
        value = (False if args.no_invert else None) if flag == "invert" else getattr(args, flag)
        if value is not None and flag not in accepted:
            parser.error(f"--{'no_invert' if flag == 'invert' else flag} does not apply to {args.dataset}")
        options[flag] = value
    try:
        content = prepare_dataset(args.dataset, args.root, args.out, **options)
    except UserInputError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    counts = ", ".join(
        f"{k} {len(v)}" for k, v in content.items() if isinstance(v, list) and v and isinstance(v[0], dict)
    )
    print(f"wrote {args.out} ({counts}); paths are relative to {args.root}: use --dataset_dir {args.root} "
          f"--datalist {args.out}")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
