"""Job logs of steps run in Snakemake's own process (``run_in_snakemake``, one thread per
job) and in a process of their own (``run_rule``)."""

from __future__ import annotations

import logging
import threading

import pytest

from livingmeta.rulelog import run_in_snakemake, run_rule
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
