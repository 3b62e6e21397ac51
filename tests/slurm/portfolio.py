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
  FAILED, Snakemake resubmitted it and the resubmitted job completed;
- with ``--fail-node`` (after the kill, if both are given): the node of a running job was
  set DOWN, Slurm ended the run's jobs on it as NODE_FAIL, the node was resumed 15 s
  later, and every one of those jobs was resubmitted and completed. A node that also runs
  jobs of other work is never set DOWN.

It prints ``slurm_jobs_completed=<n>`` last. ``make test-slurm`` starts a single-node
cluster (``tests/slurm/cluster.sh``), runs this with ``--kill-one --fail-node`` and stops
the cluster.
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
from typing import ClassVar

import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
REFERENCE = "rescue_stenting"
SUBMITTED = re.compile(r"^Job (\S+) has been submitted with SLURM jobid (\d+)", re.MULTILINE)
LOCAL_JOB = re.compile(r"^localrule ([\w-]+):", re.MULTILINE)
REMOTE_JOB = re.compile(r"^\s*rule ([\w-]+):", re.MULTILINE)
#: The rules the Snakefile keeps on the login node: the network rule and the target.
LOCAL_RULES = {"search_review", "all"}
#: Files Snakemake writes about a run, not outputs: they differ between any two runs.
RUN_RECORDS = ("logs", ".snakemake")
#: When a run happened (run ids, start and end times) differs between any two runs too.
RUN_TIME = re.compile(rb"\d{4}-\d{2}-\d{2}T\d{2}:?\d{2}:?\d{2}(?:\.\d+)?Z")


#: Slurm job states before the job has ended.
ACTIVE_STATES = {"PENDING", "CONFIGURING", "RUNNING", "COMPLETING", "SUSPENDED", "REQUEUED"}


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


def slurm(*args: str) -> str:
    """The output of a Slurm command (``squeue``, ``scontrol``); empty if it fails."""
    proc = subprocess.run(list(args), capture_output=True, text=True, check=False)
    return proc.stdout


def scontrol_update(node: str, *settings: str) -> str:
    """``scontrol update`` of a node; returns Slurm's error, empty if it worked."""
    command = ["scontrol", "update", f"NodeName={node}", *settings]
    proc = subprocess.run(command, capture_output=True, text=True, check=False)
    return "" if proc.returncode == 0 else proc.stderr.strip() or f"exit {proc.returncode}"


@dataclass
class Running:
    job_id: str
    node: str
    workdir: str


def running_jobs() -> list[Running]:
    """Every running job of the cluster, whoever submitted it."""
    output = slurm("squeue", "--noheader", "--states=RUNNING", "--format=%i|%N|%Z")
    rows = (line.split("|", 2) for line in output.splitlines() if line.count("|") == 2)
    return [Running(job, node, workdir) for job, node, workdir in rows]


@dataclass
class Disruption:
    """Ends running Slurm jobs of the run the way a failing cluster does.

    Only jobs working in ``root`` are ended, so other users of the cluster are safe.
    ``ended`` maps each ended Slurm job to what was done to it; Slurm then reports the
    job in ``state``.
    """

    root: Path
    ended: dict[str, str] = field(default_factory=dict)
    state: ClassVar[str] = ""

    def run(self, stop: threading.Event) -> None:
        """Waits for a running job of the run, strikes once, and returns when Slurm has
        ended the jobs it struck (a later disruption must not catch them still running:
        a job killed and then caught on a failed node would end NODE_FAIL, not FAILED)."""
        while not stop.is_set() and not self.ended:
            mine = [job for job in running_jobs() if self.is_mine(job.workdir)]
            if mine and self.strike(mine, stop):
                break
            stop.wait(0.2)
        while self.ended and not stop.is_set() and not self.settled():
            stop.wait(0.2)

    def settled(self) -> bool:
        """Slurm has given every struck job its final state."""
        ids = ",".join(self.ended)
        output = slurm("squeue", "--noheader", "--states=all", f"--jobs={ids}", "--format=%T")
        states = output.split()
        return len(states) == len(self.ended) and not set(states) & ACTIVE_STATES

    def is_mine(self, workdir: str) -> bool:
        return Path(workdir).resolve() == self.root.resolve()

    def strike(self, mine: list[Running], stop: threading.Event) -> bool:
        raise NotImplementedError


@dataclass
class Killer(Disruption):
    """Kills a process of the first running job: Slurm marks the job FAILED."""

    state: ClassVar[str] = "FAILED"

    def strike(self, mine: list[Running], stop: threading.Event) -> bool:
        for job in mine:
            if pid := self._job_process(job.job_id):
                command = _cmdline(pid)
                os.kill(pid, signal.SIGKILL)
                self.ended[job.job_id] = "process " + command.replace(b"\0", b" ").decode()
                return True
        return False

    @staticmethod
    def _job_process(job_id: str) -> int | None:
        """The newest Python process of the job (the job's own work, not its shell)."""
        output = slurm("scontrol", "listpids", job_id)
        pids = [int(row.split()[0]) for row in output.splitlines()[1:] if row.strip()]
        python = [p for p in pids if b"python" in _cmdline(p)]
        return max(python) if python else None


@dataclass
class NodeFailer(Disruption):
    """Sets the node of the first running job DOWN, as a node failure does: Slurm ends
    every job on it as NODE_FAIL. After ``down_seconds`` (jobs submitted meanwhile wait)
    the node is resumed; it is resumed even if the run stops first.

    A node that also runs jobs of other work is never touched: ``refused`` says why.
    """

    down_seconds: float = 15.0
    refused: str = ""
    state: ClassVar[str] = "NODE_FAIL"

    def strike(self, mine: list[Running], stop: threading.Event) -> bool:
        node = mine[0].node
        others = [
            j.job_id for j in running_jobs() if j.node == node and not self.is_mine(j.workdir)
        ]
        if others:
            self.refused = f"node {node} also runs Slurm jobs {others} of other work"
            return False
        reason = "livingmeta tests/slurm/portfolio.py: node failure test"
        if error := scontrol_update(node, "State=DOWN", f"Reason={reason}"):
            self.refused = f"node {node} could not be set DOWN: {error}"
            return True
        failed: list[str] = []
        try:
            for _ in range(100):  # Slurm ends the node's jobs within a second or two
                if failed := self._node_failed_jobs():
                    break
                time.sleep(0.2)
            self.ended.update((job, f"node {node} set DOWN") for job in failed)
            if failed:
                stop.wait(self.down_seconds)
        finally:
            scontrol_update(node, "State=RESUME")
        return bool(failed)  # none: the job had just ended, so try again

    def _node_failed_jobs(self) -> list[str]:
        output = slurm("squeue", "--noheader", "--states=NODE_FAIL", "--format=%i|%Z")
        rows = (line.split("|", 1) for line in output.splitlines() if "|" in line)
        return [job for job, workdir in rows if self.is_mine(workdir)]


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


def run_slurm(
    root: Path, extra: list[str], disruptions: list[Disruption], timeout: float
) -> tuple[float, str]:
    """The Slurm run, with the first status check after 5 s instead of the profile's 20;
    the disruptions strike one after the other while it runs."""
    extra = ["--slurm-init-seconds-before-status-checks", "5", *extra]
    stop = threading.Event()

    def disrupt() -> None:
        for disruption in disruptions:
            disruption.run(stop)

    thread = threading.Thread(target=disrupt, daemon=True)
    thread.start()
    try:
        return snakemake(root, "--profile", "workflow/profiles/slurm", *extra, timeout=timeout)
    finally:
        stop.set()
        thread.join(timeout=60)  # a node set DOWN is resumed before the run returns


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reviews", type=int, default=5, help="generated reviews")
    parser.add_argument("--seed", type=int, default=20261202)
    parser.add_argument("--cores", type=int, default=2, help="cores of the local run")
    parser.add_argument(
        "--timeout", type=float, default=1800, help="seconds each run may take (50 reviews: 7200)"
    )
    parser.add_argument("--kill-one", action="store_true", help="kill one job's process")
    parser.add_argument(
        "--fail-node",
        action="store_true",
        help="set the node of a running job DOWN, then resume it (after --kill-one's kill)",
    )
    parser.add_argument("--keep", type=Path, help="build the portfolios here and keep them")
    parser.add_argument("slurm_args", nargs="*", help="more options for the Slurm run")
    args = parser.parse_args(argv)

    base = args.keep or Path(tempfile.mkdtemp(prefix="livingmeta-slurm-"))
    try:
        records = run_and_check(base, args)
    except CheckFailed as failure:
        print(f"FAILED: {failure}", file=sys.stderr)
        return 1
    finally:
        if args.keep is None:
            shutil.rmtree(base, ignore_errors=True)
    completed = sum(job.state == "COMPLETED" for job in records.values())
    print(f"slurm_jobs_completed={completed}")
    return 0


def run_and_check(base: Path, args: argparse.Namespace) -> dict[str, SlurmJob]:
    """Builds the two copies of the portfolio in ``base``, runs them and checks the
    Slurm run; returns Slurm's records of the submitted jobs."""
    local, cluster = base / "local", base / "slurm"
    for folder in (local, cluster):
        shutil.rmtree(folder, ignore_errors=True)
    local.mkdir(parents=True)
    ids = build_portfolio(local, args.reviews, args.seed)
    shutil.copytree(local, cluster)
    print(f"portfolio: {len(ids)} reviews in {base}", flush=True)

    local_seconds, _ = snakemake(
        local,
        "--profile",
        "workflow/profiles/default",
        "--cores",
        str(args.cores),
        timeout=args.timeout,
    )
    print(f"local run: {local_seconds:.1f} s", flush=True)
    disruptions: list[Disruption] = []
    if args.kill_one:
        disruptions.append(Killer(cluster))
    if args.fail_node:
        disruptions.append(NodeFailer(cluster))
    slurm_seconds, output = run_slurm(cluster, args.slurm_args, disruptions, args.timeout)
    (base / "slurm-run.log").write_text(output)
    print(f"slurm run: {slurm_seconds:.1f} s (log: {base / 'slurm-run.log'})", flush=True)

    records = check_submissions(output)
    states = sorted(job.state for job in records.values())
    print(f"slurm jobs: {len(records)} submitted, states {states}", flush=True)
    ended = {job_id for disruption in disruptions for job_id in disruption.ended}
    unfinished = [j for j in records.values() if j.state != "COMPLETED"]
    if any(job.job_id not in ended for job in unfinished):
        raise CheckFailed(f"Slurm jobs that did not complete: {unfinished}")
    for disruption in disruptions:
        check_resubmitted(disruption, records)
    compare(outputs(local), outputs(cluster))
    print("outputs: identical to the local run", flush=True)
    return records


def check_resubmitted(disruption: Disruption, records: dict[str, SlurmJob]) -> None:
    """Every job the disruption ended has its state on Slurm, and a later submission of
    the same Snakemake job completed."""
    name = type(disruption).__name__
    if not disruption.ended:
        why = getattr(disruption, "refused", "") or "no running Slurm job of the run was seen"
        raise CheckFailed(f"{name} ended no job: {why}")
    for job_id, what in disruption.ended.items():
        ended = records.get(job_id)
        if ended is None or ended.state != disruption.state:
            raise CheckFailed(f"Slurm job {job_id} ({what}) is not {disruption.state}: {ended}")
        again = [
            job
            for job in records.values()
            if job.snakemake_job == ended.snakemake_job and int(job.job_id) > int(job_id)
        ]
        if not any(job.state == "COMPLETED" for job in again):
            raise CheckFailed(f"Slurm job {job_id} ({ended.comment}) was not resubmitted")
        print(
            f"{name}: {ended.comment} (Slurm job {job_id}, {what[:80]!r}) ended "
            f"{disruption.state}, resubmitted as Slurm job "
            f"{', '.join(job.job_id for job in again)} and completed",
            flush=True,
        )


if __name__ == "__main__":
    sys.exit(main())
