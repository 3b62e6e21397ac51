"""How the workflow's jobs run their step, and log it: each job logs to its own file under
logs/, whether its rule runs the step in a process of its own (a glue script:
:func:`run_rule`), in Snakemake's process (a ``run:`` block: :func:`run_in_snakemake`) or
in a process forked from one that has imported the drawing libraries already
(:func:`run_forked`, :mod:`livingmeta.fork_server`), and a failure is written both there
and where Snakemake shows it.

The log of a job that failed is copied as ``<name>.<time>.failed.log`` beside it (the
last :data:`KEPT_FAILED_LOGS`), so the evidence of an unattended run's failure outlives
the next run, which deletes the job's log."""

from __future__ import annotations

import logging
import shutil
import sys
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from livingmeta.config import ConfigError
from livingmeta.validation import EXIT_INVALID_INPUT, INVALID_INPUT_LOGGED, InputError

#: Failed logs kept per job log (older ones are deleted).
KEPT_FAILED_LOGS = 5
LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
#: What a forked job reports when its step has finished (its outputs are written).
FORKED_JOB_DONE = "done"
#: The exit status of a forked job stopped by Ctrl-C (128 + SIGINT, as a shell reports).
EXIT_INTERRUPTED = 130


def run_rule(
    log_path: str | Path, name: str, func: Callable[..., Any], *args: Any, **kwargs: Any
) -> Any:
    """Run one rule's package function from its glue script (a process of its own),
    logging to ``log_path``.

    Invalid input ends the job with the full report (file, row, column) and exit code 2,
    before any output was written: the functions write atomically at the end.
    """
    _log_process_to(log_path)
    try:
        return _logged(logging.getLogger(name), log_path, func, *args, **kwargs)
    except (InputError, ConfigError) as exc:
        print(f"{name}: {exc}", file=sys.stderr)
        sys.exit(EXIT_INVALID_INPUT)


def _log_process_to(log_path: str | Path) -> None:
    """Send every record of this process (a job's own) to ``log_path``."""
    Path(log_path).parent.mkdir(parents=True, exist_ok=True)
    logging.basicConfig(
        filename=log_path, filemode="w", level=logging.INFO, format=LOG_FORMAT, force=True
    )


def run_in_snakemake(
    log_path: str | Path, name: str, func: Callable[..., Any], *args: Any, **kwargs: Any
) -> Any:
    """Run one rule's package function in Snakemake's own process (the rule's ``run:``
    block; each job a thread), logging to ``log_path``.

    Why: a step that reads and writes a few tables takes a fraction of the time a new
    Python process spends starting and importing pandas; in Snakemake's process the
    imports are paid once a run. Jobs run side by side, so the log takes this thread's
    records only. Invalid input is raised, not exited, so that Snakemake names the rule
    and goes on with other jobs under ``--keep-going``; its report still names file,
    row and column, and the scheduled run counts it as invalid data.
    """
    Path(log_path).parent.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(log_path, mode="w", encoding="utf-8")
    handler.setFormatter(logging.Formatter(LOG_FORMAT))
    handler.addFilter(_ThreadFilter(threading.get_ident()))
    root = logging.getLogger()
    for logger in (logging.getLogger(name), logging.getLogger("livingmeta")):
        if logger.level == logging.NOTSET:
            logger.setLevel(logging.INFO)
    root.addHandler(handler)
    try:
        return _logged(logging.getLogger(name), log_path, func, *args, **kwargs)
    except (InputError, ConfigError) as exc:
        # Snakemake prints the traceback too: the report is the message.
        raise exc.with_traceback(None) from None
    except SystemExit as exc:
        # Snakemake would wait for ever on a job thread that raised SystemExit.
        logging.getLogger(name).error("failed: the step asked to exit (%s)", exc.code)
        keep_failed_log(log_path)
        raise RuntimeError(f"{name}: the step asked to exit (status {exc.code})") from exc
    finally:
        root.removeHandler(handler)
        handler.close()


def run_forked(
    log_path: str | Path, name: str, func: Callable[..., Any], *args: Any, **kwargs: Any
) -> None:
    """Run one rule's package function in a process forked from the drawing server
    (:mod:`livingmeta.fork_server`; the rule's ``run:`` block, whose thread waits for
    it), logging to ``log_path``.

    Why: the steps that draw must not run in Snakemake's process (matplotlib's settings
    are global, and drawing holds the interpreter for seconds), but a process of their
    own (a glue script) spent a second of each job starting Python and importing
    matplotlib, numpy and pandas. The server pays that once a run, and each job starts
    from a fresh copy of it. Invalid input is raised here as in :func:`run_in_snakemake`.
    In a Snakemake started for this job alone (:func:`fork_server.draw_here`), the step
    draws in that process.
    """
    from livingmeta import fork_server

    if fork_server.drawing_here():
        run_in_snakemake(log_path, name, func, *args, **kwargs)
        return

    receiver, sender = fork_server.pipe()
    with receiver:
        try:
            process = fork_server.start(_forked_job, (sender, log_path, name, func, args, kwargs))
        finally:
            sender.close()  # the job's copy is its own: the pipe ends when the job does
        try:
            outcome = receiver.recv()  # until the job reports, or ends without a word
        except EOFError:
            outcome = None
        finally:
            status = fork_server.wait(process)
    if isinstance(outcome, InputError | ConfigError):
        raise outcome.with_traceback(None)
    if outcome != FORKED_JOB_DONE:
        raise RuntimeError(f"{name} failed (exit status {status}); see {log_path}")


def _forked_job(
    sender: Any, log_path: str | Path, name: str, func: Callable[..., Any], args: Any, kwargs: Any
) -> None:
    """The forked process of :func:`run_forked`: it reports its step done, or its refusal
    of invalid input (raised in Snakemake's process); a crash prints its traceback and
    reports nothing. Ctrl-C ends it without a traceback (Snakemake reports the job)."""
    _log_process_to(log_path)
    try:
        _logged(logging.getLogger(name), log_path, func, *args, **kwargs)
    except (InputError, ConfigError) as exc:
        sender.send(exc)
        sys.exit(EXIT_INVALID_INPUT)
    except KeyboardInterrupt:
        logging.getLogger(name).error("interrupted")
        sys.exit(EXIT_INTERRUPTED)
    else:
        sender.send(FORKED_JOB_DONE)
    finally:
        sender.close()


class _ThreadFilter(logging.Filter):
    """Records logged by one thread, except Snakemake's own (it logs to the console)."""

    def __init__(self, thread: int):
        super().__init__()
        self.thread = thread

    def filter(self, record: logging.LogRecord) -> bool:
        return record.thread == self.thread and not record.name.startswith("snakemake")


def _logged(
    log: logging.Logger, log_path: str | Path, func: Callable[..., Any], *args: Any, **kwargs: Any
) -> Any:
    """``func``'s result, with ``start``, ``done`` or the failure in ``log`` (written to
    ``log_path``, which a failure leaves a copy of); invalid input is logged as its
    report, anything else with its traceback."""
    log.info("start")
    try:
        result = func(*args, **kwargs)
    except (InputError, ConfigError) as exc:
        log.error("%s%s", INVALID_INPUT_LOGGED, exc)
        keep_failed_log(log_path)
        raise
    except Exception:
        log.exception("failed")
        keep_failed_log(log_path)
        raise
    log.info("done")
    return result


def keep_failed_log(log_path: str | Path) -> Path | None:
    """Copy the log of a job that has just failed to ``<stem>.<its mtime>.failed.log``
    beside it, keeping the newest :data:`KEPT_FAILED_LOGS` copies. Returns the copy.

    Why: Snakemake deletes a job's log when it runs the job again, so without a copy the
    evidence of an unattended run's failure would go with the next run. (A job killed
    outright, by a power cut or SIGKILL, leaves its log only until then.)
    """
    path = Path(log_path)
    if not path.is_file() or path.stat().st_size == 0:
        return None
    stamp = datetime.fromtimestamp(path.stat().st_mtime, UTC).strftime("%Y%m%dT%H%M%S%fZ")
    kept = path.with_name(f"{path.stem}.{stamp}.failed.log")
    shutil.copyfile(path, kept)
    for old in sorted(path.parent.glob(f"{path.stem}.*.failed.log"))[:-KEPT_FAILED_LOGS]:
        old.unlink()
    return kept
