"""The code stays ruff clean (lint and format), as the contributing standards require."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
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


#: Possessive quantifiers and atomic groups, new in Python 3.11's ``re``.
_POSSESSIVE = re.compile(r"(?<!\\)(?:[*+?}]\+|\(\?>)")


def _regex_literals(tree: ast.AST) -> list[tuple[int, str]]:
    """(line, pattern) of each string literal passed to a :mod:`re` function."""
    found = []
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and isinstance(node.func.value, ast.Name)
            and node.func.value.id == "re"
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            found.append((node.lineno, node.args[0].value))
    return found


def test_regexes_use_no_possessive_quantifiers_or_atomic_groups():
    """Python 3.11.2 (Debian 12's python3) matches them wrongly: the RIS reader built on
    one split no record correctly there, while newer 3.11 releases passed every test."""
    found = [
        f"{path.relative_to(REPO_ROOT)}:{line}: {pattern}"
        for path in sorted((REPO_ROOT / "livingmeta").rglob("*.py"))
        for line, pattern in _regex_literals(ast.parse(path.read_text(encoding="utf-8")))
        if _POSSESSIVE.search(pattern)
    ]
    assert not found, "\n".join(found)
