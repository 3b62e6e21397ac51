"""Wall time of the reference review's workflow: a forced full rebuild and a no-op run.

The statistics take milliseconds; what a run costs is Snakemake and the Python start-up
and imports of each job. Run from the repository root::

    python benchmarks/workflow.py --cores 2 --repeat 3

The workflow runs offline (the sources' host never resolves, so they fail at once) on a
copy of the repository's workflow files in a temporary folder, so nothing in the checkout
changes.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
WORKFLOW_FILES = ("Snakefile", "workflow", "scripts", "config", "reviews")
RUN_DATE = "2026-12-02"


def copy_workflow(root: Path) -> None:
    """The workflow files without retrieval state or history (a first run)."""
    ignore = shutil.ignore_patterns("snapshots", "state.json", "*.lock", "history.csv")
    for name in WORKFLOW_FILES:
        source = REPO_ROOT / name
        if source.is_dir():
            shutil.copytree(source, root / name, ignore=ignore)
        else:
            shutil.copy2(source, root / name)


def offline_url() -> str:
    """A host that never resolves (RFC 6761 ``.invalid``): every search fails at once, as
    on a machine without network, instead of being retried with backoff."""
    return "http://livingmeta.invalid"


def timed_run(root: Path, cores: int, *extra: str) -> float:
    """Seconds one Snakemake run takes (it must succeed)."""
    url = offline_url()
    env = {**os.environ, "LIVINGMETA_EUTILS_URL": url, "LIVINGMETA_CTGOV_URL": url}
    command = [sys.executable, "-m", "snakemake", "--cores", str(cores), "--quiet", "all"]
    command += ["--config", f"run_date={RUN_DATE}", *extra]
    start = time.perf_counter()
    proc = subprocess.run(command, cwd=root, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"snakemake failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    return elapsed


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cores", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=3, help="runs of each kind (median)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="livingmeta-bench-") as folder:
        root = Path(folder)
        copy_workflow(root)
        timed_run(root, args.cores)  # first build: creates every output
        full = [timed_run(root, args.cores, "--forceall") for _ in range(args.repeat)]
        noop = [timed_run(root, args.cores) for _ in range(args.repeat)]
    print(f"reference review, {args.cores} cores, median of {args.repeat}:")
    print(f"  full rebuild (--forceall): {statistics.median(full):6.2f} s")
    print(f"  no-op run:                 {statistics.median(noop):6.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
