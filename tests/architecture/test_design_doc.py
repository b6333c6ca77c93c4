"""docs/design.md and docs/adding_a_bundle.md name only modules, folders and objects that exist (their package maps
must follow the code)."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "monai_xrgan"
#: folders a bundle writes at run time, named in the design notes
OUTPUT_FOLDERS = {"checkpoints/", "models/", "runs/", "eval/", "configs/", "scripts/", "data/demo/"}


def backticked(text: str) -> list[str]:
    """The contents of every inline code span of ``text``."""
    return re.findall(r"`([^`\n]+)`", text)


def resolves(dotted: str) -> bool:
    """Whether ``dotted`` (``monai_xrgan.x.y`` or ``x.y`` under ``monai_xrgan``) is a module or an object in one."""
    name = dotted if dotted.startswith("monai_xrgan") else f"monai_xrgan.{dotted}"
    parts = name.split(".")
    for split in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:split]))
        except ModuleNotFoundError:
            continue
        for attr in parts[split:]:
            if not hasattr(obj, attr):
                return False
            obj = getattr(obj, attr)
        return True
    return False


def missing_names(text: str) -> list[str]:
    top_level = {p.stem for p in PACKAGE.iterdir() if p.suffix == ".py" or (p / "__init__.py").is_file()}
    missing = []
    for span in backticked(text):
        token = span.split(" ")[0].rstrip(",.")
        if re.fullmatch(r"[a-z_][a-z0-9_/]*(\.py|/)", token):
            if "/" not in token:  # a file name in the context of its folder's row
                found = any(PACKAGE.rglob(token))
            else:
                found = token in OUTPUT_FOLDERS or any((base / token).exists() for base in (PACKAGE, ROOT))
            if not found:
                missing.append(token)
        elif re.fullmatch(r"[A-Za-z_][\w]*(\.[A-Za-z_]\w*)+", token) and token.split(".")[0] in top_level | {
            "monai_xrgan"
        }:
            if not resolves(token):
                missing.append(token)
    return missing


@pytest.mark.parametrize("doc", ["design.md", "adding_a_bundle.md"])
def test_every_module_named_in_the_architecture_docs_exists(doc):
    missing = missing_names((ROOT / "docs" / doc).read_text(encoding="utf-8"))
    assert not missing, f"docs/{doc} names what the code does not have: {missing}"


def test_the_check_finds_a_missing_module():
    text = (
        "`engines/base.py`, `engines/nowhere.py`, `utils.distributed.unwrap`, `utils.nowhere`, `checkpoints/`, "
        "`gone.py`"
    )
    assert missing_names(text) == ["engines/nowhere.py", "utils.nowhere", "gone.py"]
