"""The exit codes of a scheduled run, their meaning and which one wins."""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """What a scheduled run tells cron or CI (see :mod:`livingmeta.schedule`)."""

    OK = 0
    ERROR = 1
    CHANGES = 10
    STALE = 20
    INVALID = 30
    LOCKED = 40

    @property
    def meaning(self) -> str:
        """The code in words (logs, notifications, ``--help``)."""
        return EXIT_MEANINGS[self]


EXIT_OK = ExitCode.OK
EXIT_ERROR = ExitCode.ERROR
EXIT_CHANGES = ExitCode.CHANGES
EXIT_STALE = ExitCode.STALE
EXIT_INVALID = ExitCode.INVALID
EXIT_LOCKED = ExitCode.LOCKED

#: What each exit code means (used in logs, notifications and ``--help``).
EXIT_MEANINGS: dict[int, str] = {
    EXIT_OK: "nothing new",
    EXIT_CHANGES: "changes for reviewers",
    EXIT_STALE: "a source failed or is stale",
    EXIT_INVALID: "invalid review data or config",
    EXIT_LOCKED: "another run is in progress",
    EXIT_ERROR: "unexpected error",
}

#: Most urgent first (see :mod:`livingmeta.schedule` for why).
PRECEDENCE: tuple[ExitCode, ...] = (EXIT_ERROR, EXIT_INVALID, EXIT_STALE, EXIT_CHANGES, EXIT_OK)
