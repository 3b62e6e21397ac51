"""The committed search state: up to when each saved search has been run successfully.

Why it is separate from the snapshots and committed only at the end of a run: the next
run's window starts from the last *successful* window end (minus an overlap for indexing
lag), so a run that failed anywhere (a source, parsing, deduplication) must leave the
windows untouched; otherwise the records of the failed window would never be searched
again. Failures are still recorded (time and redacted message) so that
:meth:`SearchState.stale_sources` can say which sources have not been current since when.

``state.json`` (key-sorted, indented JSON, written atomically under a lock so that two
rules recording a failure at the same time do not lose one)::

    {"format_version": 1,
     "searches": {"<search_id>": {
        "source": "pubmed",
        "window_start": "2026-01-01", "window_end": "2026-11-25",
        "data_timestamp": "2026-11-25T09:00:06",      # ClinicalTrials.gov /version
        "last_success": {"at": "2026-11-25T10:02:11Z", "run_id": "..."},
        "last_failure": {"at": "...", "run_id": "...", "error": "..."}}}}
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from livingmeta.files import lock_file, write_json
from livingmeta.retrieval.redaction import redact

FORMAT_VERSION = 1
DEFAULT_OVERLAP_DAYS = 3
DEFAULT_MAX_AGE = timedelta(days=8)


@dataclass(frozen=True)
class SearchWindow:
    """Dates to search, both inclusive; ``start is None`` means "from the beginning"."""

    search_id: str
    start: date | None
    end: date


@dataclass(frozen=True)
class StaleSource:
    """A saved search whose data are not current.

    ``since`` is the last successful run (``None``: never succeeded); ``failing`` says
    whether the latest attempt failed, with its redacted ``error``.
    """

    search_id: str
    source: str | None
    since: datetime | None
    failing: bool
    error: str | None


@dataclass
class RunStaging:
    """Windows a run has finished, waiting for the whole run to succeed."""

    run_id: str
    windows: list[tuple[SearchWindow, str | None, str | None]] = field(default_factory=list)

    def succeeded(
        self, window: SearchWindow, *, source: str | None = None, data_timestamp: str | None = None
    ) -> None:
        """Stage a searched window; it is committed only if the whole run succeeds."""
        self.windows.append((window, source, data_timestamp))


class SearchState:
    """Per saved search: last successful window, data timestamp, last success/failure.

    Parameters
    ----------
    path
        The ``state.json`` file (need not exist yet).
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._searches: dict[str, dict[str, Any]] = _read(self.path)

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> SearchState:
        """Read ``state.json``; a missing file is an empty state (first run)."""
        return cls(path)

    def searches(self) -> dict[str, dict[str, Any]]:
        """A copy of the stored state per search id (the JSON shape above)."""
        return json.loads(json.dumps(self._searches))

    def next_window(
        self,
        search_id: str,
        today: date,
        overlap_days: int = DEFAULT_OVERLAP_DAYS,
        start_date: date | None = None,
    ) -> SearchWindow:
        """The window the next run should search.

        Parameters
        ----------
        search_id
            The saved search.
        today
            End of the window (inclusive).
        overlap_days
            Days to go back before the last successful end, for indexing lag and time
            zones; the registry upserts by id, so the overlap costs nothing but requests.
        start_date
            Start of the first (backfill) window; ``None`` means no lower bound.
        """
        if overlap_days < 0:
            raise ValueError(f"overlap_days must be >= 0, got {overlap_days}")
        stored = self._searches.get(search_id, {}).get("window_end")
        if stored is None:
            return SearchWindow(search_id, start_date, today)
        start = date.fromisoformat(stored) - timedelta(days=overlap_days)
        if start_date is not None:
            start = max(start, start_date)
        return SearchWindow(search_id, min(start, today), today)

    def data_unchanged(self, search_id: str, data_timestamp: str | None) -> bool:
        """True if the source's data timestamp equals the last committed one (skip search)."""
        stored = self._searches.get(search_id, {}).get("data_timestamp")
        return data_timestamp is not None and stored == data_timestamp

    def commit_windows(
        self,
        windows: Iterable[SearchWindow],
        *,
        run_id: str,
        at: datetime,
        sources: Mapping[str, str] | None = None,
        data_timestamps: Mapping[str, str] | None = None,
    ) -> None:
        """Record that ``windows`` were searched by a run that succeeded as a whole.

        All windows are written in one atomic replacement of ``state.json``: either all
        of them are committed or none.
        """
        windows = list(windows)
        sources = sources or {}
        data_timestamps = data_timestamps or {}

        def apply(searches: dict[str, dict[str, Any]]) -> None:
            for window in windows:
                entry = searches.setdefault(window.search_id, {})
                entry["window_start"] = window.start.isoformat() if window.start else None
                entry["window_end"] = window.end.isoformat()
                entry["last_success"] = {"at": _iso(at), "run_id": run_id}
                if window.search_id in sources:
                    entry["source"] = sources[window.search_id]
                if window.search_id in data_timestamps:
                    entry["data_timestamp"] = data_timestamps[window.search_id]

        self._update(apply)

    def record_failure(
        self, search_ids: Iterable[str], *, run_id: str, at: datetime, error: str
    ) -> None:
        """Record a failed attempt; windows and last success stay as they were."""
        message = redact(str(error))[:2000]
        ids = list(search_ids)

        def apply(searches: dict[str, dict[str, Any]]) -> None:
            for search_id in ids:
                entry = searches.setdefault(search_id, {})
                entry["last_failure"] = {"at": _iso(at), "error": message, "run_id": run_id}

        self._update(apply)

    @contextmanager
    def transaction(
        self, run_id: str, search_ids: Iterable[str], *, now: Callable[[], datetime] | None = None
    ) -> Iterator[RunStaging]:
        """Stage windows during a run; commit them all at the end, or none on error.

        On an exception, ``record_failure`` is called for ``search_ids`` with the
        (redacted) error and the exception propagates; committed windows are unchanged.

        Examples
        --------
        >>> import tempfile, datetime as dt
        >>> state = SearchState(tempfile.mkdtemp() + "/state.json")
        >>> with state.transaction("run-1", ["pubmed"]) as run:
        ...     first = dt.date(2026, 1, 1)
        ...     window = state.next_window("pubmed", dt.date(2026, 1, 31), start_date=first)
        ...     run.succeeded(window, source="pubmed")
        >>> state.next_window("pubmed", dt.date(2026, 2, 7)).start
        datetime.date(2026, 1, 28)
        """
        clock = now or (lambda: datetime.now(UTC))
        staging = RunStaging(run_id)
        ids = list(search_ids)
        try:
            yield staging
        except BaseException as exc:
            error = f"{type(exc).__name__}: {exc}"
            self.record_failure(ids, run_id=run_id, at=clock(), error=error)
            raise
        self.commit_windows(
            [w for w, _, _ in staging.windows],
            run_id=run_id,
            at=clock(),
            sources={w.search_id: s for w, s, _ in staging.windows if s},
            data_timestamps={w.search_id: t for w, _, t in staging.windows if t},
        )

    def stale_sources(
        self,
        now: datetime,
        max_age: timedelta = DEFAULT_MAX_AGE,
        expected: Iterable[str] = (),
    ) -> dict[str, StaleSource]:
        """Searches whose last success is older than ``max_age``, that never succeeded, or
        whose latest attempt failed; ``expected`` adds configured searches never run."""
        stale: dict[str, StaleSource] = {}
        for search_id in sorted(set(self._searches) | set(expected)):
            entry = self._searches.get(search_id, {})
            success = _parse(entry.get("last_success"))
            failure = _parse(entry.get("last_failure"))
            failing = failure is not None and (success is None or failure >= success)
            if success is None or failing or _aware(now) - success > max_age:
                stale[search_id] = StaleSource(
                    search_id=search_id,
                    source=entry.get("source"),
                    since=success,
                    failing=failing,
                    error=(entry.get("last_failure") or {}).get("error") if failing else None,
                )
        return stale

    def _update(self, apply: Callable[[dict[str, dict[str, Any]]], None]) -> None:
        # Re-read under the lock so concurrent rules each add to the latest state.
        with lock_file(self.path.with_name(self.path.name + ".lock")):
            searches = _read(self.path)
            apply(searches)
            write_json(self.path, {"format_version": FORMAT_VERSION, "searches": searches})
            self._searches = searches


def _read(path: Path) -> dict[str, dict[str, Any]]:
    if not path.exists():
        return {}
    data = json.loads(path.read_text(encoding="utf-8"))
    if data.get("format_version") != FORMAT_VERSION:
        raise ValueError(f"{path}: unsupported format_version {data.get('format_version')!r}")
    return dict(data.get("searches", {}))


def _parse(event: Mapping[str, Any] | None) -> datetime | None:
    if not event or not event.get("at"):
        return None
    return datetime.fromisoformat(event["at"].replace("Z", "+00:00"))


def _aware(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError(f"timestamps must be timezone-aware, got {moment!r}")
    return moment


def _iso(moment: datetime) -> str:
    return _aware(moment).astimezone(UTC).isoformat().replace("+00:00", "Z")
