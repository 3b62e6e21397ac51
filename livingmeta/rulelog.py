"""Logging for the Snakemake glue scripts: each rule logs to its own file under logs/,
and a failure is written both there and to stderr (where Snakemake shows it).

The log of a job that failed (or was killed) is kept when the job runs again, as
``<name>.<time>.failed.log`` beside it (the last :data:`KEPT_FAILED_LOGS`), so the
evidence of an unattended run's failure outlives the next run."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from livingmeta.config import ConfigError
from livingmeta.validation import EXIT_INVALID_INPUT, InputError

#: Failed logs kept per job log (older ones are deleted).
KEPT_FAILED_LOGS = 5
_DONE = ": done"


def run_rule(
    log_path: str | Path, name: str, func: Callable[..., Any], *args: Any, **kwargs: Any
) -> Any:
    """Run one rule's package function with logging to ``log_path``.

    Invalid input ends the job with the full report (file, row, column) and exit code 2,
    before any output was written: the functions write atomically at the end.
    """
    Path(log_path).parent.mkdir(parents=True, exist_ok=True)
    keep_failed_log(log_path)
    logging.basicConfig(
        filename=log_path,
        filemode="w",
        level=logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        force=True,
    )
    log = logging.getLogger(name)
    log.info("start")
    try:
        result = func(*args, **kwargs)
    except (InputError, ConfigError) as exc:
        log.error("%s", exc)
        print(f"{name}: {exc}", file=sys.stderr)
        sys.exit(EXIT_INVALID_INPUT)
    except Exception:
        log.exception("failed")
        raise
    log.info("done")
    return result


def keep_failed_log(log_path: str | Path) -> Path | None:
    """Move aside the log an earlier attempt left unless it ended with ``done``.

    A log without the final ``done`` line belongs to a job that failed or was killed;
    it is renamed to ``<stem>.<its mtime>.failed.log`` instead of being overwritten, and
    only the newest :data:`KEPT_FAILED_LOGS` of them are kept. Returns the kept path.
    """
    path = Path(log_path)
    if not path.is_file() or path.stat().st_size == 0:
        return None
    with open(path, "rb") as handle:
        handle.seek(max(0, path.stat().st_size - 4096))
        tail = handle.read().decode("utf-8", "replace").rstrip().splitlines()
    if tail and tail[-1].endswith(_DONE):
        return None
    stamp = datetime.fromtimestamp(path.stat().st_mtime, UTC).strftime("%Y%m%dT%H%M%S%fZ")
    kept = path.with_name(f"{path.stem}.{stamp}.failed.log")
    path.replace(kept)
    for old in sorted(path.parent.glob(f"{path.stem}.*.failed.log"))[:-KEPT_FAILED_LOGS]:
        old.unlink()
    return kept
