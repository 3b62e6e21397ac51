"""The drawing server: a process that imports matplotlib and the drawing steps once a run,
from which each drawing job is forked (:func:`livingmeta.rulelog.run_forked`).

It is multiprocessing's fork server, started on first use (or early, in the background,
by the Snakefile's ``onstart`` when the run has drawing jobs), and it ends with the
process that started it. Where the platform has no fork server, or it cannot start (its
socket lives in the temporary folder), jobs start in fresh interpreters instead: slower,
with the same results.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

#: What the drawing steps import, loaded once a run by the server. ``__main__``
#: (Snakemake's own script) is loaded there too: a child forked without it would import
#: it again (multiprocessing prepares each child so), paying Snakemake's imports per job.
DRAWING_LIBRARIES = (
    "__main__",
    "numpy",
    "pandas",
    "scipy.special",
    "matplotlib.figure",
    "matplotlib.backends.backend_agg",
    "matplotlib.backends.backend_pdf",
    "matplotlib.backends.backend_svg",
    "fontTools.subset",
    "jinja2",
    "livingmeta.plots.forest",
    "livingmeta.plots.funnel",
    "livingmeta.plots.robvis",
    "livingmeta.plots.sensitivity",
    "livingmeta.report.prisma_draw",
    "livingmeta.report.run_report",
    "livingmeta.workflow.plot",
    "livingmeta.workflow.report",
    "livingmeta.workflow.risk_of_bias",
)

#: Held while a process is started or reaped: multiprocessing's process objects are not
#: thread-safe (each start polls every child, and two threads reading one child's exit
#: status can turn a success into status 255), and Snakemake's job threads start them
#: side by side.
_PROCESSES = threading.Lock()
_START_METHOD = ["forkserver"]
_DRAW_HERE = threading.Event()


def draw_here() -> None:
    """Run the drawing jobs of this process in it, not forked: for a Snakemake started for
    one job (without ``--force-use-threads``), where a server would only cost its start."""
    _DRAW_HERE.set()


def drawing_here() -> bool:
    """Whether :func:`draw_here` was called."""
    return _DRAW_HERE.is_set()


def _context() -> Any:
    import multiprocessing

    if _START_METHOD[0] not in multiprocessing.get_all_start_methods():
        _START_METHOD[0] = "spawn"
    context = multiprocessing.get_context(_START_METHOD[0])
    if _START_METHOD[0] == "forkserver":
        context.set_forkserver_preload(list(DRAWING_LIBRARIES))
    return context


def pipe() -> tuple[Any, Any]:
    """A one-way pipe (receiver, sender) for a job to report through."""
    return _context().Pipe(duplex=False)


def start(target: Callable[..., None], args: tuple[Any, ...]) -> Any:
    """A started process running ``target(*args)``, forked from the server."""
    with _PROCESSES:
        try:
            process = _context().Process(target=target, args=args)
            process.start()
        except OSError:
            if _START_METHOD[0] != "forkserver":
                raise
            _START_METHOD[0] = "spawn"  # e.g. its socket path is too long: go on without
            process = _context().Process(target=target, args=args)
            process.start()
    return process


def wait(process: Any) -> int | None:
    """The exit status of ``process``, once it has ended."""
    from multiprocessing.connection import wait as wait_for

    wait_for([process.sentinel])  # outside the lock: other jobs start meanwhile
    with _PROCESSES:
        process.join()
        return process.exitcode


def start_in_background() -> None:
    """Start the server now, in a thread of its own: its imports (a second or so) then
    overlap the quick steps that run before the first figure."""

    def warm_up() -> None:
        try:
            wait(start(_nothing, ()))
        except Exception:  # the first job starts it, or says why it cannot
            return

    threading.Thread(target=warm_up, name="start the drawing server", daemon=True).start()


def _nothing() -> None:
    """A job that does nothing (it starts the server)."""


def forks_jobs(workflow: Any) -> bool:
    """Whether a job this Snakemake will run is forked (its rule's ``run:`` block calls
    ``run_forked``); false when Snakemake's plan cannot be read."""
    try:
        return any(
            "run_forked" in job.rule.run_func.__code__.co_names
            for job in workflow.dag.needrun_jobs()
            if getattr(job.rule, "run_func", None) is not None
        )
    except Exception:  # Snakemake's internals moved: start on first use
        return False
