"""Each run's log: a dated file that never overwrites an earlier run's."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path


def utc_stamp(moment: datetime | None = None, *, pretty: bool = False) -> str:
    """``20261125T093000Z`` (file names sort by time) or ISO 8601 when ``pretty``."""
    moment = (moment or datetime.now(UTC)).astimezone(UTC)
    if pretty:
        return moment.isoformat(timespec="seconds").replace("+00:00", "Z")
    return moment.strftime("%Y%m%dT%H%M%SZ")


def new_log_path(log_dir: str | os.PathLike[str], stamp: str) -> Path:
    """``<log_dir>/<stamp>.log``, never overwriting an earlier run's log."""
    log_dir = Path(log_dir)
    log_dir.mkdir(parents=True, exist_ok=True)
    path = log_dir / f"{stamp}.log"
    counter = 1
    while path.exists():
        path = log_dir / f"{stamp}-{counter}.log"
        counter += 1
    return path
