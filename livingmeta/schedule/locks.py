"""One scheduled run at a time."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from livingmeta.files import lock_file
from livingmeta.schedule.run_log import utc_stamp


class LockedError(RuntimeError):
    """Another scheduled run holds the lock."""


@contextmanager
def exclusive_lock(path: str | os.PathLike[str]) -> Iterator[None]:
    """Hold an exclusive, non-blocking ``flock`` on ``path`` for the duration.

    Why ``flock`` and not a PID file: the kernel releases it when the process dies, so a
    crashed or killed run never leaves a stale lock behind.

    Raises
    ------
    LockedError
        At once, with the holder's PID and start time, when another run holds it.
    """
    try:
        with lock_file(path, wait=False) as handle:
            handle.seek(0)
            handle.truncate()
            handle.write(f"pid {os.getpid()}, started {utc_stamp(pretty=True)}\n")
            handle.flush()
            yield
    except BlockingIOError:
        holder = Path(path).read_text(encoding="utf-8").strip() or "unknown process"
        raise LockedError(f"another scheduled run holds {path} ({holder})") from None
