"""The package's import layers: every ``monai_xrgan`` import goes to the importing module's own package or to a
lower layer, in the order written in docs/design.md (section "Layers")."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "monai_xrgan"
DESIGN = ROOT / "docs" / "design.md"


def layer_order() -> dict[str, int]:
    """``{top-level package or module: layer}`` from the ``Layers (lowest first):`` line of docs/design.md."""
    match = re.search(r"^Layers \(lowest first\): (.+)$", DESIGN.read_text(encoding="utf-8"), flags=re.M)
    assert match, "docs/design.md must have a line 'Layers (lowest first): a, b → c → ...'"
    layers = [group.split(",") for group in match.group(1).replace("`", "").split("→")]
    order = {name.strip(): rank for rank, group in enumerate(layers) for name in group}
    order[""] = order.pop("monai_xrgan")  # the root package
    return order


def package_imports(path: Path) -> list[tuple[int, str]]:
    """``(line, module)`` of every ``monai_xrgan`` import in ``path`` (relative ones resolved), including ones inside
    functions."""
    package = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)[:-1]  # where relative imports start
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package[: len(package) - node.level + 1] + ([base] if base else []))
            names = [base] if base != "monai_xrgan" else [f"monai_xrgan.{a.name}" for a in node.names]
            found += [(node.lineno, name) for name in names]
        elif isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
    return [(line, name) for line, name in found if name == "monai_xrgan" or name.startswith("monai_xrgan.")]


def top_level(module: str) -> str:
    """``"engines"`` for ``monai_xrgan.engines.base``; ``""`` for the root package."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def layer_violations(order: dict[str, int]) -> list[str]:
    problems = []
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(ROOT)
        own = relative.parts[1].removesuffix(".py") if len(relative.parts) > 2 or relative.name != "__init__.py" else ""
        if own not in order:
            problems.append(f"{relative}: its package `{own}` has no layer in docs/design.md")
            continue
        for line, module in package_imports(path):
            target = top_level(module)
            if target == own:
                continue
            if target not in order:
                problems.append(f"{relative}:{line}: imports {module}, whose package has no layer in docs/design.md")
            elif order[target] >= order[own]:
                problems.append(
                    f"{relative}:{line}: `{own}` (layer {order[own]}) imports {module} (layer {order[target]}); "
                    "import only lower layers"
                )
    return problems


def test_every_import_goes_down_the_layers():
    problems = layer_violations(layer_order())
    assert not problems, "\n".join(problems)


def test_every_top_level_package_has_a_layer():
    order = layer_order()
    names = {p.name for p in PACKAGE.iterdir() if p.is_dir() and (p / "__init__.py").is_file()}
    names |= {p.stem for p in PACKAGE.glob("*.py") if p.name != "__init__.py"}
    assert names <= set(order), f"give these a layer in docs/design.md: {sorted(names - set(order))}"


def test_the_check_catches_an_upward_import(tmp_path, monkeypatch):
    upward = tmp_path / "monai_xrgan" / "utils" / "bad.py"
    upward.parent.mkdir(parents=True)
    upward.write_text(
        "def f():\n    from monai_xrgan.engines import base\n    from ..engines import utils\n", encoding="utf-8"
    )
    monkeypatch.setattr(__import__(__name__), "ROOT", tmp_path)
    monkeypatch.setattr(__import__(__name__), "PACKAGE", tmp_path / "monai_xrgan")
    problems = layer_violations({"": 0, "utils": 0, "engines": 5})
    assert problems == [
        "monai_xrgan/utils/bad.py:2: `utils` (layer 0) imports monai_xrgan.engines (layer 5); import only lower layers",
        "monai_xrgan/utils/bad.py:3: `utils` (layer 0) imports monai_xrgan.engines (layer 5); import only lower layers",
    ]


@pytest.mark.parametrize("module", ["monai_xrgan.engines.base", "monai_xrgan"])
def test_top_level(module):
    assert top_level(module) == ("engines" if "." in module else "")
