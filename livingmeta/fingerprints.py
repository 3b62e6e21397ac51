"""What the Snakefile reads from a review's files whenever Snakemake starts: each
outcome's digest (its rows of the extraction table), the studies removed after inclusion
and the studies' labels. They are rule params, so that a change in one outcome's rows
reruns only that outcome's jobs.

Reading them needs pandas and the screening tables: a quarter of a second of every run
for one review, and more than 3 s of a no-op run of 50 reviews (measured with
``benchmarks/scale.py``). So each value is remembered in ``.snakemake/livingmeta/``
under a key made of the bytes of every file it was read from, the review's settings and
livingmeta's own code: a key is found again only when none of them changed, and then the
value is the one they gave. A memory that cannot be read or written is recomputed, never
trusted.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Callable, Iterable, Sequence
from contextlib import suppress
from functools import cache, partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from livingmeta.config import Review
    from livingmeta.outcomes import Outcome

#: Where the workflow keeps the values (Snakemake's own folder, beside its metadata).
MEMORY = Path(".snakemake") / "livingmeta" / "fingerprints"
#: A remembered value unused this long is deleted when a new one is stored.
KEPT_UNUSED_DAYS = 30


class FileMemory:
    """Values computed from files, remembered by the files' bytes (one JSON file each)."""

    def __init__(self, folder: str | os.PathLike[str] = MEMORY):
        self.folder = Path(folder)
        self._tidied = False

    def value(
        self, name: str, files: Sequence[str | Path], settings: Any, compute: Callable[[], Any]
    ) -> Any:
        """``compute()``, or what it gave when ``files`` held the same bytes, ``settings``
        (JSON-able) were equal and livingmeta's code was the same. Values go through JSON
        (a tuple comes back as a list; a dict keeps its order)."""
        key = self._key(name, files, settings)
        path = self.folder / f"{key}.json"
        try:
            remembered = json.loads(path.read_text(encoding="utf-8"))["value"]
        except (OSError, ValueError, KeyError, TypeError):
            pass
        else:
            with suppress(OSError):
                os.utime(path)  # used: kept (unused ones are forgotten after a while)
            return remembered
        value = compute()
        if self._key(name, files, settings) == key:  # not edited while it was read
            self._store(path, value)
        return value

    @staticmethod
    def _key(name: str, files: Sequence[str | Path], settings: Any) -> str:
        hasher = hashlib.sha256(name.encode())
        hasher.update(code_fingerprint().encode())
        hasher.update(json.dumps(settings, sort_keys=True, default=str).encode())
        for file in files:
            hasher.update(f"\0{file}\0".encode())
            try:
                with open(file, "rb") as handle:  # a backfill's queue is never held whole
                    hasher.update(hashlib.file_digest(handle, "sha256").digest())
            except OSError as exc:  # a missing file is a state too (and may be created)
                hasher.update(f"unreadable: {type(exc).__name__}".encode())
        return hasher.hexdigest()

    def _store(self, path: Path, value: Any) -> None:
        from livingmeta.files import write_text

        with suppress(OSError, TypeError, ValueError):  # else remembered next time, or never
            write_text(path, json.dumps({"value": value}, allow_nan=False))
            self._forget_unused()

    def _forget_unused(self) -> None:
        """Delete the values unused for :data:`KEPT_UNUSED_DAYS` (once a run)."""
        if self._tidied:
            return
        self._tidied = True
        cutoff = time.time() - KEPT_UNUSED_DAYS * 86400
        for path in self.folder.glob("*.json"):
            with suppress(OSError):  # another run may have deleted it first
                if path.stat().st_mtime < cutoff:
                    path.unlink()


@cache
def code_fingerprint() -> str:
    """A hash of livingmeta's source files: a new version may read files differently."""
    package = Path(__file__).resolve().parent
    hasher = hashlib.sha256()
    for path in sorted(package.rglob("*.py")):
        hasher.update(str(path.relative_to(package)).encode())
        hasher.update(path.read_bytes())
    return hasher.hexdigest()


#: Options whose value was implied before they existed: left out of the digest, so adding
#: the option does not rebuild results it cannot change.
DIGEST_NEUTRAL = {("convention", "metafor")}


def outcome_digest(
    extraction: str | Path,
    outcome: Outcome,
    excluded: Iterable[str] = (),
    memory: FileMemory | None = None,
) -> str:
    """A fingerprint of one outcome's rows and options.

    Used as a Snakemake ``params`` value: editing one outcome's rows changes only that
    outcome's digest, so only its jobs rerun. Reads the raw text (never fails on invalid
    input: validation happens in the job, where it can be reported). With a ``memory``,
    the rows are read from the table only when its bytes changed.
    """
    options = {k: v for k, v in outcome.pool_options().items() if (k, v) not in DIGEST_NEUTRAL}
    hasher = hashlib.sha256(json.dumps(options, sort_keys=True).encode())
    hasher.update(outcome.label.encode())
    hasher.update(json.dumps(sorted(excluded)).encode())
    read = partial(_outcome_rows, extraction, outcome.name)
    rows = (
        read() if memory is None else memory.value("outcome_rows", [extraction], outcome.name, read)
    )
    hasher.update(rows.encode())
    return hasher.hexdigest()[:16]


def _outcome_rows(extraction: str | Path, outcome: str) -> str:
    from livingmeta.extraction import outcome_rows_text

    return outcome_rows_text(extraction, outcome)


def removed_study_ids(memory: FileMemory, review: Review) -> tuple[str, ...]:
    """The ids of the studies removed after inclusion (a retraction decision, an
    exclusion recorded after inclusion); none while studies.csv is invalid (its check
    stops the run)."""
    files = review.files
    paths = [files.studies, files.queue, files.decisions]
    return tuple(memory.value("removed_study_ids", paths, review.spec, partial(_removed, review)))


def _removed(review: Review) -> list[str]:
    from livingmeta.study_scope import removed_from_files
    from livingmeta.validation import InputError

    files = review.files
    try:
        removed = removed_from_files(review, files.studies, files.queue, files.decisions)
    except InputError:
        return []
    return [s["study_id"] for s in removed]


def study_labels(memory: FileMemory, review: Review) -> dict[str, list[str]]:
    """:func:`livingmeta.extraction.study_labels_by_id` of the review's extraction."""
    extraction = review.files.extraction
    return memory.value("study_labels", [extraction], None, partial(_labels, extraction))


def _labels(extraction: Path) -> dict[str, list[str]]:
    from livingmeta.extraction import study_labels_by_id

    return study_labels_by_id(extraction)
