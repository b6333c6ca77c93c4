"""The app's ``--conf`` options: which bundles to serve, where their folders are, and overrides of their configs.

``--conf models pix2pix_cxr,...`` (default ``all``: every bundle of :data:`~monai_xrgan.label.registry.SERVED_BUNDLES`
that is found), ``--conf bundles_dir DIR[:DIR...]`` (searched before ``<app>/model/`` and the repository's
``bundles/``), and ``--conf <bundle>#<config id> <JSON value>`` to override an id of the bundle's
``configs/inference.json``, with MONAI's ``#`` syntax (e.g. ``--conf pix2pix_cxr#image_size 256``,
``--conf pix2pix_cxr#bundle_root /runs/finetune`` to read the weights from ``/runs/finetune/models/``).
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from monai_xrgan.label.registry import SERVED_BUNDLES, ServedBundle
from monai_xrgan.utils.bundles import REPO_BUNDLES
from monai_xrgan.utils.errors import ConfigError, MissingInputError

__all__ = ["BundleToServe", "bundle_search_path", "bundles_to_serve"]

_INFERENCE_CONFIG = Path("configs") / "inference.json"


@dataclass(frozen=True)
class BundleToServe:
    """One bundle the app serves.

    Args:
        name: bundle (and model) name.
        path: bundle folder (holds ``configs/inference.json``).
        entry: how it is served.
        overrides: config id -> value, applied over ``configs/inference.json``.
    """

    name: str
    path: Path
    entry: ServedBundle
    overrides: Mapping[str, Any]


def bundle_search_path(app_dir: str | os.PathLike, conf: Mapping[str, str]) -> list[Path]:
    """Folders searched for ``<name>/configs/inference.json``: ``bundles_dir`` entries, ``<app_dir>/model``
    (MONAI Label's place for bundles), then the repository's ``bundles/``."""
    extra = [Path(p).expanduser() for p in conf.get("bundles_dir", "").split(os.pathsep) if p.strip()]
    return [*extra, Path(app_dir) / "model", REPO_BUNDLES]


def _parse_value(text: str) -> Any:
    """A ``--conf`` value as JSON (numbers, booleans, lists...), or the text itself (paths, names)."""
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def _overrides(conf: Mapping[str, str]) -> dict[str, dict[str, Any]]:
    """``{bundle: {config id: value}}`` from the ``<bundle>#<config id>`` keys of ``conf``."""
    result: dict[str, dict[str, Any]] = {}
    for key, value in conf.items():
        bundle, sep, config_id = key.partition("#")
        if not sep:
            continue
        if bundle not in SERVED_BUNDLES or not config_id:
            raise ConfigError(
                f"--conf {key}: expected <bundle>#<config id> with a bundle of {sorted(SERVED_BUNDLES)}, "
                "e.g. --conf pix2pix_cxr#image_size 256."
            )
        result.setdefault(bundle, {})[config_id] = _parse_value(value)
    return result


def bundles_to_serve(app_dir: str | os.PathLike, conf: Mapping[str, str]) -> list[BundleToServe]:
    """The bundles named by ``--conf models`` (default ``all``), located and with their overrides.

    Raises:
        ConfigError: a name is not in :data:`~monai_xrgan.label.registry.SERVED_BUNDLES`, or an override key is
            malformed.
        MissingInputError: a named bundle is in no folder of :func:`bundle_search_path`.
    """
    search = bundle_search_path(app_dir, conf)

    def locate(name: str) -> Path | None:
        return next((d / name for d in search if (d / name / _INFERENCE_CONFIG).is_file()), None)

    names = [n.strip() for n in conf.get("models", "all").split(",") if n.strip()]
    if names == ["all"]:
        names = [n for n in SERVED_BUNDLES if locate(n) is not None]
    overrides = _overrides(conf)
    served = []
    for name in dict.fromkeys(names):
        if name not in SERVED_BUNDLES:
            raise ConfigError(
                f"--conf models: {name!r} is not a bundle this app serves; choose from {sorted(SERVED_BUNDLES)} "
                "(or add an entry to monai_xrgan.label.registry.SERVED_BUNDLES)."
            )
        path = locate(name)
        if path is None:
            raise MissingInputError(
                f"--conf models: bundle {name!r} not found as <dir>/{name}/{_INFERENCE_CONFIG.as_posix()} in "
                f"{[str(d) for d in search]}; add its parent folder with --conf bundles_dir DIR."
            )
        served.append(BundleToServe(name, path.resolve(), SERVED_BUNDLES[name], overrides.get(name, {})))
    return served
