"""The code stays ruff clean (lint and format), as the contributing standards require."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

from livingmeta.config import REPO_ROOT

RUFF = Path(sys.executable).with_name("ruff")


def test_ruff_check_is_clean():
    proc = subprocess.run(
        [str(RUFF), "check", "."], cwd=REPO_ROOT, capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_ruff_format_is_clean():
    proc = subprocess.run(
        [str(RUFF), "format", "--check", "."],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def _regex_ops(parsed: object) -> Iterator[object]:
    """Every opcode of a parsed pattern (``re._parser``), nested ones included."""
    for op, value in parsed:  # type: ignore[attr-defined]
        yield op
        yield from _nested_ops(value)


def _nested_ops(value: object) -> Iterator[object]:
    if isinstance(value, re._parser.SubPattern):  # type: ignore[attr-defined]
        yield from _regex_ops(value)
    elif isinstance(value, tuple | list):
        for item in value:
            yield from _nested_ops(item)


def _possessive(pattern: str | bytes, flags: int = 0) -> bool:
    """Whether the pattern has a possessive quantifier or an atomic group (Python 3.11)."""
    banned = {re._constants.POSSESSIVE_REPEAT, re._constants.ATOMIC_GROUP}  # type: ignore[attr-defined]
    return bool(banned & set(_regex_ops(re._parser.parse(pattern, flags))))  # type: ignore[attr-defined]


def _literal_patterns(path: Path) -> Iterator[tuple[str, str | bytes, int]]:
    """(where, pattern, flags) of each literal passed to a :mod:`re` function."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and isinstance(node.func.value, ast.Name)
            and node.func.value.id == "re"
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str | bytes)
        ):
            continue
        flags = [k.value for k in node.keywords if k.arg == "flags"] + node.args[1:]
        flag_value = (
            eval(compile(ast.Expression(flags[-1]), "", "eval"), {"re": re})
            if (node.func.attr == "compile" and flags)
            else 0
        )
        yield f"{path.relative_to(REPO_ROOT)}:{node.lineno}", node.args[0].value, flag_value


def _compiled_patterns() -> Iterator[tuple[str, re.Pattern]]:
    """Every compiled pattern a module of ``livingmeta`` holds at its top level."""
    import importlib
    import pkgutil

    import livingmeta

    for info in pkgutil.walk_packages(livingmeta.__path__, "livingmeta."):
        module = importlib.import_module(info.name)
        for name, value in vars(module).items():
            if isinstance(value, re.Pattern):
                yield f"{info.name}.{name}", value


def _schema_patterns() -> Iterator[tuple[str, str]]:
    """The ``pattern`` of every string in the YAML schemas (jsonschema uses :mod:`re`)."""
    import yaml

    def walk(node: object, where: str) -> Iterator[tuple[str, str]]:
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "pattern" and isinstance(value, str):
                    yield where, value
                yield from walk(value, where)
        elif isinstance(node, list):
            for item in node:
                yield from walk(item, where)

    for path in sorted((REPO_ROOT / "livingmeta").rglob("*.yaml")):
        yield from walk(yaml.safe_load(path.read_text(encoding="utf-8")), str(path))


def test_regexes_use_no_possessive_quantifiers_or_atomic_groups():
    """Python 3.11.2 (Debian 12's python3) matches them wrongly: the RIS reader built on
    one split no record correctly there, while newer 3.11 releases passed every test."""
    code = [REPO_ROOT / "livingmeta", REPO_ROOT / "scripts", REPO_ROOT / "tests"]
    found = [
        where
        for folder in code
        for path in sorted(folder.rglob("*.py"))
        for where, pattern, flags in _literal_patterns(path)
        if _possessive(pattern, flags)
    ]
    found += [where for where, p in _compiled_patterns() if _possessive(p.pattern, p.flags)]
    found += [where for where, pattern in _schema_patterns() if _possessive(pattern)]
    assert not found, "\n".join(found)


def test_the_possessive_check_sees_them_and_not_lookalikes():
    assert _possessive(r"a*+") and _possessive(rb"(?>ab)") and _possessive(r"x{1,2}+")
    assert not _possessive(r"[*+?]+") and not _possessive(r"\++") and not _possessive(r"a+")
