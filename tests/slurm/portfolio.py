"""Run a portfolio through the Slurm profile on a running cluster and check the run.

The portfolio is the reference review plus ``--reviews`` generated ones (built as
``benchmarks/scale.py`` builds them: retrieval disabled, so no network). Two identical
copies are made; one is run locally (``workflow/profiles/default``), the other through
``snakemake --profile workflow/profiles/slurm``. The script then checks that

- only the local rules (the network rule ``search_review`` and the target ``all``) ran on
  the login node, and they always did: every other job was submitted with sbatch;
- Slurm itself (``squeue``: there is no accounting database) reports every submitted job
  COMPLETED;
- the files of the local run are exactly those of the Slurm run, byte for byte, except
  for the times of the run (run ids, start and end times);
- with ``--kill-one``: one job's process was killed on the node, Slurm marked that job
  FAILED, Snakemake resubmitted it and the resubmitted job completed.

It prints ``slurm_jobs_completed=<n>`` last. ``make test-slurm`` starts a single-node
cluster (``tests/slurm/cluster.sh``), runs this with ``--kill-one`` and stops the cluster.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType

import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
REFERENCE = "rescue_stenting"
SUBMITTED = re.compile(r"^Job (\S+) has been submitted with SLURM jobid (\d+)", re.MULTILINE)
LOCAL_JOB = re.compile(r"^localrule (\w+):", re.MULTILINE)
REMOTE_JOB = re.compile(r"^\s*rule (\w+):", re.MULTILINE)
#: The rules the Snakefile keeps on the login node: the network rule and the target.
LOCAL_RULES = {"search_review", "all"}
#: Files Snakemake writes about a run, not outputs: they differ between any two runs.
RUN_RECORDS = ("logs", ".snakemake")
#: When a run happened (run ids, start and end times) differs between any two runs too.
RUN_TIME = re.compile(rb"\d{4}-\d{2}-\d{2}T\d{2}:?\d{2}:?\d{2}(?:\.\d+)?Z")


class CheckFailed(Exception):
    """A promise of the Slurm profile that the run did not keep."""


def load_scale() -> ModuleType:
    """``benchmarks/scale.py``, which builds synthetic portfolios (not a package)."""
    path = REPO_ROOT / "benchmarks" / "scale.py"
    spec = importlib.util.spec_from_file_location("livingmeta_scale_benchmark", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def build_portfolio(root: Path, generated: int, seed: int) -> list[str]:
    """The generated reviews of ``scale.py`` plus the reference review, in one config."""
    ids = load_scale().build_portfolio(root, generated, ["png"], seed)
    config_path = root / "config" / "config.yaml"
    config = yaml.safe_load(config_path.read_text())
    reference = yaml.safe_load((REPO_ROOT / "config" / "config.yaml").read_text())
    spec = next(r for r in reference["reviews"] if r["id"] == REFERENCE)
    for review in config["reviews"]:
        # PRISMA counts records per source, so each review keeps the saved searches.
        review["searches"] = [
            {**search, "id": f"{search['id']}_{review['id']}"} for search in spec["searches"]
        ]
    config["reviews"].insert(0, spec)
    config_path.write_text(yaml.safe_dump(config, sort_keys=False))
    shutil.copytree(
        REPO_ROOT / "reviews" / REFERENCE,
        root / "reviews" / REFERENCE,
        ignore=shutil.ignore_patterns("snapshots", "state.json", "*.lock"),
    )
    return [REFERENCE, *ids]


def snakemake(root: Path, *args: str, timeout: float = 1800) -> tuple[float, str]:
    """One run in ``root``; raises with the end of the output if it fails."""
    command = [sys.executable, "-m", "snakemake", *args]
    start = time.perf_counter()
    proc = subprocess.run(
        command, cwd=root, capture_output=True, text=True, check=False, timeout=timeout
    )
    seconds = time.perf_counter() - start
    output = proc.stdout + proc.stderr
    if proc.returncode != 0:
        raise CheckFailed(f"{' '.join(args)} failed in {root}:\n{output[-6000:]}")
    return seconds, output


def outputs(root: Path) -> dict[str, bytes]:
    """Every file of the working folder except Snakemake's records of the run, with the
    times of the run masked in names and contents."""
    files = {}
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root)
        if path.is_file() and relative.parts[0] not in RUN_RECORDS:
            name = RUN_TIME.sub(b"<time>", str(relative).encode()).decode()
            files[name] = RUN_TIME.sub(b"<time>", path.read_bytes())
    return files


def compare(local: dict[str, bytes], slurm: dict[str, bytes]) -> None:
    only_local = sorted(set(local) - set(slurm))
    only_slurm = sorted(set(slurm) - set(local))
    differ = sorted(name for name in set(local) & set(slurm) if local[name] != slurm[name])
    if only_local or only_slurm or differ:
        raise CheckFailed(
            "the Slurm run's files differ from the local run's: "
            f"only local {only_local[:10]}, only Slurm {only_slurm[:10]}, "
            f"different content {differ[:10]}"
        )


@dataclass
class SlurmJob:
    job_id: str
    state: str
    comment: str
    snakemake_job: str = ""


def slurm_records(submitted: dict[str, str]) -> dict[str, SlurmJob]:
    """What the controller knows of the submitted jobs (it keeps ended jobs for
    MinJobAge), keyed by Slurm job id; ``submitted`` maps them to Snakemake's jobs."""
    proc = subprocess.run(
        ["squeue", "--noheader", "--states=all", "--jobs", ",".join(submitted),
         "--format=%i|%T|%k"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    records = {}
    for line in proc.stdout.splitlines():
        job_id, state, comment = line.split("|", 2)
        records[job_id] = SlurmJob(job_id, state, comment, submitted.get(job_id, ""))
    return records


@dataclass
class Killer:
    """Kills a process of the first running Slurm job of the run it sees (a node failure).

    Only jobs working in ``root`` are touched, so other users of the cluster are safe.
    """

    root: Path
    killed: dict[str, str] = field(default_factory=dict)
    stop: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        while not self.stop.is_set() and not self.killed:
            for job_id in self._running_jobs():
                if pid := self._job_process(job_id):
                    command = _cmdline(pid)
                    os.kill(pid, signal.SIGKILL)
                    self.killed[job_id] = command.replace(b"\0", b" ").decode()
                    return
            time.sleep(0.2)

    def _running_jobs(self) -> list[str]:
        proc = subprocess.run(
            ["squeue", "--noheader", "--states=RUNNING", "--format=%i|%Z"],
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        rows = (line.split("|", 1) for line in proc.stdout.splitlines() if "|" in line)
        return [job for job, workdir in rows if Path(workdir).resolve() == self.root.resolve()]

    @staticmethod
    def _job_process(job_id: str) -> int | None:
        """The newest Python process of the job (the job's own work, not its shell)."""
        proc = subprocess.run(
            ["scontrol", "listpids", job_id], capture_output=True, text=True, check=False
        )
        pids = [int(row.split()[0]) for row in proc.stdout.splitlines()[1:] if row.strip()]
        python = [p for p in pids if b"python" in _cmdline(p)]
        return max(python) if python else None


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


def check_submissions(output: str) -> dict[str, SlurmJob]:
    """Only the local rules ran on the login node, every other job went through sbatch,
    and Slurm knows every submitted job."""
    submitted = {slurm_id: job for job, slurm_id in SUBMITTED.findall(output)}
    if not submitted:
        raise CheckFailed("no job was submitted with sbatch")
    remote_rules = set(REMOTE_JOB.findall(output))
    local_rules = set(LOCAL_JOB.findall(output))
    if local_rules != LOCAL_RULES or remote_rules & LOCAL_RULES:
        raise CheckFailed(
            f"only {sorted(LOCAL_RULES)} may run on the login node, and always there; "
            f"on the login node: {sorted(local_rules)}, submitted: {sorted(remote_rules)}"
        )
    records = slurm_records(submitted)
    missing = sorted(set(submitted) - set(records))
    if missing:
        raise CheckFailed(f"Slurm has no record of submitted jobs {missing}")
    for job in records.values():
        if "search_review" in job.comment:
            raise CheckFailed(f"the network rule went to Slurm as job {job.job_id}")
    return records


def run_slurm(root: Path, extra: list[str], kill_one: bool) -> tuple[float, str, Killer]:
    """The Slurm run, with the first status check after 5 s instead of the profile's 20."""
    extra = ["--slurm-init-seconds-before-status-checks", "5", *extra]
    killer = Killer(root)
    thread = threading.Thread(target=killer.run, daemon=True)
    if kill_one:
        thread.start()
    try:
        seconds, output = snakemake(root, "--profile", "workflow/profiles/slurm", *extra)
    finally:
        killer.stop.set()
    return seconds, output, killer


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reviews", type=int, default=5, help="generated reviews")
    parser.add_argument("--seed", type=int, default=20261202)
    parser.add_argument("--cores", type=int, default=2, help="cores of the local run")
    parser.add_argument("--kill-one", action="store_true", help="kill one job's process")
    parser.add_argument("--keep", type=Path, help="build the portfolios here and keep them")
    parser.add_argument("slurm_args", nargs="*", help="more options for the Slurm run")
    args = parser.parse_args(argv)

    base = args.keep or Path(tempfile.mkdtemp(prefix="livingmeta-slurm-"))
    local, cluster = base / "local", base / "slurm"
    try:
        for folder in (local, cluster):
            shutil.rmtree(folder, ignore_errors=True)
        local.mkdir(parents=True)
        ids = build_portfolio(local, args.reviews, args.seed)
        shutil.copytree(local, cluster)
        print(f"portfolio: {len(ids)} reviews in {base}", flush=True)

        local_seconds, _ = snakemake(
            local, "--profile", "workflow/profiles/default", "--cores", str(args.cores)
        )
        print(f"local run: {local_seconds:.1f} s", flush=True)
        slurm_seconds, output, killer = run_slurm(cluster, args.slurm_args, args.kill_one)
        (base / "slurm-run.log").write_text(output)
        print(f"slurm run: {slurm_seconds:.1f} s (log: {base / 'slurm-run.log'})", flush=True)

        records = check_submissions(output)
        states = sorted(job.state for job in records.values())
        print(f"slurm jobs: {len(records)} submitted, states {states}", flush=True)
        unfinished = [j for j in records.values() if j.state != "COMPLETED"]
        if any(job.job_id not in killer.killed for job in unfinished):
            raise CheckFailed(f"Slurm jobs that did not complete: {unfinished}")
        if args.kill_one:
            check_resubmitted(killer, records)
        compare(outputs(local), outputs(cluster))
        print("outputs: identical to the local run", flush=True)
    except CheckFailed as failure:
        print(f"FAILED: {failure}", file=sys.stderr)
        return 1
    finally:
        if args.keep is None:
            shutil.rmtree(base, ignore_errors=True)
    completed = sum(job.state == "COMPLETED" for job in records.values())
    print(f"slurm_jobs_completed={completed}")
    return 0


def check_resubmitted(killer: Killer, records: dict[str, SlurmJob]) -> None:
    """The killed job failed on Slurm and a later submission of it completed."""
    if not killer.killed:
        raise CheckFailed("no running Slurm job was seen to kill")
    job_id = next(iter(killer.killed))
    killed = records.get(job_id)
    if killed is None or killed.state != "FAILED":
        raise CheckFailed(f"killed job {job_id} is not FAILED on Slurm: {killed}")
    again = [
        job
        for job in records.values()
        if job.snakemake_job == killed.snakemake_job and job.job_id != job_id
    ]
    if not any(job.state == "COMPLETED" for job in again):
        raise CheckFailed(f"killed job {job_id} ({killed.comment}) was not resubmitted")
    print(
        f"killed {killed.comment} (Slurm job {job_id}, process {killer.killed[job_id][:80]!r}): "
        f"resubmitted as Slurm job {', '.join(job.job_id for job in again)} and completed",
        flush=True,
    )


if __name__ == "__main__":
    sys.exit(main())
