"""Job logs of steps run in Snakemake's own process (``run_in_snakemake``, one thread per
job), in a process of their own (``run_rule``) and forked from the drawing server
(``run_forked``)."""

from __future__ import annotations

import importlib
import logging
import os
import re
import signal
import sys
import threading
import time
from pathlib import Path

import pytest

from livingmeta.fork_server import DRAWING_LIBRARIES
from livingmeta.rulelog import run_forked, run_in_snakemake, run_rule
from livingmeta.validation import EXIT_INVALID_INPUT, InputError, Problem


@pytest.fixture(autouse=True)
def logger_levels():
    """run_in_snakemake sets the level of loggers it writes for; leave them as found."""
    loggers = [logging.getLogger(n) for n in ("livingmeta", "first", "second")]
    levels = [logger.level for logger in loggers]
    yield
    for logger, level in zip(loggers, levels, strict=True):
        logger.setLevel(level)


INVALID = InputError([Problem("reviews/r/extraction.csv", 3, "events_e", "not a whole number")])


def test_jobs_side_by_side_log_their_own_records_only(tmp_path):
    both_started = threading.Barrier(2)

    def step(name: str) -> str:
        log = logging.getLogger(f"livingmeta.workflow.{name}")
        log.info("%s begins", name)
        both_started.wait(timeout=30)
        logging.getLogger("snakemake.logging").warning("Snakemake's own message")
        log.info("%s ends", name)
        return name

    results = {}

    def job(name: str) -> None:
        results[name] = run_in_snakemake(tmp_path / f"{name}.log", name, step, name)

    threads = [threading.Thread(target=job, args=(n,)) for n in ("first", "second")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert results == {"first": "first", "second": "second"}
    for name, other in (("first", "second"), ("second", "first")):
        text = (tmp_path / f"{name}.log").read_text()
        assert f"{name} begins" in text and f"{name} ends" in text
        assert other not in text and "Snakemake's own message" not in text
        assert text.rstrip().endswith(f"{name}: done")
    # the jobs' handlers are gone: nothing more is written to their logs
    left = [getattr(h, "baseFilename", "") for h in logging.getLogger().handlers]
    assert not [f for f in left if f.startswith(str(tmp_path))]


def test_invalid_input_in_snakemakes_process_is_raised_and_logged(tmp_path):
    log = tmp_path / "check_extraction" / "r.log"

    def refuse() -> None:
        raise INVALID

    with pytest.raises(InputError) as raised:
        run_in_snakemake(log, "check_extraction", refuse)
    assert raised.value is INVALID
    # Snakemake prints the traceback with the message: the package's frames are left out
    frames = [entry.name for entry in raised.traceback]
    assert "refuse" not in frames and "_logged" not in frames, frames
    assert "ERROR check_extraction: invalid input: 1 problem found" in log.read_text()
    assert "row 3, column 'events_e': not a whole number" in log.read_text()
    assert "Traceback" not in log.read_text()  # the report is the message
    log.unlink()  # as Snakemake does before it runs the job again
    run_in_snakemake(log, "check_extraction", lambda: None)
    [kept] = log.parent.glob("r.*.failed.log")  # the failed job's log outlives the rerun
    assert "not a whole number" in kept.read_text()


def test_a_crash_in_snakemakes_process_is_logged_with_its_traceback(tmp_path):
    log = tmp_path / "pool_outcome.log"

    def crash() -> None:
        raise KeyError("estimate")

    with pytest.raises(KeyError):
        run_in_snakemake(log, "pool_outcome", crash)
    text = log.read_text()
    assert "Traceback" in text and "KeyError: 'estimate'" in text


def test_a_step_that_exits_fails_its_job_instead_of_hanging_snakemake(tmp_path):
    """Snakemake waits for ever on a job thread that raised SystemExit."""
    log = tmp_path / "summarise_review.log"

    def leave() -> None:
        raise SystemExit(2)

    with pytest.raises(RuntimeError, match="asked to exit"):
        run_in_snakemake(log, "summarise_review", leave)
    assert "the step asked to exit (2)" in log.read_text()


def test_invalid_input_in_a_process_of_its_own_exits_2(tmp_path, capsys):
    def refuse() -> None:
        raise INVALID

    with pytest.raises(SystemExit) as exited:
        run_rule(tmp_path / "plot.log", "plot_outcome", refuse)
    assert exited.value.code == EXIT_INVALID_INPUT
    assert "plot_outcome: 1 problem found" in capsys.readouterr().err


# Steps for run_forked: a forked job receives its step by reference (module and name).


def record_process(path: Path) -> None:
    logging.getLogger("livingmeta.workflow.plot").info("drawing in %s", os.getpid())
    import matplotlib.figure

    Path(path).write_text(f"{os.getpid()} {matplotlib.figure.__name__}", encoding="utf-8")


def crash() -> None:
    raise KeyError("estimate")


def wait_for_ctrl_c(pid_file: Path) -> None:
    # Python's own handler, as in a terminal: a test run started in the background by a
    # shell without job control inherits SIGINT ignored.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    Path(pid_file).write_text(str(os.getpid()), encoding="utf-8")
    time.sleep(120)


def refuse() -> None:
    raise INVALID


def in_threads(jobs: list[tuple]) -> list[BaseException]:
    """Run each ``(function, *args)`` in a thread of its own, all at once, as Snakemake
    runs jobs; what each raised."""
    raised: list[BaseException] = []

    def job(function, *args) -> None:
        try:
            function(*args)
        except BaseException as exc:  # collected for the test
            raised.append(exc)

    threads = [threading.Thread(target=job, args=job_args) for job_args in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert not any(thread.is_alive() for thread in threads)
    return raised


def test_forked_jobs_run_side_by_side_in_processes_of_their_own(tmp_path):
    """Jobs of Snakemake's threads each get a process forked from the server, which has
    imported what drawing needs; matplotlib never enters the calling process."""
    drawn_before = "matplotlib.figure" in sys.modules
    jobs = [
        (run_forked, tmp_path / f"{n}.log", "plot_outcome", record_process, tmp_path / f"{n}.txt")
        for n in range(3)
    ]
    assert in_threads(jobs) == []
    pids = {(tmp_path / f"{n}.txt").read_text().split()[0] for n in range(3)}
    assert len(pids) == 3 and str(os.getpid()) not in pids
    for n in range(3):
        text = (tmp_path / f"{n}.log").read_text()
        assert "plot_outcome: start" in text and text.rstrip().endswith("plot_outcome: done")
        assert "drawing in" in text
    assert ("matplotlib.figure" in sys.modules) == drawn_before


def test_many_quick_forked_jobs_side_by_side_all_succeed(tmp_path):
    """Starting and reaping processes from several threads at once: no job that
    succeeded is reported failed (multiprocessing's process objects are not
    thread-safe; an unguarded start in one thread could read another job's status)."""
    jobs = [
        (run_forked, tmp_path / f"{t}-{n}.log", "draw_prisma", int)
        for t in range(4)
        for n in range(15)
    ]
    assert in_threads(jobs) == []


def test_a_snakemake_started_for_one_job_draws_in_its_own_process(tmp_path, monkeypatch):
    """Without --force-use-threads Snakemake starts a Snakemake per job: a drawing server
    there would only cost its start."""
    from livingmeta import fork_server

    monkeypatch.setattr(fork_server, "_DRAW_HERE", threading.Event())
    fork_server.draw_here()
    out = tmp_path / "pid.txt"
    assert (
        in_threads([(run_forked, tmp_path / "job.log", "plot_outcome", record_process, out)]) == []
    )
    assert out.read_text().split()[0] == str(os.getpid())
    assert "plot_outcome: done" in (tmp_path / "job.log").read_text()


def forked(log: Path, name: str, step, *args) -> BaseException | None:
    """What ``run_forked`` raises in a job thread of Snakemake's (None if nothing)."""
    raised = in_threads([(run_forked, log, name, step, *args)])
    return raised[0] if raised else None


def test_a_forked_job_that_crashes_fails_with_its_traceback_in_the_log(tmp_path):
    log = tmp_path / "plot_outcome" / "r.log"
    raised = forked(log, "plot_outcome", crash)
    assert isinstance(raised, RuntimeError)
    assert re.fullmatch(r"plot_outcome failed \(exit status 1\); see .*r\.log", str(raised))
    assert "KeyError: 'estimate'" in log.read_text()
    assert list(log.parent.glob("r.*.failed.log"))


def test_invalid_input_in_a_forked_job_is_raised_in_snakemakes_process(tmp_path):
    """As for a job in Snakemake's process: Snakemake shows the report (file, row,
    column), and the log has it for the scheduled run."""
    log = tmp_path / "draw_prisma.log"
    raised = forked(log, "draw_prisma", refuse)
    assert isinstance(raised, InputError) and raised.problems == INVALID.problems
    assert "row 3, column 'events_e': not a whole number" in str(raised)
    assert "ERROR draw_prisma: invalid input: 1 problem found" in log.read_text()


def test_ctrl_c_stops_a_forked_job_which_says_so_in_its_log(tmp_path):
    """Ctrl-C in the terminal reaches Snakemake's process group, forked jobs included:
    the job fails (Snakemake deletes its outputs), saying so in its log."""
    log, pid_file = tmp_path / "plot_outcome.log", tmp_path / "pid"
    raised: list[BaseException | None] = []
    job = (log, "plot_outcome", wait_for_ctrl_c, pid_file)
    thread = threading.Thread(target=lambda: raised.append(forked(*job)))
    thread.start()
    deadline = time.monotonic() + 60
    while not pid_file.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    os.kill(int(pid_file.read_text()), signal.SIGINT)
    thread.join(timeout=60)
    [error] = raised
    assert "plot_outcome failed (exit status 130)" in str(error)
    assert log.read_text().rstrip().endswith("ERROR plot_outcome: interrupted")


def test_the_drawing_server_imports_what_it_names():
    """The server skips a module it cannot import (a misspelt name would cost every
    forked job that import)."""
    for name in DRAWING_LIBRARIES:
        if name != "__main__":
            importlib.import_module(name)


def test_exit_statuses_read_side_by_side_are_right():
    """multiprocessing's process objects are not thread-safe: each start polls every
    child, and two threads reading one child's status can turn 0 into 255."""
    from livingmeta import fork_server

    def statuses() -> None:
        for _ in range(15):
            assert fork_server.wait(fork_server.start(int, ())) == 0

    assert in_threads([(statuses,)] * 4) == []


def test_a_server_that_cannot_start_leaves_the_jobs_to_fresh_interpreters(monkeypatch):
    """Its socket lives in the temporary folder (a path too long on some clusters): the
    jobs then start as new interpreters, slower but with the same results."""
    from livingmeta import fork_server

    monkeypatch.setattr(fork_server, "_START_METHOD", ["forkserver"])
    real_context = fork_server._context

    def context():
        found = real_context()
        if fork_server._START_METHOD[0] != "forkserver":
            return found

        class Refused(found.Process):
            def start(self):
                raise OSError("AF_UNIX path too long")

        return type("Context", (), {"Process": Refused, "Pipe": found.Pipe})

    monkeypatch.setattr(fork_server, "_context", context)
    assert fork_server.wait(fork_server.start(int, ())) == 0
    assert fork_server._START_METHOD == ["spawn"]
