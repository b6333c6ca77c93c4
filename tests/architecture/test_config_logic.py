"""Bundle configs wire components; logic lives in named, tested functions: no ``$`` expression is longer than one
short line, and none holds a comprehension or a lambda."""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
CONFIGS = sorted((ROOT / "bundles").glob("*/configs/*.json"))
#: longest ``$`` expression a config may hold (a call with a handful of references)
MAX_EXPRESSION = 160
#: expression nodes that are logic, not wiring
LOGIC_NODES = (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp, ast.Lambda)


def expressions(config: Any, key: str = "") -> Iterator[tuple[str, str]]:
    """``(config key, expression)`` of every ``$`` string of ``config``; keys as ``a#b#0`` (MONAI's id form)."""
    if isinstance(config, dict):
        items = config.items()
    elif isinstance(config, list):
        items = enumerate(config)
    else:
        if isinstance(config, str) and config.startswith("$") and not config.startswith("$import "):
            yield key, config[1:]
        return
    for k, v in items:
        yield from expressions(v, f"{key}#{k}" if key else str(k))


def logic_in(expression: str) -> list[str]:
    """Names of the comprehensions and lambdas of ``expression`` (its ``@`` references read as names)."""
    tree = ast.parse(re.sub(r"@[\w#]+", "ref", expression), mode="eval")
    return sorted({type(node).__name__ for node in ast.walk(tree) if isinstance(node, LOGIC_NODES)})


def problems(path: Path) -> list[str]:
    found = []
    for key, expression in expressions(json.loads(path.read_text(encoding="utf-8"))):
        where = f"{path.relative_to(ROOT)} key {key}"
        if len(expression) > MAX_EXPRESSION:
            found.append(f"{where}: {len(expression)}-character expression (at most {MAX_EXPRESSION})")
        if logic_in(expression):
            found.append(f"{where}: {', '.join(logic_in(expression))} in an expression")
    return found


def test_the_scan_reads_references_and_finds_logic():
    config = {"a": "$[i for i in @x#y]", "b": ["$import os", {"c": "$@f(1)"}], "d": "plain"}
    assert list(expressions(config)) == [("a", "[i for i in @x#y]"), ("b#1#c", "@f(1)")]
    assert logic_in("[i for i in @x#y]") == ["ListComp"] and logic_in("lambda v: v") == ["Lambda"]
    assert logic_in("max(n for n in @sizes)") == ["GeneratorExp"] and logic_in("@a if @b else @c") == []


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: f"{p.parts[-3]}/{p.name}")
def test_config_expressions_are_short_wiring(path):
    found = problems(path)
    assert not found, "move this logic into a named function called with _target_ or one short call:\n" + "\n".join(
        found
    )


def test_every_bundle_config_is_scanned():
    assert len({p.parts[-3] for p in CONFIGS}) == 5
