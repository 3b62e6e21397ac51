"""Logging for the Snakemake glue scripts: each rule logs to its own file under logs/,
and a failure is written both there and to stderr (where Snakemake shows it)."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from livingmeta.config import ConfigError
from livingmeta.validation import EXIT_INVALID_INPUT, InputError


def run_rule(
    log_path: str | Path, name: str, func: Callable[..., Any], *args: Any, **kwargs: Any
) -> Any:
    """Run one rule's package function with logging to ``log_path``.

    Invalid input ends the job with the full report (file, row, column) and exit code 2,
    before any output was written: the functions write atomically at the end.
    """
    Path(log_path).parent.mkdir(parents=True, exist_ok=True)
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
