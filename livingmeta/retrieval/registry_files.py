"""The registry's files: plain, diffable, byte-stable, and safe against half-finished saves.

Why plain files: the registry is part of a review's audit trail. JSON lines and CSV can be
read, diffed and committed; reviewers can answer the manual queue in a spreadsheet.

Files in the registry folder (each written atomically; the same content always gives the
same bytes, so an unchanged registry does not show up as a change):

``records.jsonl``
    One JSON object per line, sorted by ``record_id``, keys sorted: ``record``
    (``Record.to_dict()``), ``seen_in`` (run ids in arrival order), ``reported_in`` /
    ``reported_as`` (the run that handed the record to screening and how: ``candidate``,
    ``duplicate`` or ``linked_to_existing``; ``null`` until then).
``links.csv``
    ``record_a,record_b,reason,score``: the evidence for every link (score with four
    decimals; 1.0000 for id-based links).
``doubtful.csv``
    ``record_a,record_b,reason,score,decision,decided_by,decided_on``: the manual queue.
    Reviewers fill ``decision`` with ``same`` or ``different`` (any case) and may sign it;
    decided rows and their signatures are kept forever (files without the signature
    columns are read too).
``registry.json``
    ``format_version``, ``runs`` (run ids in order), the deduplication ``threshold`` and
    ``doubtful_threshold``, and the ``sha256`` of ``records.jsonl`` and ``links.csv``.
    It is written last: if a save stops half-way, the hashes do not match at load and the
    links are treated as stale instead of being trusted.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from livingmeta.files import atomic_open, locked, write_json, write_text
from livingmeta.retrieval.dedup import (
    DECISIONS,
    DEFAULT_DOUBTFUL_THRESHOLD,
    DEFAULT_THRESHOLD,
    DoubtfulPair,
    Link,
)
from livingmeta.retrieval.records import Record

FORMAT_VERSION = 1
RECORDS_FILE = "records.jsonl"
LINKS_FILE = "links.csv"
DOUBTFUL_FILE = "doubtful.csv"
META_FILE = "registry.json"
LINK_COLUMNS = ("record_a", "record_b", "reason", "score")
DOUBTFUL_COLUMNS = (*LINK_COLUMNS, "decision", "decided_by", "decided_on")


@dataclass(slots=True)
class Entry:
    """A stored record plus its history in the registry."""

    record: Record
    seen_in: list[str] = field(default_factory=list)
    reported_in: str | None = None
    reported_as: str | None = None

    @property
    def first_seen(self) -> str:
        """Run id of the run that first retrieved the record."""
        return self.seen_in[0]

    @property
    def last_seen(self) -> str:
        """Run id of the latest run that retrieved the record."""
        return self.seen_in[-1]


@dataclass
class StoredRegistry:
    """Everything the registry folder holds; ``links is None`` means stale."""

    entries: dict[str, Entry] = field(default_factory=dict)
    runs: list[str] = field(default_factory=list)
    links: list[Link] | None = field(default_factory=list)
    doubtful: list[DoubtfulPair] = field(default_factory=list)
    threshold: float = DEFAULT_THRESHOLD
    doubtful_threshold: float = DEFAULT_DOUBTFUL_THRESHOLD


def registry_lock(
    folder: str | os.PathLike[str], *, wait: bool = True
) -> AbstractContextManager[None]:
    """The registry folder's lock: one writer at a time (a search run, an import). With
    ``wait`` false, ``BlockingIOError`` at once if a writer holds it."""
    return locked(Path(folder) / RECORDS_FILE, wait=wait)


def read_folder(folder: str | os.PathLike[str]) -> StoredRegistry:
    """Read a registry folder; a folder without ``records.jsonl`` is an empty registry.

    Raises
    ------
    ValueError
        If ``doubtful.csv`` holds a decision other than ``same``, ``different`` or empty,
        or ``registry.json`` has an unknown ``format_version``.
    """
    path = Path(folder)
    if not (path / RECORDS_FILE).exists():
        return StoredRegistry()
    records_hash = hashlib.sha256()
    entries = {entry.record.record_id: entry for entry in iter_entries(path, records_hash)}
    meta_path = path / META_FILE
    meta = json.loads(meta_path.read_text(encoding="utf-8")) if meta_path.exists() else {}
    if meta.get("format_version", FORMAT_VERSION) != FORMAT_VERSION:
        raise ValueError(f"{meta_path}: unsupported format_version {meta['format_version']!r}")
    runs = list(meta.get("runs", []))
    for rid in sorted(entries):
        for run in entries[rid].seen_in:  # runs of a save interrupted before registry.json
            if run not in runs:
                runs.append(run)
    links_path = path / LINKS_FILE
    links_text = links_path.read_text(encoding="utf-8") if links_path.exists() else ""
    hashes = meta.get("sha256", {})
    consistent = hashes.get(RECORDS_FILE) == records_hash.hexdigest() and hashes.get(
        LINKS_FILE
    ) == _sha256(links_text)
    return StoredRegistry(
        entries=entries,
        runs=runs,
        links=_read_links(links_text) if consistent else None,
        doubtful=_read_doubtful(path / DOUBTFUL_FILE),
        threshold=meta.get("threshold", DEFAULT_THRESHOLD),
        doubtful_threshold=meta.get("doubtful_threshold", DEFAULT_DOUBTFUL_THRESHOLD),
    )


def iter_entries(folder: str | os.PathLike[str], digest: Any = None) -> Iterator[Entry]:
    """The stored records one at a time, in file order (none without ``records.jsonl``).

    Line by line, so a step that needs a few records of a large registry never holds
    the file; ``digest`` (a ``hashlib`` object) is fed the file's bytes on the way.
    """
    path = Path(folder) / RECORDS_FILE
    if not path.exists():
        return
    # Run ids and roles repeat on every line: one string each, not one per record.
    shared: dict[Any, Any] = {}

    def one(value: Any) -> Any:
        return shared.setdefault(value, value)

    with open(path, "rb") as handle:
        for line in handle:
            if digest is not None:
                digest.update(line)
            if line.strip():
                data = json.loads(line)
                yield Entry(
                    record=Record.from_dict(data["record"]),
                    seen_in=[one(run) for run in data["seen_in"]],
                    reported_in=one(data.get("reported_in")),
                    reported_as=one(data.get("reported_as")),
                )


def write_folder(folder: str | os.PathLike[str], stored: StoredRegistry) -> None:
    """Write a registry folder, ``registry.json`` last (see the module docstring)."""
    path = Path(folder)
    records_hash = hashlib.sha256()
    with atomic_open(path / RECORDS_FILE, "wb") as handle:  # streamed: bounded memory
        for _, entry in sorted(stored.entries.items()):
            line = json.dumps(
                {
                    "record": entry.record.to_dict(),
                    "reported_as": entry.reported_as,
                    "reported_in": entry.reported_in,
                    "seen_in": entry.seen_in,
                },
                sort_keys=True,
                ensure_ascii=False,
                separators=(",", ":"),
            ).encode("utf-8")
            records_hash.update(line + b"\n")
            handle.write(line + b"\n")
    hashes = {RECORDS_FILE: records_hash.hexdigest()}
    if stored.links is not None:
        links_text = _csv_text(LINK_COLUMNS, (_row(link) for link in stored.links))
        write_text(path / LINKS_FILE, links_text)
        hashes[LINKS_FILE] = _sha256(links_text)
    doubtful_rows = (
        (*_row(pair), pair.decision, pair.decided_by, pair.decided_on) for pair in stored.doubtful
    )
    write_text(path / DOUBTFUL_FILE, _csv_text(DOUBTFUL_COLUMNS, doubtful_rows))
    meta: dict[str, Any] = {
        "doubtful_threshold": stored.doubtful_threshold,
        "format_version": FORMAT_VERSION,
        "runs": stored.runs,
        "sha256": hashes,
        "threshold": stored.threshold,
    }
    write_json(path / META_FILE, meta)


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _row(link: Link | DoubtfulPair) -> tuple[str, ...]:
    return (link.record_a, link.record_b, link.reason, f"{link.score:.4f}")


def _csv_text(header: Iterable[str], rows: Iterable[Iterable[str]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue()


def _read_links(text: str) -> list[Link]:
    rows = csv.DictReader(io.StringIO(text))
    return [Link(r["record_a"], r["record_b"], r["reason"], float(r["score"])) for r in rows]


def _read_doubtful(path: Path) -> list[DoubtfulPair]:
    if not path.exists():
        return []
    pairs = []
    with path.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            decision = (row.get("decision") or "").strip().lower()
            if decision not in DECISIONS:
                raise ValueError(
                    f"{path}: decision {decision!r} for {row['record_a']} / {row['record_b']} "
                    "is not one of 'same', 'different' or empty"
                )
            a, b = sorted((row["record_a"].strip(), row["record_b"].strip()))
            signature = ((row.get(c) or "").strip() for c in ("decided_by", "decided_on"))
            reason, score = row["reason"], float(row["score"] or 0)
            pairs.append(DoubtfulPair(a, b, reason, score, decision, *signature))
    return sorted(pairs)
