"""``livingmeta --help`` and the light subcommands start without the heavy libraries, and
every subcommand is a complete module of :mod:`livingmeta.cli`.

Checked in a fresh interpreter through ``sys.modules`` (not by timing): importing pandas,
scipy, matplotlib, lxml, jsonschema or snakemake costs a second or more on every command.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

HEAVY = ("pandas", "scipy", "matplotlib", "lxml", "jsonschema", "snakemake")

PROBE = """
import contextlib, io, json, sys
{preload}
import livingmeta
from livingmeta.cli import build_parser, main, requested_command
argv = json.loads(sys.argv[1])
with contextlib.redirect_stdout(io.StringIO()), contextlib.suppress(SystemExit):
    if argv and argv[-1] == "--help":
        main(argv)
    else:
        build_parser(only=requested_command(argv)).parse_args(argv)
print(json.dumps(sorted(name for name in sys.modules if name.split(".")[0] in {heavy})))
"""


def loaded_heavy_modules(argv: list[str], preload: str = "") -> list[str]:
    """Heavy modules in ``sys.modules`` after parsing ``argv`` in a new interpreter."""
    code = PROBE.replace("{heavy}", repr(set(HEAVY))).replace("{preload}", preload)
    proc = subprocess.run(
        [sys.executable, "-c", code, json.dumps(argv)],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(proc.stdout.splitlines()[-1])


@pytest.mark.parametrize(
    "argv",
    [
        [],
        ["--help"],
        ["import", "x.ris", "--format", "ris", "--source", "central"],
        ["import", "--help"],
        ["validate", "--config", "c.yaml"],
        ["screen", "--review", "r1", "--reviewer", "ann"],
        ["status", "--review", "r1", "--json"],
    ],
)
def test_parsing_the_command_line_loads_no_heavy_library(argv):
    assert loaded_heavy_modules(argv) == []


def test_the_probe_sees_heavy_imports():
    assert "lxml.etree" in loaded_heavy_modules(["--help"], preload="import lxml.etree")


def test_every_subcommand_module_is_listed_and_complete():
    """A subcommand is one module of ``livingmeta.cli`` plus its name in SUBCOMMANDS."""
    import argparse
    import pkgutil

    import livingmeta.cli as cli

    modules = {name for _, name, _ in pkgutil.iter_modules(cli.__path__)}
    assert set(cli.SUBCOMMANDS) == modules - {"__main__", "screening_state"}
    for name, module in cli.subcommand_modules().items():
        parser = argparse.ArgumentParser(prog=f"livingmeta {name}")
        module.add_arguments(parser)
        assert module.HELP and parser.description, name
        assert callable(parser.get_default("handler")), name


def modules_loaded_by(code: str) -> list[str]:
    """Heavy top-level packages in ``sys.modules`` after running ``code`` in a new
    interpreter."""
    probe = f"{code}\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"
    proc = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    loaded = {name.split(".")[0] for name in json.loads(proc.stdout.splitlines()[-1])}
    return sorted(loaded & set(HEAVY))


# Every workflow job imports its step module: the module loads the domain packages
# inside its functions, so a job pays only for what its step uses.
@pytest.mark.parametrize(
    "module",
    ["characteristics", "grade", "plot", "report", "risk_of_bias", "screening", "site", "summary"],
)
def test_importing_a_workflow_step_module_loads_no_heavy_library(module):
    assert modules_loaded_by(f"import livingmeta.workflow.{module}") == []


def test_the_snakemake_process_loads_no_plotting_library():
    """The imports of the Snakefile and its rule files run on every Snakemake start, a
    no-op run included: drawing libraries belong to the plotting jobs."""
    from livingmeta.config import REPO_ROOT

    sources = [REPO_ROOT / "Snakefile", *sorted((REPO_ROOT / "workflow" / "rules").glob("*.smk"))]
    imports = [
        line
        for path in sources
        for line in path.read_text().splitlines()
        if line.startswith(("import livingmeta", "from livingmeta"))
    ]
    assert imports
    assert "matplotlib" not in modules_loaded_by("\n".join(imports))


def test_jobs_load_scipy_stats_and_matplotlib_only_where_they_need_them():
    """The statistics take their distribution functions from scipy.special (scipy.stats
    costs a job about 0.5 s more; only the zero-event panel and Begg's test load it), and
    the steps that only read or write the history table do not load matplotlib."""
    stats = Path(__file__).parents[1] / "livingmeta" / "stats"
    modules = [f"livingmeta.stats.{p.stem}" for p in sorted(stats.glob("[!_]*.py"))]
    modules += ["livingmeta.report.history"]
    probe = f"import {', '.join(modules)}\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"
    proc = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    loaded = set(json.loads(proc.stdout.splitlines()[-1]))
    assert "scipy.special" in loaded  # the probe sees scipy's modules
    assert not {"scipy.stats", "scipy.optimize", "matplotlib"} & loaded
