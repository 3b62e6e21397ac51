"""A Snakemake lock left by a killed run is removed and the scheduled run goes on; a lock
held by a live Snakemake run (a manual one, say) gives exit code 40, never 1.

Real Snakemake processes on a one-rule workflow: one is killed with SIGKILL (as the OOM
killer or a CI timeout would), another is left running while the scheduled run starts.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from livingmeta.config import REPO_ROOT
from livingmeta.schedule.exit_codes import EXIT_LOCKED, EXIT_OK
from livingmeta.schedule.locks import LockedError
from livingmeta.schedule.run import RunOptions, run_scheduled
from livingmeta.schedule.snakemake_lock import (
    clear_stale_lock,
    is_snakemake,
    lock_files,
    snakemake_processes,
)

SNAKEFILE = """\
rule all:
    input:
        "done.txt",


rule work:
    output:
        "done.txt",
    shell:
        "sleep ${{WORK_SECONDS:-0}} && touch {output}"
"""
LOCKED_SNAKEMAKE = """\
import sys
print("Error: Directory cannot be locked. Please make sure that no other Snakemake process")
print("is trying to create the same files in the following directory:")
sys.exit(1)
"""


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    """A folder with the real config and a one-rule Snakefile."""
    (tmp_path / "config").mkdir()
    shutil.copy2(REPO_ROOT / "config" / "config.yaml", tmp_path / "config" / "config.yaml")
    (tmp_path / "Snakefile").write_text(SNAKEFILE)
    return tmp_path.resolve()


def options(workdir: Path, **kwargs) -> RunOptions:
    return RunOptions(
        workdir=workdir, cores=1, profile=None, notify=False, validate=False, **kwargs
    )


@pytest.fixture
def snakemake_at_work(workdir: Path) -> Iterator[subprocess.Popen[bytes]]:
    """A real Snakemake run that holds its lock in ``workdir`` (its job sleeps)."""
    process = subprocess.Popen(
        [sys.executable, "-m", "snakemake", "--cores", "1"],
        cwd=workdir,
        env={**os.environ, "WORK_SECONDS": "600"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 120
        while not lock_files(workdir):
            assert process.poll() is None, "snakemake ended before taking its lock"
            assert time.monotonic() < deadline, "snakemake never took its lock"
            time.sleep(0.1)
        yield process
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def log_text(workdir: Path) -> str:
    return "".join(p.read_text() for p in (workdir / "logs" / "scheduled").glob("*.log"))


def test_lock_of_a_killed_snakemake_is_removed_and_the_run_goes_on(workdir, snakemake_at_work):
    os.killpg(snakemake_at_work.pid, signal.SIGKILL)  # kill -9: no chance to clean up
    snakemake_at_work.wait()
    assert lock_files(workdir), "a killed run leaves its lock"
    assert run_scheduled(options(workdir), {**os.environ, "WORK_SECONDS": "0"}) == EXIT_OK
    assert (workdir / "done.txt").exists() and not lock_files(workdir)
    log = log_text(workdir)
    assert "stale Snakemake lock" in log and "--unlock" in log
    assert "nothing new (exit code 0)" in log


def test_live_snakemake_run_gives_40_and_keeps_its_lock(workdir, snakemake_at_work, capsys):
    assert run_scheduled(options(workdir), dict(os.environ)) == EXIT_LOCKED
    assert snakemake_at_work.poll() is None and lock_files(workdir)
    log = log_text(workdir)
    assert f"Snakemake is running in {workdir} (pid {snakemake_at_work.pid}" in log
    assert "--unlock" not in log
    assert "another run is in progress (exit code 40)" in capsys.readouterr().out


def test_snakemake_refusing_a_locked_folder_gives_40_not_1(workdir):
    """A manual run that locked the folder just before this run's Snakemake started."""
    (workdir / "locked_snakemake.py").write_text(LOCKED_SNAKEMAKE)
    fake = (sys.executable, str(workdir / "locked_snakemake.py"))
    assert run_scheduled(options(workdir, snakemake=fake), dict(os.environ)) == EXIT_LOCKED


def test_without_a_process_table_a_lock_is_never_assumed_stale(workdir, tmp_path):
    (workdir / ".snakemake" / "locks").mkdir(parents=True)
    (workdir / ".snakemake" / "locks" / "0.output.lock").write_text("done.txt\n")
    missing = tmp_path / "no-proc"
    assert snakemake_processes(workdir, proc=missing) is None
    unlocked = []
    with pytest.raises(LockedError, match="may be held by a live run"):
        clear_stale_lock(workdir, lambda: unlocked.append(True), print, proc=missing)
    assert not unlocked


@pytest.mark.parametrize(
    "argv, expected",
    [
        (["/usr/bin/python3", "-m", "snakemake", "--cores", "1"], True),
        (["/usr/bin/python3", "/venv/bin/snakemake", "-n"], True),
        (["python", "/w/.snakemake/scripts/tmpab12.pool_outcome.py"], True),
        (["python", "scripts/scheduled_run.py", "--quiet"], False),
        (["python", "-m", "pytest", "tests/test_snakemake_things.py"], False),
    ],
)
def test_snakemake_command_lines_are_recognised(argv, expected):
    assert is_snakemake(argv) is expected


def fake_process(proc: Path, pid: int, argv: list[str], cwd: Path) -> None:
    entry = proc / str(pid)
    entry.mkdir(parents=True)
    (entry / "cmdline").write_bytes("\0".join(argv).encode() + b"\0")
    (entry / "cwd").symlink_to(cwd)


def test_only_snakemake_processes_working_in_the_folder_count(workdir, tmp_path):
    proc, elsewhere = tmp_path / "proc", tmp_path / "elsewhere"
    elsewhere.mkdir()
    fake_process(proc, 101, ["python", "-m", "snakemake", "--cores", "2"], workdir)
    fake_process(proc, 102, ["python", "-m", "snakemake"], elsewhere)
    fake_process(proc, 103, ["snakemake", "--directory", str(workdir)], elsewhere)
    fake_process(proc, 104, ["python", "scripts/scheduled_run.py"], workdir)
    (proc / "self").mkdir()
    assert snakemake_processes(workdir, proc=proc) == [101, 103]
