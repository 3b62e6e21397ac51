"""What Snakemake's console output says about a run: which jobs failed, and why."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from livingmeta.validation import EXIT_INVALID_INPUT, INVALID_INPUT_LOGGED


@dataclass(frozen=True)
class FailedJob:
    """A job Snakemake reported as failed (``Error in rule ...``); ``invalid_input``: what
    its own log says (None when it has none), see :func:`with_job_logs`."""

    rule: str
    log: str | None = None
    exit_status: int | None = None
    invalid_input: bool | None = None

    @property
    def review(self) -> str | None:
        """The review a job's log belongs to (``logs/<rule>/<review>[/<outcome>].log``)."""
        if not self.log:
            return None
        parts = Path(self.log).parts
        if len(parts) >= 3 and parts[0] == "logs":
            return Path(parts[2]).stem if len(parts) == 3 else parts[2]
        return None


_ERROR_IN_RULE = re.compile(r"^Error in rule ([\w-]+):\s*$")  # per-review rules: <rule>_<id>
_LOG_LINE = re.compile(r"^\s+log: (\S+)")
_EXIT_STATUS = re.compile(r"non-zero exit status (\d+)")
#: How Snakemake reports invalid input raised in its own process (a rule's ``run:``
#: block): the exception's name and where the block is, then the report.
_INVALID_INPUT_RAISED = re.compile(r"^(?:InputError|ConfigError) in file ")
#: The line of a job's log that reports invalid input (``<time> ERROR <logger>: ...``).
_INVALID_INPUT_LOGGED = re.compile(rf" ERROR [\w.-]+: {re.escape(INVALID_INPUT_LOGGED)}")


def parse_failed_jobs(output: str) -> list[FailedJob]:
    """Failed jobs from Snakemake's console output (its ``Error in rule`` blocks).

    Why parse text: Snakemake 9 offers no machine-readable list of failed jobs without a
    logger plugin, and these blocks have been stable for years. The exit status comes
    from the ``CalledProcessError`` line printed just before each block. A step run in
    Snakemake's own process has none: invalid input it raised counts as
    :data:`~livingmeta.validation.EXIT_INVALID_INPUT`.
    """
    jobs: list[FailedJob] = []
    status: int | None = None
    lines = output.splitlines()
    for index, line in enumerate(lines):
        if found := _EXIT_STATUS.search(line):
            status = int(found[1])
            continue
        if _INVALID_INPUT_RAISED.match(line):
            status = EXIT_INVALID_INPUT
            continue
        match = _ERROR_IN_RULE.match(line)
        if not match:
            continue
        log = None
        for following in lines[index + 1 : index + 12]:
            if not following.startswith((" ", "\t")):
                break
            if log_match := _LOG_LINE.match(following):
                log = log_match[1]
                break
        jobs.append(FailedJob(match[1], log, status))
        status = None
    return jobs


def with_job_logs(jobs: Sequence[FailedJob], workdir: Path) -> list[FailedJob]:
    """The jobs with whether their own logs (under ``workdir``) report invalid input.

    Why: a log is written by its job alone, while in Snakemake's console output the
    reports of jobs that fail side by side can come before their ``Error in rule``
    blocks in either order, so the status read there may belong to another job."""
    return [replace(job, invalid_input=_logs_invalid_input(workdir, job.log)) for job in jobs]


def _logs_invalid_input(workdir: Path, log: str | None) -> bool | None:
    if not log:
        return None
    try:
        text = (workdir / log).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    return _INVALID_INPUT_LOGGED.search(text) is not None


def is_invalid_data(job: FailedJob) -> bool:
    """Validation failures: rule ``validate_outcome``, a job whose log reports invalid
    input, or (without a log) exit status 2, the code every rule uses for invalid input
    (:data:`~livingmeta.validation.EXIT_INVALID_INPUT`)."""
    if job.rule == "validate_outcome":
        return True
    if job.invalid_input is not None:
        return job.invalid_input
    return job.exit_status == EXIT_INVALID_INPUT
