"""A copy of the repository's workflow, for tests that run Snakemake end to end."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

from livingmeta.config import REPO_ROOT

WORKFLOW_FILES = ("Snakefile", "profiles", "workflow", "scripts", "config", "reviews")
#: Local state a fresh clone does not have: retrieval state, locks, the run history and
#: its archived run reports.
LOCAL_STATE = ("snapshots", "state.json", "*.lock", "history.csv", "reports")


def copy_workflow(root: Path) -> Path:
    """Copy the workflow files into ``root`` as a fresh clone has them; return ``root``."""
    for name in WORKFLOW_FILES:
        source = REPO_ROOT / name
        if source.is_dir():
            shutil.copytree(source, root / name, ignore=shutil.ignore_patterns(*LOCAL_STATE))
        else:
            shutil.copy2(source, root / name)
    return root


#: Snakemake run in this process, which then says whether matplotlib was loaded into it
#: (no step run in Snakemake's process may draw).
PROBE = """
import sys
from snakemake.cli import main
try:
    main(sys.argv[1:])
finally:
    print("matplotlib in Snakemake's process:", "matplotlib" in sys.modules, file=sys.stderr)
"""


def run_snakemake(root: Path, run_date: str, env: Mapping[str, str], *, probe: bool = False) -> str:
    """Run the whole workflow in ``root`` on ``run_date``; fail with Snakemake's stderr,
    else return it. ``probe``: verbose, and the end says whether matplotlib was loaded
    into Snakemake's own process."""
    command = ["-c", PROBE, "--verbose"] if probe else ["-m", "snakemake"]
    proc = subprocess.run(
        [sys.executable, *command, "--cores", "2", "--config", f"run_date={run_date}"],
        cwd=root,
        capture_output=True,
        text=True,
        check=False,
        timeout=900,
        env={**os.environ, **env},
    )
    assert proc.returncode == 0, proc.stderr[-4000:]
    return proc.stderr
