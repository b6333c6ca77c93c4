"""Does the MI-GAN evaluation's real-only classifier learn the key domain (mild COVID-19) from the scarce real slices?

Trains the classifier that ``configs/evaluate.json`` uses for GAN-test and the ``real`` arm (the bundle's
``classifier`` settings, the reproduce's half width and its number of steps; ``--epochs`` / ``--lr`` override
them) on the real training slices, once per seed, and prints how it scores the key domain's own training slices
(does it fit them?) against the held-out test slices (does it recognise the finding in other patients?), with the
test confusion matrix and the key domain's AUC. A classifier that fits its few key patients but calls the other
patients' key slices another domain has memorised those patients, not the finding.

    python benchmarks/migan_key_classifier_probe.py --data /tmp/migan_probe --num_train_mild 2 --seeds 0 1 2

``--data`` is generated as the bundle's demo (``monai_xrgan.demo.datasets.ensure_demo_data``, seed 0) when it does
not exist yet; ``--num_train_mild`` (the demo option) sets how many key-domain training patients it gets.
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path

import torch
from monai.bundle import ConfigParser
from monai.transforms import Resized

from monai_xrgan.demo.datasets import ensure_demo_data
from monai_xrgan.metrics.classification import resolve_class_index
from monai_xrgan.workflows.gan_scores import classifier_reports
from monai_xrgan.workflows.translation import _key_domain_sources, _labelled, load_images

BUNDLE = Path(__file__).resolve().parents[1] / "bundles" / "migan_ct"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", required=True, help="dataset folder (the demo is generated there when missing)")
    parser.add_argument("--num_train_mild", type=int, default=2, help="demo option: key-domain training patients")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--epochs", type=int, default=None, help="default: the bundle's classifier_epochs")
    parser.add_argument("--lr", type=float, default=None, help="default: the bundle's classifier lr")
    parser.add_argument("--widen_factor", type=float, default=0.5, help="the reproduce's classifier width")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    config = ConfigParser()
    config.read_config([str(BUNDLE / "configs" / "train.json"), str(BUNDLE / "configs" / "evaluate.json")])
    config["dataset_dir"] = args.data
    size = config.get_parsed_content("image_size")
    ensure_demo_data(args.data, "migan", size=size, seed=0, num_train_mild=args.num_train_mild)
    preprocessing = config.get_parsed_content("slice_preprocessing")
    names = config.get_parsed_content("domains")
    key = resolve_class_index(config.get_parsed_content("key_domain"), names)
    train_x, train_d = load_images(config.get_parsed_content("evaluate#train_data"), preprocessing)
    test_x, test_d = load_images(config.get_parsed_content("evaluate#test_data"), preprocessing)
    train, test = _labelled(train_x, train_d, (-1, 1)), _labelled(test_x, test_d, (-1, 1))
    key_train = [item for item in train if item["label"] == key]
    print(f"training slices per domain {torch.bincount(train_d).tolist()}, test {torch.bincount(test_d).tolist()}")

    settings = dict(config.get_parsed_content("classifier"))
    settings.update(widen_factor=args.widen_factor, device="cpu", num_workers=0)
    settings["preprocessing"] = Resized("image", spatial_size=(size, size))
    # the evaluation's step count: one pass over the real + translated set of its augmentation arm
    settings["steps_per_epoch"] = math.ceil(
        (len(train) + len(_key_domain_sources(train_d, key))) / settings["batch_size"]
    )
    if args.epochs is not None:
        settings["epochs"] = args.epochs
    if args.lr is not None:
        settings["lr"] = args.lr
    print(f"{'seed':>4} {'key train fit':>13} {'key test sens':>13} {'key spec':>8} {'key AUC':>7} {'accuracy':>8}  "
          f"test confusion (rows: true {names})")  # fmt: skip
    for seed in args.seeds:
        settings["seed"] = seed
        reports = classifier_reports(train, {"test": test, "key_train": key_train}, names, key, **settings)
        fit = reports["key_train"]["positive"]["sensitivity"]
        held_out = reports["test"]
        positive = held_out["positive"]
        print(f"{seed:>4} {fit:>13.3f} {positive['sensitivity']:>13.3f} {positive['specificity']:>8.3f} "
              f"{positive.get('auc', float('nan')):>7.3f} {held_out['accuracy']:>8.3f}  "
              f"{held_out['confusion_matrix']}")  # fmt: skip


if __name__ == "__main__":
    main()
