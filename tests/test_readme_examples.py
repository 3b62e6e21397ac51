"""The README's command-line examples are the commands' real output: each ``$ livingmeta
...`` line in a fenced block is run from the repository root and its output compared."""

from __future__ import annotations

import re
import shlex

import pytest

from livingmeta.cli import main
from livingmeta.config import REPO_ROOT

README = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
FENCE = re.compile(r"^```[^\n]*\n(.*?)^```", re.MULTILINE | re.DOTALL)


def examples() -> list[tuple[str, str]]:
    """(command line, expected output) of each fenced block that starts with ``$ ``."""
    found = []
    for block in FENCE.findall(README):
        if block.startswith("$ livingmeta pool "):
            command, _, output = block.partition("\n")
            found.append((command.removeprefix("$ "), output))
    return found


def test_readme_has_a_pool_example():
    assert len(examples()) >= 1


@pytest.mark.parametrize(("command", "expected"), examples())
def test_readme_example_is_the_real_output(command, expected, capsys, monkeypatch):
    monkeypatch.chdir(REPO_ROOT)
    assert main(shlex.split(command)[1:]) == 0
    assert capsys.readouterr().out == expected


def test_pool_method_defaults_as_the_config(capsys, monkeypatch):
    from livingmeta.outcomes import Outcome

    monkeypatch.chdir(REPO_ROOT)
    table = "reviews/rescue_stenting/extraction.csv"
    base = ["pool", table, "--outcome", "mortality_90d", "--json"]
    assert main([*base, "--measure", "OR"]) == 0
    out = capsys.readouterr().out
    assert f'"method": "{Outcome.method}"' in out and '"model": "random"' in out
    assert main([*base, "--measure", "OR", "--tau2", "REML"]) == 0
    assert '"method": "IV"' in capsys.readouterr().out
