"""Cost of the reference review's workflow: a forced full rebuild, a no-op run, and what
each job spends its time on.

The statistics take milliseconds; what a run costs is Snakemake and the Python start-up
and imports of each job. Run from the repository root::

    python benchmarks/workflow.py --cores 2 --repeat 3

prints the median wall time and CPU time (all processes) of a forced full rebuild and of
a no-op run, the no-op run of a one-rule workflow beside it (what Snakemake itself costs
on this machine, which no workflow can go below), the number of jobs, and tables of the
jobs by rule. Jobs run in a process of their own (a glue script): CPU seconds per job
and the import time of the libraries they load (``python -X importtime``, wall clock; a
module counts for the library that imported it, so "other" is what a job's own code
imports beyond them). Jobs run in Snakemake's own process (a ``run:`` block, a thread)
or forked from its drawing server (``run_forked``): seconds from the ``start`` to the
``done`` of their logs. On a shared machine the wall times move with the load; the CPU
times and the per-job tables are the figures to compare.

CPU time counts the drawing server and its jobs too: Snakemake does not wait for the
server, which ends when Snakemake does, so this script adopts it (Linux's "child
subreaper") and collects its CPU time when it ends.

The workflow runs offline (the sources' host never resolves, so they fail at once) on a
copy of the repository's workflow files in a temporary folder, so nothing in the checkout
changes.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Sequence
from contextlib import suppress
from datetime import datetime
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
WORKFLOW_FILES = ("Snakefile", "profiles", "workflow", "scripts", "config", "reviews")
RUN_DATE = "2026-12-02"
#: Libraries whose import time the per-job table shows (the rest is "other").
LIBRARIES = ("snakemake", "livingmeta", "numpy", "pandas", "scipy", "matplotlib")
LOG_TIME = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}) ", flags=re.M)
LOG_TIME_FORMAT = "%Y-%m-%d %H:%M:%S,%f"
IMPORT_LINE = re.compile(r"import time:\s+(\d+) \|\s+\d+ \| ( *)(\S+)")
#: A rule's step imported in a ``run:`` block, then run forked from the drawing server.
FORKED_STEP = re.compile(r"import (\w+)\n(?:.*\n){0,3}?\s*run_forked\(")
PR_SET_CHILD_SUBREAPER = 36


def copy_workflow(root: Path) -> None:
    """The workflow files without retrieval state or history (a first run)."""
    ignore = shutil.ignore_patterns("snapshots", "state.json", "*.lock", "history.csv")
    for name in WORKFLOW_FILES:
        source = REPO_ROOT / name
        if source.is_dir():
            shutil.copytree(source, root / name, ignore=ignore)
        else:
            shutil.copy2(source, root / name)


def offline_env() -> dict[str, str]:
    """Sources on a host that never resolves (RFC 6761 ``.invalid``): every search fails
    at once, as on a machine without network, instead of being retried with backoff."""
    url = "http://livingmeta.invalid"
    env = {**os.environ, "LIVINGMETA_EUTILS_URL": url, "LIVINGMETA_CTGOV_URL": url}
    # Bytecode caches written, as Python does by default: a job that compiled livingmeta
    # from source each time would measure what no installed copy pays.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def adopt_orphans() -> None:
    """Become the parent of the processes a command leaves running when it ends (the
    drawing server), so that their CPU time is collected (Linux only)."""
    import ctypes

    with suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)


def orphans_cpu() -> float:
    """CPU seconds of the adopted processes, waiting for each to end."""
    cpu = 0.0
    while True:
        try:
            _, _, usage = os.wait4(-1, 0)
        except ChildProcessError:
            return cpu
        cpu += usage.ru_utime + usage.ru_stime


def timed(command: Sequence[str], root: Path) -> tuple[float, float, str]:
    """Wall seconds, CPU seconds (the process, its children and the processes it left
    running) and stderr of a command."""
    start = time.perf_counter()
    proc = subprocess.Popen(
        command, cwd=root, env=offline_env(), stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    stderr = proc.stderr.read() if proc.stderr else ""
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    if status != 0:
        raise SystemExit(f"{' '.join(command)} failed ({status}):\n{stderr[-3000:]}")
    return elapsed, usage.ru_utime + usage.ru_stime + orphans_cpu(), stderr


def snakemake_run(root: Path, cores: int, *extra: str) -> tuple[float, float, str]:
    """Wall and CPU seconds of one Snakemake run (it must succeed), and its stderr."""
    command = [sys.executable, "-m", "snakemake", "--cores", str(cores), "all"]
    command += ["--config", f"run_date={RUN_DATE}", *extra]
    return timed(command, root)


#: The smallest workflow: what a no-op run costs Snakemake alone.
ONE_RULE = """rule all:
    input:
        "done.txt",


rule one:
    output:
        "done.txt",
    params:
        value=1,
    shell:
        "echo {params.value} > {output}"
"""


def one_rule_workflow(root: Path) -> Path:
    """A one-rule workflow in ``root``, built once."""
    root.mkdir()
    (root / "Snakefile").write_text(ONE_RULE, encoding="utf-8")
    timed([sys.executable, "-m", "snakemake", "--cores", "1"], root)
    return root


def job_count(stderr: str) -> int:
    """The jobs a run ran (Snakemake's "Job stats" total, without the target rule)."""
    found = re.search(r"^total\s+(\d+)$", stderr, flags=re.M)
    return int(found.group(1)) - 1 if found else 0


def job_costs(root: Path) -> dict[str, list[tuple[float, Counter[str]]]]:
    """Per rule, each job's CPU seconds and import seconds by library: the scripts a run
    kept (``--skip-script-cleanup``) run again, one at a time, under ``-X importtime``."""
    costs: dict[str, list[tuple[float, Counter[str]]]] = defaultdict(list)
    for script in sorted((root / ".snakemake" / "scripts").glob("*.py")):
        _, cpu, stderr = timed([sys.executable, "-X", "importtime", str(script)], root)
        costs[script.name.split(".")[-2]].append((cpu, import_seconds(stderr)))
    return costs


def import_seconds(importtime: str) -> Counter[str]:
    """Import seconds (self time) by library: a module counts for the nearest of
    :data:`LIBRARIES` among itself and the modules that imported it (matplotlib's
    fontTools for matplotlib, the standard library of Snakemake's script preamble for
    snakemake). "other" is what a job's code imports at run time beyond them (jsonschema
    and yaml to check a config fragment, docx, jinja2, ...) and Python's own start-up."""
    imports: Counter[str] = Counter()
    owners: list[str] = []  # the library of each open importer, by depth
    for match in reversed(list(IMPORT_LINE.finditer(importtime))):  # importers first
        depth, top = len(match.group(2)) // 2, match.group(3).split(".")[0]
        del owners[depth:]
        owner = top if top in LIBRARIES else (owners[-1] if owners else "other")
        owners.append(owner)
        imports[owner] += int(match.group(1)) / 1e6
    return imports


def print_job_table(costs: dict[str, list[tuple[float, Counter[str]]]]) -> None:
    """Jobs by rule: count, median CPU per job, and median import seconds by library."""
    columns = (*LIBRARIES, "other")
    print(f"\n{'rule':26}{'jobs':>5}{'cpu/job':>9}   imports/job (s): " + " ".join(columns))
    total = 0.0
    for rule, jobs in sorted(costs.items(), key=lambda kv: -sum(c for c, _ in kv[1])):
        cpu = statistics.median(c for c, _ in jobs)
        total += sum(c for c, _ in jobs)
        shares = " ".join(
            f"{statistics.median(i.get(name, 0.0) for _, i in jobs):{len(name)}.2f}"
            for name in columns
        )
        print(f"{rule:26}{len(jobs):5d}{cpu:9.2f}   {'':17}{shares}")
    print(f"{'all jobs, CPU s':26}{sum(map(len, costs.values())):5d}{total:9.2f}")


def forked_steps(root: Path) -> set[str]:
    """The steps whose rules run them forked from the drawing server."""
    rules = (root / "workflow" / "rules").glob("*.smk")
    return {m.group(1) for path in rules for m in FORKED_STEP.finditer(path.read_text())}


def in_process_seconds(root: Path, own_process: set[str]) -> dict[str, list[float]]:
    """Per rule not run in a process of its own, each job's seconds from its log's
    ``start`` to its ``done`` (logs are ``logs/<step>/...``; first and last timestamps)."""
    seconds: dict[str, list[float]] = defaultdict(list)
    for log in sorted((root / "logs").rglob("*.log")):
        rule = log.relative_to(root / "logs").parts[0]
        stamps = LOG_TIME.findall(log.read_text(encoding="utf-8"))
        if rule in own_process or len(stamps) < 2 or log.name.endswith(".failed.log"):
            continue
        start, done = (datetime.strptime(s, LOG_TIME_FORMAT) for s in (stamps[0], stamps[-1]))
        seconds[rule].append((done - start).total_seconds())
    return seconds


def print_seconds_table(title: str, seconds: dict[str, list[float]]) -> None:
    print(f"\n{title:26}{'jobs':>5}{'s/job':>9}")
    for rule, jobs in sorted(seconds.items(), key=lambda kv: -sum(kv[1])):
        print(f"{rule:26}{len(jobs):5d}{statistics.median(jobs):9.2f}")
    jobs, total = sum(map(len, seconds.values())), sum(map(sum, seconds.values()))
    print(f"{'all jobs, s':26}{jobs:5d}{total:9.2f}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cores", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=3, help="runs of each kind (median)")
    parser.add_argument("--no-jobs", action="store_true", help="skip the per-job table")
    args = parser.parse_args(argv)
    adopt_orphans()
    with tempfile.TemporaryDirectory(prefix="livingmeta-bench-") as folder:
        root = Path(folder)
        copy_workflow(root)
        snakemake_run(root, args.cores)  # first build: creates every output
        full = [snakemake_run(root, args.cores, "--forceall") for _ in range(args.repeat)]
        floor_root = one_rule_workflow(root / "one-rule")
        noop, floor = [], []
        for _ in range(args.repeat):  # side by side: the machine's speed moves
            noop.append(snakemake_run(root, args.cores))
            floor.append(timed([sys.executable, "-m", "snakemake", "--cores", "1"], floor_root))
        if not args.no_jobs:
            snakemake_run(root, args.cores, "--forceall", "--skip-script-cleanup")
            costs = job_costs(root)
            logged = in_process_seconds(root, set(costs))
            forked = forked_steps(root)
    print(f"reference review, {args.cores} cores, median of {args.repeat}:")
    kinds = (
        ("full rebuild (--forceall)", full),
        ("no-op run", noop),
        ("no-op, one-rule workflow", floor),
    )
    for name, runs in kinds:
        wall, cpu = (statistics.median(run[i] for run in runs) for i in (0, 1))
        print(f"  {name + ':':27}{wall:6.2f} s wall, {cpu:6.2f} s CPU")
    print(f"  jobs of a full rebuild:    {job_count(full[0][2]):3d}")
    if not args.no_jobs:
        print_job_table(costs)
        threads = {rule: jobs for rule, jobs in logged.items() if rule not in forked}
        print_seconds_table("forked from the server", {r: logged[r] for r in forked & set(logged)})
        print_seconds_table("in Snakemake's process", threads)
    return 0


if __name__ == "__main__":
    sys.exit(main())
