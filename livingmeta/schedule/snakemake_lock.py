"""Snakemake's own lock: left behind by a run that died, or held by a run still working.

Snakemake locks a folder with files under ``.snakemake/locks/`` and removes them when it
ends; a run killed with ``kill -9`` (the OOM killer, a power cut, a CI timeout) leaves
them, and every later run fails with "Directory cannot be locked" until someone runs
``snakemake --unlock``. The files do not say who made them, so a lock counts as stale
when no Snakemake process works in the folder; the process table is read from ``/proc``
(where there is none, a lock is never assumed stale).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path

from livingmeta.schedule.locks import LockedError

#: Where Snakemake keeps its lock files, relative to the working folder.
LOCK_DIR = Path(".snakemake") / "locks"
#: What Snakemake prints when it finds the folder locked (``LockException``).
LOCKED_MESSAGE = "Directory cannot be locked"
PROC = Path("/proc")


def lock_files(workdir: Path) -> list[Path]:
    """Snakemake's lock files in ``workdir`` (empty when it holds no lock)."""
    folder = workdir / LOCK_DIR
    return sorted(folder.glob("*.lock")) if folder.is_dir() else []


def is_snakemake(argv: Sequence[str]) -> bool:
    """Whether a command line is Snakemake (``snakemake ...``, ``python -m snakemake``) or
    one of its jobs (scripts under ``.snakemake/``)."""
    return "snakemake" in (Path(arg).name for arg in argv[:3]) or any(
        "/.snakemake/" in arg for arg in argv
    )


def snakemake_processes(workdir: Path, proc: Path | None = None) -> list[int] | None:
    """PIDs of the live Snakemake processes working in ``workdir``; ``None`` when this
    system has no ``/proc`` to tell.

    A Snakemake process whose folder cannot be read (another user's) counts as working
    here: removing a live run's lock is far worse than waiting for the next run.
    """
    proc = proc or PROC
    if not proc.is_dir():
        return None
    pids = []
    for entry in proc.iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().decode(errors="replace").split("\0")
        except OSError:
            continue  # ended meanwhile
        if not is_snakemake(argv):
            continue
        try:
            cwd = Path(os.readlink(entry / "cwd"))
        except FileNotFoundError:
            continue
        except OSError:
            cwd = workdir
        if cwd == workdir or any(Path(arg) == workdir for arg in argv):
            pids.append(int(entry.name))
    return sorted(pids)


def clear_stale_lock(
    workdir: Path,
    unlock: Callable[[], None],
    log: Callable[[str], None],
    proc: Path | None = None,
) -> None:
    """Make sure no other Snakemake run works in ``workdir``; remove a lock left by a dead one.

    Raises
    ------
    LockedError
        A Snakemake process works in ``workdir`` (a manual run, say), or a lock is there
        and this system cannot tell whether its owner is alive.
    """
    pids = snakemake_processes(workdir, proc)
    if pids:
        listed = ", ".join(map(str, pids))
        raise LockedError(f"Snakemake is running in {workdir} (pid {listed})")
    locks = lock_files(workdir)
    if not locks:
        return
    if pids is None:
        raise LockedError(
            f"Snakemake's lock in {workdir / LOCK_DIR} may be held by a live run; if none is "
            "running, remove it with `snakemake --unlock`"
        )
    log(
        f"stale Snakemake lock in {workdir / LOCK_DIR} ({len(locks)} file(s)): no Snakemake "
        "process is running here, so its run died; unlocking with `snakemake --unlock`"
    )
    unlock()


def locked_by_another_run(output: str) -> bool:
    """Whether Snakemake refused to start because another run locked the folder."""
    return LOCKED_MESSAGE in output
