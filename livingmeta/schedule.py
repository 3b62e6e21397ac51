"""Scheduled runs: one entry point for cron and GitHub Actions that runs the workflow and
says, with its exit code, whether anybody needs to look.

A living review is only alive if somebody notices when it changes. Cron and CI only read
an exit code, so a run ends with one of these **documented, distinct codes**:

====  ==========================================================================
code  meaning
====  ==========================================================================
0     nothing new: every review is up to date and every source answered
10    changes for reviewers: new candidates, retraction notices, trial status
      changes, changed pooled estimates, newly included studies, conflicts
20    a source failed or is stale: some searches did not run; results may miss
      new records (``retrieval.strict`` / ``--strict`` also fails the search job)
30    invalid review data or config: a ``validate_outcome`` job (or
      ``livingmeta validate``) reported problems; that review's results were
      not updated
40    another scheduled run holds the lock: this run did nothing
1     unexpected error: a job crashed or Snakemake itself failed
====  ==========================================================================

**Precedence** when several apply: ``40 > 1 > 30 > 20 > 10 > 0``. The code names the
*most urgent thing to fix*: a crash or invalid data means the results are not current at
all, a stale source means they may be incomplete, and only then do new records matter.
Nothing is lost by this: the run's summary (``logs/scheduled/<timestamp>.json``, the
notification and, under GitHub Actions, the step outputs ``has_changes`` and ``scope``)
always lists *every* finding, so a pull request for new candidates is still opened when
another review of the portfolio has invalid data.

Where the findings come from, per review: ``results/<id>/report/changes.json`` (the run
report) when it was written by this run, otherwise ``results/<id>/retrieval/report.json``
(the retrieval report: new candidates, changed watched records, failed and stale
searches). Files older than the start of the run are ignored, so a second run on the same
day does not announce the same candidates again.

Secrets (the NCBI API key, the webhook URL, the SMTP password) are never written to the
log, the console, notifications or pull request bodies: every line goes through
:class:`Redactor`, and notification settings are removed from the environment Snakemake
runs in.
"""

from __future__ import annotations

import fcntl
import html
import json
import os
import re
import shlex
import smtplib
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path
from typing import Any, TextIO
from urllib.parse import urlsplit

from livingmeta.report.run_report import CHANGE_KINDS, PROBLEM_KINDS

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_CHANGES = 10
EXIT_STALE = 20
EXIT_INVALID = 30
EXIT_LOCKED = 40

#: What each exit code means (used in logs, notifications and ``--help``).
EXIT_MEANINGS: dict[int, str] = {
    EXIT_OK: "nothing new",
    EXIT_CHANGES: "changes for reviewers",
    EXIT_STALE: "a source failed or is stale",
    EXIT_INVALID: "invalid review data or config",
    EXIT_LOCKED: "another scheduled run holds the lock",
    EXIT_ERROR: "unexpected error",
}

#: Most urgent first (see the module docstring for why).
PRECEDENCE: tuple[int, ...] = (EXIT_ERROR, EXIT_INVALID, EXIT_STALE, EXIT_CHANGES, EXIT_OK)


#: Human-readable labels of the findings, for summaries and pull request bodies.
KIND_LABELS: dict[str, str] = {
    "new_candidates": "New candidates",
    "retractions": "Retraction notices",
    "trial_changes": "Trial changes",
    "estimate_changes": "Estimate changes",
    "newly_included": "Newly included",
    "conflicts": "Conflicts",
    "other_changes": "Other changes",
    "stale_sources": "Stale sources",
    "failed_sources": "Failed sources",
    "invalid_data": "Invalid data",
}

# report.json change kinds (livingmeta.retrieval.update.WATCHED_FIELDS / TRIAL_FIELDS).
_PUBLICATION_NOTICES = frozenset({"retracted", "retraction_notices", "errata", "concerns"})
_TRIAL_FIELDS = frozenset({"overall_status", "has_results", "results_first_posted"})

#: Environment variables whose values are secrets (plus the NCBI key named in config).
SECRET_ENV: tuple[str, ...] = (
    "NCBI_API_KEY",
    "LIVINGMETA_WEBHOOK_URL",
    "LIVINGMETA_SMTP_PASSWORD",
)
#: Notification settings Snakemake's jobs never need (removed from their environment).
NOTIFY_ENV: tuple[str, ...] = (
    "LIVINGMETA_WEBHOOK_URL",
    "LIVINGMETA_SMTP_HOST",
    "LIVINGMETA_SMTP_PORT",
    "LIVINGMETA_SMTP_USER",
    "LIVINGMETA_SMTP_PASSWORD",
    "LIVINGMETA_SMTP_SECURITY",
    "LIVINGMETA_MAIL_FROM",
    "LIVINGMETA_MAIL_TO",
)

#: GitHub refuses pull request bodies above 65,536 characters.
PR_BODY_LIMIT = 60_000

CRONTAB_LINE = (
    '0 6 * * 1  cd /path/to/livingmeta && . "$HOME/.config/livingmeta.env" && '
    ".venv/bin/python scripts/scheduled_run.py --quiet"
)


# -- secrets ------------------------------------------------------------------------------


class Redactor:
    """Replace secret values in any text before it is logged, printed or sent.

    Why both values and patterns: the values catch a secret wherever it appears (an error
    message quoting a URL, a traceback), the pattern catches NCBI keys passed in a query
    string that this process never saw (e.g. typed into a config by mistake).

    Parameters
    ----------
    secrets
        Secret values; values shorter than 4 characters are ignored (replacing every
        ``a`` in a log would hide everything and protect nothing).
    """

    _PATTERNS = (
        re.compile(r"(?i)(api[_-]?key=)[^&\s\"']+"),
        re.compile(r"(?i)(password=)[^&\s\"']+"),
        re.compile(r"(?i)(token=)[^&\s\"']+"),
    )

    def __init__(self, secrets: Sequence[str] = ()) -> None:
        values: set[str] = set()
        for secret in secrets:
            if not secret or len(secret) < 4:
                continue
            values.add(secret)
            parts = urlsplit(secret)
            if parts.scheme in ("http", "https"):
                # A webhook's secret is its path or query: hide them also on their own.
                values.update(p for p in (parts.path.strip("/"), parts.query) if len(p) >= 8)
        self._values = sorted(values, key=len, reverse=True)

    @classmethod
    def from_env(cls, environ: Mapping[str, str], extra_names: Sequence[str] = ()) -> Redactor:
        """Secrets from the environment variables in :data:`SECRET_ENV` and ``extra_names``."""
        names = dict.fromkeys((*SECRET_ENV, *extra_names))
        return cls([environ[name] for name in names if environ.get(name)])

    def __call__(self, text: str) -> str:
        for value in self._values:
            text = text.replace(value, "***")
        for pattern in self._PATTERNS:
            text = pattern.sub(r"\1***", text)
        return text


def safe_url(url: str) -> str:
    """``scheme://host/...``: enough to say where a notification went, without its token."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.hostname or '?'}/..."


# -- findings per review ------------------------------------------------------------------


@dataclass
class ReviewChanges:
    """What one review's run found, normalised from ``changes.json`` or ``report.json``.

    ``counts`` has every kind of :data:`CHANGE_KINDS` and :data:`PROBLEM_KINDS`; ``items``
    keeps the listed records (or messages) where the source file gave them.
    """

    review: str
    source: str
    run_id: str | None = None
    counts: dict[str, int] = field(default_factory=dict)
    items: dict[str, list[Any]] = field(default_factory=dict)
    has_changes: bool = False

    def __post_init__(self) -> None:
        for kind in (*CHANGE_KINDS, *PROBLEM_KINDS):
            self.counts.setdefault(kind, len(self.items.get(kind, [])))
            self.items.setdefault(kind, [])

    @property
    def has_problems(self) -> bool:
        return any(self.counts[kind] for kind in PROBLEM_KINDS)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _count_and_items(value: Any) -> tuple[int, list[Any]]:
    """A field of ``changes.json`` may be a count, a list or a mapping: accept all three."""
    if value is None or value is False:
        return 0, []
    if value is True:
        return 1, []
    if isinstance(value, int | float):
        return int(value), []
    if isinstance(value, Mapping):
        return len(value), [{"name": k, "value": v} for k, v in value.items()]
    if isinstance(value, list | tuple):
        return len(value), list(value)
    return 1, [value]


def from_changes_json(data: Mapping[str, Any]) -> ReviewChanges:
    """Normalise a run report (``results/<id>/report/changes.json``).

    ``has_changes`` is taken from the file when it says so (the run report knows best what
    reviewers must see); otherwise it is true when any kind of :data:`CHANGE_KINDS` is
    non-empty.
    """
    counts: dict[str, int] = {}
    items: dict[str, list[Any]] = {}
    for kind in (*CHANGE_KINDS, *PROBLEM_KINDS):
        counts[kind], items[kind] = _count_and_items(data.get(kind))
    computed = any(counts[kind] for kind in CHANGE_KINDS)
    has_changes = bool(data["has_changes"]) if "has_changes" in data else computed
    return ReviewChanges(
        review=str(data.get("review", "?")),
        source="changes.json",
        run_id=data.get("run_id"),
        counts=counts,
        items=items,
        has_changes=has_changes,
    )


def from_retrieval_report(data: Mapping[str, Any]) -> ReviewChanges:
    """Normalise a retrieval report (``results/<id>/retrieval/report.json``), the fallback
    until the run report exists: new candidates, changes to watched records (retractions,
    errata, concerns, trial status and results), failed searches and stale sources."""
    items: dict[str, list[Any]] = {kind: [] for kind in (*CHANGE_KINDS, *PROBLEM_KINDS)}
    for change in data.get("changes") or []:
        kind = change.get("kind")
        if kind in _PUBLICATION_NOTICES:
            items["retractions"].append(change)
        elif kind in _TRIAL_FIELDS:
            items["trial_changes"].append(change)
        elif kind == "watch_list_failed":
            items["failed_sources"].append({"search_id": "watch_list", **change})
        else:
            items["other_changes"].append(change)
    for search in data.get("searches") or []:
        if search.get("status") == "failed":
            items["failed_sources"].append(
                {k: search.get(k) for k in ("search_id", "source", "error")}
            )
    items["stale_sources"] = list(data.get("stale") or [])
    new, new_items = _count_and_items(data.get("new_candidates"))
    counts = {kind: len(values) for kind, values in items.items()}
    counts["new_candidates"] = new
    items["new_candidates"] = new_items
    return ReviewChanges(
        review=str(data.get("review", "?")),
        source="report.json",
        run_id=data.get("run_id"),
        counts=counts,
        items=items,
        has_changes=any(counts[kind] for kind in CHANGE_KINDS),
    )


def read_review_changes(
    workdir: str | os.PathLike[str], review_id: str, since: float | None = None
) -> ReviewChanges | None:
    """The findings of one review: its ``changes.json`` if present (and written at or
    after ``since``, a POSIX time), else its ``report.json`` under the same condition,
    else None (this run produced nothing new for it)."""
    results = Path(workdir) / "results" / review_id
    candidates: tuple[tuple[Path, Callable[[Mapping[str, Any]], ReviewChanges]], ...] = (
        (results / "report" / "changes.json", from_changes_json),
        (results / "retrieval" / "report.json", from_retrieval_report),
    )
    for path, parse in candidates:
        if not path.is_file() or (since is not None and path.stat().st_mtime < since):
            continue
        changes = parse(json.loads(path.read_text(encoding="utf-8")))
        changes.review = review_id
        return changes
    return None


# -- Snakemake outcome --------------------------------------------------------------------


@dataclass(frozen=True)
class FailedJob:
    """A job Snakemake reported as failed (``Error in rule ...``)."""

    rule: str
    log: str | None = None
    exit_status: int | None = None

    @property
    def review(self) -> str | None:
        """The review a job's log belongs to (``logs/<rule>/<review>[/<outcome>].log``)."""
        if not self.log:
            return None
        parts = Path(self.log).parts
        if len(parts) >= 3 and parts[0] == "logs":
            return Path(parts[2]).stem if len(parts) == 3 else parts[2]
        return None


_ERROR_IN_RULE = re.compile(r"^Error in rule (\w+):\s*$")
_LOG_LINE = re.compile(r"^\s+log: (\S+)")
_EXIT_STATUS = re.compile(r"non-zero exit status (\d+)")


def parse_failed_jobs(output: str) -> list[FailedJob]:
    """Failed jobs from Snakemake's console output (its ``Error in rule`` blocks).

    Why parse text: Snakemake 9 offers no machine-readable list of failed jobs without a
    logger plugin, and these blocks have been stable for years. The exit status comes
    from the ``CalledProcessError`` line printed just before each block.
    """
    jobs: list[FailedJob] = []
    status: int | None = None
    lines = output.splitlines()
    for index, line in enumerate(lines):
        if found := _EXIT_STATUS.search(line):
            status = int(found[1])
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


def is_invalid_data(job: FailedJob) -> bool:
    """Validation failures: rule ``validate_outcome``, or exit status 2, the code every
    rule uses for invalid input (``livingmeta.rulelog.EXIT_INVALID_INPUT``)."""
    return job.rule == "validate_outcome" or job.exit_status == 2


# -- the decision -------------------------------------------------------------------------


@dataclass
class Decision:
    """The exit code of a run and every reason behind it (most urgent code wins)."""

    code: int
    reasons: list[str]
    reviews: list[ReviewChanges] = field(default_factory=list)
    failed_jobs: list[FailedJob] = field(default_factory=list)

    @property
    def meaning(self) -> str:
        return EXIT_MEANINGS[self.code]

    @property
    def has_changes(self) -> bool:
        return any(r.has_changes for r in self.reviews)

    @property
    def changed_reviews(self) -> list[str]:
        return [r.review for r in self.reviews if r.has_changes]

    def to_dict(self) -> dict[str, Any]:
        return {
            "exit_code": self.code,
            "meaning": self.meaning,
            "has_changes": self.has_changes,
            "reasons": self.reasons,
            "reviews": [r.to_dict() for r in self.reviews],
            "failed_jobs": [asdict(j) | {"review": j.review} for j in self.failed_jobs],
        }


def decide(
    reviews: Sequence[ReviewChanges],
    *,
    snakemake_returncode: int = 0,
    failed_jobs: Sequence[FailedJob] = (),
    invalid: Sequence[str] = (),
    strict: bool = False,
) -> Decision:
    """The exit code of a run from what it found (see the module docstring).

    Parameters
    ----------
    reviews
        Findings per review (:func:`read_review_changes`).
    snakemake_returncode
        Snakemake's exit status: non-zero with no failed job explained below is an
        unexpected error (e.g. a crash before any job ran).
    failed_jobs
        Jobs Snakemake reported as failed (:func:`parse_failed_jobs`). Validation failures
        give 30; a failed ``search_review`` in a ``strict`` run gives 20 (the source
        failure it was asked to make loud); anything else gives 1.
    invalid
        Validation problems found before Snakemake ran (invalid config,
        ``livingmeta validate``): each gives 30.
    strict
        Whether the run was strict (``retrieval.strict``).

    Returns
    -------
    Decision
        The most urgent code by :data:`PRECEDENCE` and the reasons for every code found.
    """
    found: dict[int, list[str]] = {}

    def add(code: int, reason: str) -> None:
        found.setdefault(code, []).append(reason)

    for message in invalid:
        add(EXIT_INVALID, message)
    for review in reviews:
        if review.has_changes:
            parts = [
                f"{review.counts[kind]} {KIND_LABELS[kind].lower()}"
                for kind in CHANGE_KINDS
                if review.counts[kind]
            ]
            add(EXIT_CHANGES, f"{review.review}: " + (", ".join(parts) or "changes"))
        for kind in ("failed_sources", "stale_sources"):
            if review.counts[kind]:
                add(EXIT_STALE, f"{review.review}: {review.counts[kind]} {kind.replace('_', ' ')}")
        if review.counts["invalid_data"]:
            add(EXIT_INVALID, f"{review.review}: invalid data")
    for job in failed_jobs:
        where = f"{job.rule} ({job.log})" if job.log else job.rule
        if is_invalid_data(job):
            add(EXIT_INVALID, f"invalid data: {where}")
        elif job.rule == "search_review" and strict:
            add(EXIT_STALE, f"strict retrieval failed: {where}")
        else:
            add(EXIT_ERROR, f"job failed: {where}")
    if snakemake_returncode != 0 and not failed_jobs and EXIT_INVALID not in found:
        add(EXIT_ERROR, f"snakemake exited with status {snakemake_returncode}")
    code = next(c for c in PRECEDENCE if c in found or c == EXIT_OK)
    reasons = [r for c in PRECEDENCE for r in found.get(c, [])]
    return Decision(code, reasons, list(reviews), list(failed_jobs))


def update_scope(review_ids: Sequence[str]) -> str:
    """The name in the update branch ``living-update/<scope>``: the review's id when the
    config holds one review, ``all`` otherwise. Fixed per config (not per run) so that
    successive runs update ONE pull request instead of opening new ones."""
    return review_ids[0] if len(review_ids) == 1 else "all"


# -- text for humans ----------------------------------------------------------------------

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|~>])")


def md_escape(value: Any, limit: int = 300) -> str:
    """Make untrusted text (titles, errors from sources) inert in GitHub Markdown.

    HTML is escaped (``<script>``, ``<img onerror>`` and comments cannot open), Markdown
    punctuation is backslash-escaped (no links, images, tables or headings can be forged),
    ``@`` becomes an entity (no user or team is pinged), line breaks become spaces (one
    item stays one line), and long text is cut to ``limit`` characters.
    """
    text = " ".join(str(value).split())
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    text = html.escape(text, quote=False)
    text = _MD_SPECIAL.sub(r"\\\1", text)
    return text.replace("@", "&#64;")


def code_span(value: Any, limit: int = 200) -> str:
    """Untrusted text as inline code: nothing inside a code span is interpreted (neither
    Markdown nor HTML), so only backticks and line breaks need removing."""
    text = " ".join(str(value).replace("`", "'").split())[:limit]
    return f"`{text}`"


_ITEM_KEYS = ("record_id", "search_id", "study_id", "outcome", "title", "kind", "source")


def describe_item(item: Any) -> str:
    """One finding as one escaped line (a record, a source, a changed estimate...)."""
    if not isinstance(item, Mapping):
        return md_escape(item)
    head = [md_escape(item[k]) for k in _ITEM_KEYS if item.get(k) not in (None, "")]
    rest = [
        f"{md_escape(k, 40)}: {md_escape(v, 120)}"
        for k, v in item.items()
        if k not in _ITEM_KEYS and v not in (None, "", [], {})
    ]
    return " — ".join(filter(None, [" ".join(head), "; ".join(rest)])) or "(no details)"


def summary_text(decision: Decision, *, run_id: str | None = None) -> str:
    """A short plain-text summary (console, e-mail, webhook ``text``)."""
    head = f"livingmeta scheduled run{f' {run_id}' if run_id else ''}: "
    lines = [head + f"{decision.meaning} (exit code {decision.code})"]
    lines += [f"- {reason}" for reason in decision.reasons]
    return "\n".join(lines)


def pr_body(
    reviews: Sequence[ReviewChanges],
    *,
    run_id: str | None = None,
    exit_code: int | None = None,
    max_items: int = 50,
) -> str:
    """The body of the update pull request, built from the run's findings.

    Every value that came from outside (record titles, source errors, review ids) goes
    through :func:`md_escape`. The table gives the counts at a glance; the lists below
    give the records, cut at ``max_items`` per kind so that a large first run still fits
    GitHub's size limit.
    """
    lines = ["## Living update", ""]
    meta = []
    if run_id:
        meta.append(f"run {code_span(run_id, 40)}")
    if exit_code is not None:
        meta.append(f"exit code {exit_code} ({EXIT_MEANINGS.get(exit_code, 'unknown')})")
    if meta:
        lines += ["Scheduled " + ", ".join(meta) + ".", ""]
    kinds = [k for k in (*CHANGE_KINDS, *PROBLEM_KINDS) if any(r.counts[k] for r in reviews)]
    if not reviews or not kinds:
        lines += ["Nothing new for reviewers in this run.", ""]
    else:
        lines += [
            "| Review | " + " | ".join(KIND_LABELS[k] for k in kinds) + " |",
            "|---|" + "---:|" * len(kinds),
        ]
        for review in reviews:
            counts = " | ".join(str(int(review.counts[k])) for k in kinds)
            lines.append(f"| {md_escape(review.review, 80)} | {counts} |")
        lines.append("")
    for review in reviews:
        if not any(review.counts[k] for k in kinds):
            continue
        lines += [f"### {md_escape(review.review, 80)}", ""]
        if review.counts["new_candidates"]:
            path = code_span(f"results/{review.review}/retrieval/candidates.csv")
            lines.append(
                f"- [ ] Screen {review.counts['new_candidates']} new candidate(s) in {path}"
            )
        for kind in kinds:
            shown = review.items[kind][:max_items]
            if not shown:
                continue
            lines += ["", f"**{KIND_LABELS[kind]}**", ""]
            lines += [f"- {describe_item(item)}" for item in shown]
            if len(review.items[kind]) > max_items:
                lines.append(f"- … and {len(review.items[kind]) - max_items} more")
        lines += ["", f"Source: {code_span(review.source)}", ""]
    lines += [
        "---",
        "Opened by `scripts/scheduled_run.py`. Merging commits the updated retrieval state;",
        "approved data (`extraction.csv`) changes only through reviewers' own commits.",
    ]
    body = "\n".join(lines) + "\n"
    if len(body) > PR_BODY_LIMIT:
        body = body[:PR_BODY_LIMIT] + "\n\n… (cut: see the run's log for the full list)\n"
    return body


# -- lock, log, notifications -------------------------------------------------------------


class LockedError(RuntimeError):
    """Another scheduled run holds the lock."""


@contextmanager
def exclusive_lock(path: str | os.PathLike[str]) -> Iterator[None]:
    """Hold an exclusive, non-blocking ``flock`` on ``path`` for the duration.

    Why ``flock`` and not a PID file: the kernel releases it when the process dies, so a
    crashed or killed run never leaves a stale lock behind. The file is never deleted
    (deleting a lock file lets two runs lock two different files).

    Raises
    ------
    LockedError
        At once, with the holder's PID and start time, when another run holds it.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle = open(path, "a+", encoding="utf-8")  # noqa: SIM115 (held until the end)
    try:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "unknown process"
            raise LockedError(f"another scheduled run holds {path} ({holder})") from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()}, started {utc_stamp(pretty=True)}\n")
        handle.flush()
        yield
    finally:
        with suppress(OSError):
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
        handle.close()


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


def send_webhook(url: str, payload: Mapping[str, Any], *, timeout: float = 15.0) -> int:
    """POST ``payload`` as JSON to ``url``; returns the HTTP status.

    The payload has a ``text`` field, which Slack, Mattermost and Teams incoming webhooks
    show as the message. Raises ``urllib.error.URLError``/``OSError`` on failure.
    """
    data = json.dumps(payload).encode("utf-8")
    request = urllib.request.Request(
        url,
        data=data,
        method="POST",
        headers={"Content-Type": "application/json", "User-Agent": "livingmeta-scheduled-run"},
    )
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return int(response.status)


def send_mail(
    environ: Mapping[str, str], subject: str, body: str, *, timeout: float = 30.0
) -> None:
    """Send ``body`` by SMTP as configured in the environment.

    ``LIVINGMETA_SMTP_HOST``, ``LIVINGMETA_MAIL_TO`` (comma-separated) are required;
    ``LIVINGMETA_SMTP_PORT`` (default 587, or 465 with ``ssl``, 25 with ``none``),
    ``LIVINGMETA_SMTP_SECURITY`` (``starttls`` default, ``ssl`` or ``none``),
    ``LIVINGMETA_SMTP_USER`` and ``LIVINGMETA_SMTP_PASSWORD`` (login when both are set),
    ``LIVINGMETA_MAIL_FROM`` (default ``livingmeta@<hostname>``) are optional.
    """
    security = environ.get("LIVINGMETA_SMTP_SECURITY", "starttls").lower()
    if security not in ("starttls", "ssl", "none"):
        raise ValueError("LIVINGMETA_SMTP_SECURITY must be one of starttls, ssl, none")
    default_port = {"starttls": 587, "ssl": 465, "none": 25}[security]
    host = environ["LIVINGMETA_SMTP_HOST"]
    port = int(environ.get("LIVINGMETA_SMTP_PORT") or default_port)
    recipients = [a.strip() for a in environ["LIVINGMETA_MAIL_TO"].split(",") if a.strip()]
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = environ.get("LIVINGMETA_MAIL_FROM") or f"livingmeta@{socket.getfqdn()}"
    message["To"] = ", ".join(recipients)
    message.set_content(body)
    smtp_class = smtplib.SMTP_SSL if security == "ssl" else smtplib.SMTP
    with smtp_class(host, port, timeout=timeout) as smtp:
        if security == "starttls":
            smtp.starttls()
        user, password = (
            environ.get("LIVINGMETA_SMTP_USER"),
            environ.get("LIVINGMETA_SMTP_PASSWORD"),
        )
        if user and password:
            smtp.login(user, password)
        smtp.send_message(message, to_addrs=recipients)


def notify(
    decision: Decision,
    environ: Mapping[str, str],
    *,
    redact: Redactor,
    run_id: str,
    log: Callable[[str], None],
) -> list[str]:
    """Tell people about a run that needs attention (any code but 0 and 40).

    A failing notification is logged, never raised: it must not hide the run's own exit
    code. Returns the channels that succeeded (``webhook``, ``email``).
    """
    if decision.code in (EXIT_OK, EXIT_LOCKED):
        return []
    text = redact(summary_text(decision, run_id=run_id))
    sent: list[str] = []
    url = environ.get("LIVINGMETA_WEBHOOK_URL")
    if url:
        payload = {
            "text": text,
            "exit_code": decision.code,
            "meaning": decision.meaning,
            "run_id": run_id,
            "has_changes": decision.has_changes,
            "reviews": [
                {"review": r.review, "counts": {k: v for k, v in r.counts.items() if v}}
                for r in decision.reviews
            ],
        }
        payload = json.loads(redact(json.dumps(payload)))
        try:
            status = send_webhook(url, payload)
            log(f"notification: webhook {safe_url(url)} answered HTTP {status}")
            sent.append("webhook")
        except (OSError, ValueError) as exc:
            log(redact(f"notification: webhook {safe_url(url)} failed: {exc}"))
    if environ.get("LIVINGMETA_SMTP_HOST") and environ.get("LIVINGMETA_MAIL_TO"):
        subject = f"[livingmeta] {decision.meaning} (exit code {decision.code})"
        try:
            send_mail(environ, subject, text)
            log(f"notification: e-mail sent to {environ['LIVINGMETA_MAIL_TO']}")
            sent.append("email")
        except (OSError, ValueError, smtplib.SMTPException) as exc:
            log(redact(f"notification: e-mail failed: {exc}"))
    return sent


# -- the run ------------------------------------------------------------------------------


@dataclass
class RunOptions:
    """Options of one scheduled run (the CLI's arguments, see ``scripts/scheduled_run.py``)."""

    workdir: Path
    cores: int = 4
    profile: str | None = "workflow/profiles/default"
    configfile: str = "config/config.yaml"
    strict: bool = False
    snakemake: Sequence[str] = (sys.executable, "-m", "snakemake")
    extra_args: Sequence[str] = ()
    log_dir: str = "logs/scheduled"
    lock_file: str = "logs/scheduled/scheduled_run.lock"
    notify: bool = True
    quiet: bool = False
    validate: bool = True


def snakemake_command(options: RunOptions, overlay: Path | None = None) -> list[str]:
    """The Snakemake command line of a run (``--keep-going`` always: one review's bad data
    must not keep the rest of the portfolio from updating)."""
    command = [*options.snakemake, "--cores", str(options.cores)]
    if options.profile:
        command += ["--profile", options.profile]
    command.append("--keep-going")
    if overlay is not None or options.configfile != RunOptions.configfile:
        # --config cannot set a nested boolean (values are parsed as strings), so strict
        # runs add a second config file that Snakemake merges over the first.
        command += ["--configfiles", options.configfile]
        if overlay is not None:
            command.append(str(overlay))
    return command + list(options.extra_args)


def _child_env(environ: Mapping[str, str]) -> dict[str, str]:
    return {k: v for k, v in environ.items() if k not in NOTIFY_ENV}


def _livingmeta_validate(
    options: RunOptions, environ: Mapping[str, str], emit: Callable[[str], None]
) -> list[str]:
    """Run ``livingmeta validate --config FILE`` when this version of the CLI has it.

    Returns the problems (empty when valid or when the command does not exist: Snakemake's
    ``validate_outcome`` jobs still catch invalid data, with the same exit code).
    """
    exe = Path(sys.executable).with_name("livingmeta")
    if not exe.exists():
        return []
    env = _child_env(environ)
    probe = subprocess.run(
        [str(exe), "validate", "--help"],
        cwd=options.workdir, capture_output=True, text=True, env=env, check=False,
    )  # fmt: skip
    if probe.returncode != 0:
        emit("livingmeta validate is not available; relying on the workflow's validation")
        return []
    proc = subprocess.run(
        [str(exe), "validate", "--config", options.configfile],
        cwd=options.workdir, capture_output=True, text=True, env=env, check=False,
    )  # fmt: skip
    for line in (proc.stdout + proc.stderr).splitlines():
        emit(f"validate: {line}")
    if proc.returncode == 2:
        return [f"livingmeta validate: invalid config or review data ({options.configfile})"]
    if proc.returncode != 0:
        emit(f"livingmeta validate exited with {proc.returncode}; continuing")
    return []


def run_scheduled(
    options: RunOptions,
    environ: Mapping[str, str] | None = None,
    *,
    stdout: TextIO | None = None,
) -> int:
    """One scheduled run: lock, log, Snakemake, decision, notification. Returns the exit
    code (see the module docstring); never raises for expected failures."""
    environ = dict(os.environ if environ is None else environ)
    stdout = stdout or sys.stdout
    workdir = options.workdir.resolve()
    lock_path = workdir / options.lock_file
    try:
        with exclusive_lock(lock_path):
            return _run_locked(options, workdir, environ, stdout)
    except LockedError as exc:
        print(f"scheduled_run: {exc}; exiting with code {EXIT_LOCKED}", file=sys.stderr)
        return EXIT_LOCKED


def _run_locked(options: RunOptions, workdir: Path, environ: dict[str, str], stdout: TextIO) -> int:
    import livingmeta.config as lm_config

    started = datetime.now(UTC)
    stamp = utc_stamp(started)
    log_path = new_log_path(workdir / options.log_dir, stamp)
    extra_secret_names: list[str] = []
    review_ids: list[str] = []
    with open(log_path, "w", encoding="utf-8") as log_file:
        redact = Redactor.from_env(environ)

        def emit(line: str, *, always: bool = False) -> None:
            clean = redact(line.rstrip("\n"))
            log_file.write(clean + "\n")
            log_file.flush()
            if always or not options.quiet:
                print(clean, file=stdout, flush=True)

        try:
            emit(f"scheduled run {stamp} in {workdir}")
            invalid: list[str] = []
            try:
                config = lm_config.load_config(workdir / options.configfile)
                review_ids = list(lm_config.reviews(config))
                key_env = (config.get("retrieval") or {}).get("api_key_env")
                if key_env and key_env not in SECRET_ENV:
                    extra_secret_names.append(key_env)
                    redact = Redactor.from_env(environ, extra_secret_names)
            except lm_config.ConfigError as exc:
                invalid.append(str(exc))
                for line in str(exc).splitlines():
                    emit(line)
            if not invalid and options.validate:
                invalid += _livingmeta_validate(options, environ, emit)

            returncode, output, failed = 0, "", []
            since = time.time() - 1.0  # mtime granularity of some file systems
            if review_ids:
                overlay = None
                if options.strict:
                    overlay = workdir / options.log_dir / f"{log_path.stem}.strict.yaml"
                    overlay.write_text("retrieval:\n  strict: true\n", encoding="utf-8")
                command = snakemake_command(options, overlay)
                emit("$ " + shlex.join(command))
                returncode, output = _run_streaming(command, workdir, _child_env(environ), emit)
                failed = parse_failed_jobs(output)
                emit(f"snakemake exited with status {returncode}")
                for job in failed:
                    if is_invalid_data(job) and job.log:
                        _echo_job_log(workdir / job.log, emit)

            reviews = [
                changes
                for review_id in review_ids
                if (changes := read_review_changes(workdir, review_id, since)) is not None
            ]
            decision = decide(
                reviews,
                snakemake_returncode=returncode,
                failed_jobs=failed,
                invalid=invalid,
                strict=options.strict,
            )
        except Exception as exc:  # the run must end with a code, and the log must say why
            emit(f"unexpected error: {type(exc).__name__}: {exc}")
            decision = Decision(EXIT_ERROR, [f"{type(exc).__name__}: {exc}"])

        # --quiet (cron mails any output): silent when nothing is new, summary otherwise.
        loud = decision.code != EXIT_OK
        for line in summary_text(decision, run_id=stamp).splitlines():
            emit(line, always=loud)
        summary = decision.to_dict() | {
            "run_id": stamp,
            "log": str(log_path.relative_to(workdir)),
            "scope": update_scope(review_ids) if review_ids else "all",
            "started_at": utc_stamp(started, pretty=True),
            "finished_at": utc_stamp(pretty=True),
        }
        summary_path = log_path.with_suffix(".json")
        summary_path.write_text(redact(json.dumps(summary, indent=2)) + "\n", encoding="utf-8")
        _github_outputs(environ, decision, summary, summary_path)
        if options.notify:
            notify(decision, environ, redact=redact, run_id=stamp, log=emit)
        emit(f"log: {log_path}", always=loud)
    return decision.code


def _run_streaming(
    command: Sequence[str], cwd: Path, env: Mapping[str, str], emit: Callable[[str], None]
) -> tuple[int, str]:
    """Run ``command``, sending each output line to ``emit`` as it comes (a long run
    shows progress in the log), and return its status and whole output."""
    lines: list[str] = []
    with subprocess.Popen(
        list(command),
        cwd=cwd,
        env=dict(env),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        errors="replace",
    ) as proc:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.append(line)
            emit(line)
        returncode = proc.wait()
    return returncode, "".join(lines)


def _echo_job_log(path: Path, emit: Callable[[str], None]) -> None:
    """Copy a failed validation job's report into the run log (one place to read)."""
    with suppress(OSError):
        for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
            if " ERROR " in line or line.startswith("  - "):
                emit(f"  {path.name}: {line}")


def _github_outputs(
    environ: Mapping[str, str], decision: Decision, summary: Mapping[str, Any], path: Path
) -> None:
    """Under GitHub Actions, expose the findings as step outputs, so the workflow can open
    the pull request (``has_changes``) even when a more urgent code is returned."""
    target = environ.get("GITHUB_OUTPUT")
    if not target:
        return
    with open(target, "a", encoding="utf-8") as handle:
        handle.write(f"exit_code={decision.code}\n")
        handle.write(f"has_changes={'true' if decision.has_changes else 'false'}\n")
        handle.write(f"scope={summary['scope']}\n")
        handle.write(f"summary={path}\n")


def collect_for_pr(
    workdir: str | os.PathLike[str], configfile: str = "config/config.yaml"
) -> list[ReviewChanges]:
    """Every review's current findings (no freshness filter: in CI the checkout is fresh),
    for :func:`pr_body`."""
    import livingmeta.config as lm_config

    config = lm_config.load_config(Path(workdir) / configfile)
    return [
        changes
        for review_id in lm_config.reviews(config)
        if (changes := read_review_changes(workdir, review_id)) is not None
    ]


__all__ = [
    "CHANGE_KINDS",
    "CRONTAB_LINE",
    "EXIT_CHANGES",
    "EXIT_ERROR",
    "EXIT_INVALID",
    "EXIT_LOCKED",
    "EXIT_MEANINGS",
    "EXIT_OK",
    "EXIT_STALE",
    "PRECEDENCE",
    "PROBLEM_KINDS",
    "Decision",
    "FailedJob",
    "LockedError",
    "Redactor",
    "ReviewChanges",
    "RunOptions",
    "collect_for_pr",
    "decide",
    "exclusive_lock",
    "from_changes_json",
    "from_retrieval_report",
    "md_escape",
    "notify",
    "parse_failed_jobs",
    "pr_body",
    "read_review_changes",
    "run_scheduled",
    "send_mail",
    "send_webhook",
    "snakemake_command",
    "summary_text",
    "update_scope",
]
