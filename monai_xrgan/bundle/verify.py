"""Check a bundle the way the MONAI model zoo does, offline: files, metadata schema, network I/O, configs, versions."""

from __future__ import annotations

import importlib.metadata
import json
import os
import re
from collections.abc import Callable
from pathlib import Path

import torch
from monai.bundle import ConfigParser, verify_metadata, verify_net_in_out
from monai.bundle.config_item import ConfigComponent, ConfigExpression
from monai.bundle.reference_resolver import ReferenceResolver

import monai_xrgan
from monai_xrgan.utils.bundles import REPO_BUNDLES
from monai_xrgan.utils.errors import ConfigError

__all__ = ["REQUIRED_FILES", "REQUIRED_IDS", "SCHEMA", "further_inputs", "verify_bundle"]

SCHEMA = REPO_BUNDLES / "metadata_schema.json"
REQUIRED_FILES = (
    "LICENSE",
    "docs/README.md",
    "configs/metadata.json",
    "configs/logging.conf",
    "configs/train.json",
    "configs/inference.json",
    "configs/evaluate.json",
    "configs/multi_gpu_train.json",
)
#: config ids that tools and users look up by name (docs/adding_a_bundle.md)
REQUIRED_IDS = {
    "train.json": ("bundle_root", "output_dir", "ckpt_dir", "models_dir", "dataset_dir", "datalist", "device", "amp",
                   "compile", "max_epochs", "network_def", "network", "pretrained_ckpt", "resume", "train#trainer",
                   "validate#evaluator", "initialize", "run"),
    "inference.json": ("bundle_root", "output_dir", "device", "ckpt_path", "network_def", "network", "preprocessing",
                       "postprocessing", "inferer", "dataset", "dataloader", "evaluator", "initialize", "run"),
}  # fmt: skip
#: configs that stand alone, in the order other configs are tried as their base
_BASES = ("train.json", "inference.json")
#: a config may also extend ``evaluate.json`` merged over ``train.json`` (e.g. extra test metrics)
_EVALUATE_CHAIN = ("train.json", "evaluate.json")


def further_inputs(metadata: dict) -> dict[str, torch.Tensor]:
    """Example values of ``network_def``'s further forward arguments: the ``network_data_format`` inputs after the
    first (e.g. a diffusion model's ``timesteps``), by name, of their ``spatial_shape``, ``dtype`` and
    ``value_range``."""
    values = {}
    for name, spec in list(metadata["network_data_format"]["inputs"].items())[1:]:
        dtype, shape = getattr(torch, spec["dtype"]), [int(s) for s in spec["spatial_shape"]]
        low, high = spec.get("value_range", (0, 1))
        value = (
            torch.rand(shape) * (high - low) + low
            if dtype.is_floating_point
            else torch.randint(int(low), int(high) + 1, shape)
        )
        values[name] = value.to(dtype)
    return values


def _parser(files: list[Path], meta: Path) -> ConfigParser:
    parser = ConfigParser()
    parser.read_config([str(f) for f in files])
    parser.read_meta(str(meta))
    parser.parse(reset=True)
    return parser


def _missing_references(parser: ConfigParser) -> list[str]:
    """Ids referenced with ``@`` anywhere in the config that the config does not define."""
    missing = []
    for item_id, item in parser.ref_resolver.items.items():
        config = item.get_config()
        if isinstance(item, (ConfigComponent, ConfigExpression)) or isinstance(config, str):
            for ref in ReferenceResolver.find_refs_in_config(config, item_id):
                if ref not in parser.ref_resolver.items:
                    missing.append(f"{item_id} -> @{ref}")
    return sorted(set(missing))


def _pinned_monai_version() -> str | None:
    for requirement in importlib.metadata.requires("monai_xrgan") or []:
        match = re.match(r"monai(\[[^\]]*\])?==([\w.]+)", requirement)
        if match:
            return match.group(2)
    return None


def verify_bundle(
    bundle_dir: str | os.PathLike, schema: str | os.PathLike = SCHEMA, log: Callable[[str], None] = print
) -> None:
    """Run every check on one bundle; raise :class:`ConfigError` naming the first failed check.

    Checks: required files; ``metadata.json`` against ``schema`` (``monai.bundle.verify_metadata``); the
    network's inputs/outputs against ``network_data_format`` (``verify_net_in_out``); the required config ids of
    ``train.json`` and ``inference.json``; every config parses and each ``@`` reference resolves, alone or merged
    over ``train.json``/``inference.json``/``train.json`` + ``evaluate.json``; ``network_def`` of ``train.json`` and
    ``inference.json`` build the same architecture; versions match the installed package and its MONAI pin; the
    version is in the changelog.
    """
    bundle = Path(bundle_dir)
    configs = bundle / "configs"
    meta = configs / "metadata.json"

    missing_files = [f for f in REQUIRED_FILES if not (bundle / f).is_file()]
    if missing_files:
        raise ConfigError(f"{bundle}: missing {missing_files}; see docs/adding_a_bundle.md.")
    log(f"{bundle.name}: required files present")

    verify_metadata(meta_file=str(meta), filepath=str(schema))
    metadata = json.loads(meta.read_text())
    log(f"{bundle.name}: metadata matches {schema}")

    for name, ids in REQUIRED_IDS.items():
        parser = _parser([configs / name], meta)
        absent = [i for i in ids if i not in parser]
        if absent:
            raise ConfigError(f"{configs / name}: missing config ids {absent}.")
    log(f"{bundle.name}: required config ids present")

    for config in sorted(configs.glob("*.json")):
        if config.name == "metadata.json":
            continue
        candidates = [[config]] + [[configs / base, config] for base in _BASES if base != config.name]
        if config.name not in _EVALUATE_CHAIN and all((configs / name).is_file() for name in _EVALUATE_CHAIN):
            candidates.append([*(configs / name for name in _EVALUATE_CHAIN), config])
        problems = {}
        for files in candidates:
            combination = " + ".join(f.name for f in files)
            try:
                problems[combination] = _missing_references(_parser(files, meta))
            except KeyError as e:  # e.g. an override of "train#sampler" read without train.json
                problems[combination] = [f"cannot merge: {e}"]
            if not problems[combination]:
                break
        else:
            raise ConfigError(f"{config}: unresolved references in every combination: {problems}.")
    log(f"{bundle.name}: every config parses and its references resolve")

    networks = {}
    for name in ("train.json", "inference.json"):
        net = _parser([configs / name], meta).get_parsed_content("network_def")
        networks[name] = {k: tuple(v.shape) for k, v in net.state_dict().items()}
    if networks["train.json"] != networks["inference.json"]:
        raise ConfigError(f"{configs}: network_def of train.json and inference.json build different networks; "
                          "models/model.pt from training would not load for inference.")  # fmt: skip
    with torch.no_grad():
        verify_net_in_out(net_id="network_def", meta_file=str(meta), config_file=str(configs / "inference.json"),
                          extra_forward_args=further_inputs(metadata))  # fmt: skip
    log(f"{bundle.name}: network_def matches network_data_format and is the same in training and inference")

    expected = {"monai_version": _pinned_monai_version(), "monai_xrgan": monai_xrgan.__version__}
    found = {"monai_version": metadata.get("monai_version"),
             "monai_xrgan": metadata.get("required_packages_version", {}).get("monai_xrgan")}  # fmt: skip
    if found != expected:
        raise ConfigError(f"{meta}: versions {found} do not match the package ({expected}); update metadata.json.")
    if metadata["version"] not in metadata.get("changelog", {}):
        raise ConfigError(f"{meta}: version {metadata['version']} has no changelog entry.")
    log(f"{bundle.name}: versions consistent with the installed package (monai {expected['monai_version']})")
