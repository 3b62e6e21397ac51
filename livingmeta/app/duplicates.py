"""Duplicates screen: the registry's manual deduplication queue (``doubtful.csv``), each
undecided pair side by side, decided as "same record" or "different records".

Why here rather than a spreadsheet: the two records of a pair are in ``records.jsonl``,
not in the queue, so deciding needs both read side by side. A decision is written as the
registry reads it (``same`` or ``different`` in ``decision``, signed in ``decided_by`` and
dated in ``decided_on``), in the decided row only: every other byte of the file is kept.
The write holds the registry's own lock (a search run or an import waits, and is waited
for), and the file as it would be after the write must load with the registry's own
reader (:func:`livingmeta.retrieval.registry_files.read_folder`), so an answer the
registry would refuse is never written. The decision takes effect at the next search run.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import Blueprint, abort, redirect, render_template, request, url_for

from livingmeta.app.csvedit import csv_line, split
from livingmeta.app.guard import StaleFile
from livingmeta.app.pages import versions, workspace
from livingmeta.validation import Problem

blueprint = Blueprint("duplicates", __name__, url_prefix="/duplicates")
#: The answers offered, as the registry reads them (``dedup.DECISIONS`` without "").
DECISIONS = {"same": "same record", "different": "different records"}
#: Who decided and when: kept by the registry with the decision (``DoubtfulPair``).
SIGNATURE = ("decided_by", "decided_on")
_PAIR_COLUMNS = ("record_a", "record_b", "reason", "score", "decision", *SIGNATURE)
#: A ``record_id`` key and its JSON string value in a line of ``records.jsonl``.
_RECORD_ID = re.compile(rb'"record_id"\s*:\s*"((?:[^"\\]|\\.)*)"')
#: Undecided pairs shown at a time (each reads two records; the page stays short).
PAGE = 50
#: What is shown of each record of a pair.
SHOWN = ("title", "authors", "year", "venue", "ids", "source")


@dataclass(frozen=True)
class Pair:
    """One row of the queue: its spreadsheet row number and its cells (stripped)."""

    row: int
    record_a: str
    record_b: str
    reason: str
    score: str
    decision: str
    decided_by: str
    decided_on: str

    @property
    def key(self) -> tuple[str, str]:
        """The pair as the registry keys it (ids sorted)."""
        return min(self.record_a, self.record_b), max(self.record_a, self.record_b)


def queue_path() -> Path:
    from livingmeta.retrieval.registry_files import DOUBTFUL_FILE

    return workspace().files.registry / DOUBTFUL_FILE


def read_pairs(data: bytes) -> tuple[list[Pair], list[Problem]]:
    """The queue's rows, and the decisions the registry would refuse (file, row, column)."""
    from livingmeta.app.extraction import shown_path
    from livingmeta.retrieval.dedup import DECISIONS as ACCEPTED

    pairs, problems = [], []
    shown = shown_path(queue_path())
    for number, record in enumerate(split(data)[3], start=2):
        pair = Pair(number, *(record.values.get(c) or "" for c in _PAIR_COLUMNS))
        if not (pair.record_a or pair.record_b):
            continue  # a blank line: the registry's reader skips it too
        if pair.decision.lower() not in ACCEPTED:
            message = f"{pair.decision!r} is not same, different or empty"
            problems.append(Problem(shown, number, "decision", message))
        if not _is_number(pair.score):
            problems.append(Problem(shown, number, "score", f"{pair.score!r} is not a number"))
        pairs.append(pair)
    return pairs, problems


def _is_number(text: str) -> bool:
    try:
        float(text or 0)
    except ValueError:
        return False
    return True


def decided(data: bytes, key: tuple[str, str], decision: str, reviewer: str, today: str) -> bytes:
    """The queue with the pair ``key``'s decision recorded, signed and dated: only that row
    (and the header, when it lacks a column) is rewritten, the cells as the registry writes
    them (plain CSV, the row's own line ending)."""
    bom, header, header_raw, records = split(data)
    missing = [c for c in ("decision", *SIGNATURE) if c not in header]
    if missing:
        header_raw = _line([*_raw_cells(header_raw), *missing], _ending(header_raw) or "\n")
        header = [*header, *missing]
    body = []
    for record in records:
        cells = _raw_cells(record.raw)
        a, b = (record.values.get(c, "") for c in ("record_a", "record_b"))
        if (min(a, b), max(a, b)) == key:
            cells += [""] * (len(header) - len(cells))
            updates = {"decision": decision, "decided_by": reviewer, "decided_on": today}
            for column, value in updates.items():
                cells[header.index(column)] = value
            body.append(_line(cells, _ending(record.raw)))
        else:
            body.append(record.raw)
    return (bom + header_raw + "".join(body)).encode("utf-8")


def _raw_cells(raw: str) -> list[str]:
    """A record's cells as the registry reads them (no spreadsheet apostrophe removed)."""
    return next(csv.reader(io.StringIO(raw, newline="")), [])


def _ending(raw: str) -> str:
    return "\r\n" if raw.endswith("\r\n") else "\n" if raw.endswith(("\n", "\r")) else ""


def _line(cells: Iterable[str], ending: str) -> str:
    """Plain CSV cells, as the registry writes them, ending as the row did."""
    return csv_line(list(cells), "\n", neutral=False)[:-1] + ending


def registry_problems(data: bytes) -> list[Problem]:
    """What the registry's own reader says of the queue as ``data`` (named after the real
    file): a file it refuses would stop the next search run."""
    from livingmeta.app.extraction import shown_path
    from livingmeta.retrieval.registry_files import DOUBTFUL_FILE, RECORDS_FILE, read_folder

    with tempfile.TemporaryDirectory() as folder:
        (Path(folder) / RECORDS_FILE).write_bytes(b"")
        (Path(folder) / DOUBTFUL_FILE).write_bytes(data)
        try:
            read_folder(folder)
        except KeyError as exc:
            return [Problem(shown_path(queue_path()), None, str(exc.args[0]), "column missing")]
        except ValueError as exc:
            message = str(exc).replace(str(Path(folder) / DOUBTFUL_FILE), "").lstrip(": ")
            return [Problem(shown_path(queue_path()), None, None, message)]
    return []


def records_of(ids: set[str]) -> dict[str, dict[str, str]]:
    """What is shown of each record in ``ids``, from the registry's ``records.jsonl``.

    Why not :func:`~livingmeta.retrieval.registry_files.iter_entries`: it parses every
    line (seconds for 100,000 records, on every page view); here a line is parsed only
    when a ``record_id`` in it is one of ``ids`` (as JSON writes it, escaped either way)."""
    from livingmeta.retrieval.records import Record
    from livingmeta.retrieval.registry_files import RECORDS_FILE

    path = workspace().files.registry / RECORDS_FILE
    wanted = {json.dumps(i, ensure_ascii=a).encode()[1:-1] for i in ids for a in (True, False)}
    out: dict[str, dict[str, str]] = {}
    if not ids or not path.exists():
        return out
    with path.open("rb") as handle:
        for line in handle:
            if any(m.group(1) in wanted for m in _RECORD_ID.finditer(line)):
                record = Record.from_dict(json.loads(line)["record"])
                if record.record_id in ids:
                    out[record.record_id] = shown_of(record)
    return out


def shown_of(record: Any) -> dict[str, str]:
    """A record's cells of the side-by-side table (see :data:`SHOWN`)."""
    return {
        "title": record.title,
        "authors": "; ".join(record.authors),
        "year": "" if record.year is None else str(record.year),
        "venue": record.journal or "",
        "ids": "; ".join(_ids(record)),
        "source": record.source,
    }


def _ids(record: Any) -> list[str]:
    named = [("PMID", record.pmid), ("DOI", record.doi), ("PMCID", record.pmcid)]
    return [
        record.record_id,
        *(f"{name} {value}" for name, value in named if value),
        *record.nct_ids,
        *record.other_ids,
    ]


def differing(a: Mapping[str, str], b: Mapping[str, str]) -> set[str]:
    """What is shown differently for the two records (ignoring case and spacing)."""

    def norm(text: str) -> str:
        return " ".join(text.split()).casefold()

    compared = [k for k in SHOWN if k not in ("ids", "source")]  # these differ by design
    return {k for k in compared if norm(a.get(k, "")) != norm(b.get(k, ""))}


@blueprint.get("/")
def show(**context: Any) -> Any:
    """Every undecided pair side by side with its two answers; decided pairs listed."""
    data, seen = versions().read(queue_path())
    pairs, problems = read_pairs(data)
    undecided = [p for p in pairs if not p.decision]
    shown = undecided[:PAGE]
    records = records_of({i for p in shown for i in (p.record_a, p.record_b)})
    code = context.pop("code", 200)
    page = render_template(
        "duplicates.html",
        undecided=shown,
        more=len(undecided) - len(shown),
        decided=[p for p in pairs if p.decision][-PAGE:],
        records=records,
        differing=differing,
        shown=SHOWN,
        decisions=DECISIONS,
        problems=problems + context.pop("problems", []),
        seen=seen,
        **context,
    )
    return page, code


@blueprint.post("/decide")
def decide() -> Any:
    """Record the decision on one undecided pair, signed by the reviewer, today.

    The page's version of the file is checked, but only the pair's own row must be as
    shown (undecided): the rows are independent, so a pair added or decided meanwhile
    by a search run or another reviewer does not stop this one."""
    from livingmeta.retrieval.registry_files import registry_lock

    decision = request.form.get("decision", "")
    a, b = request.form.get("record_a", "").strip(), request.form.get("record_b", "").strip()
    if decision not in DECISIONS:
        abort(400, "the decision is 'same' or 'different'")
    if not (a and b):
        abort(400, "a pair names two records")
    path = workspace().writable(queue_path())
    try:
        # A search run holds the lock for minutes: answer at once rather than hang.
        with registry_lock(path.parent, wait=False):
            refused = _record_decision(path, (min(a, b), max(a, b)), decision)
    except BlockingIOError:
        refused = {"error": BUSY, "code": 409}
    if refused:
        return show(**refused)
    return redirect(url_for("duplicates.show"))


BUSY = "A search run or an import is writing the registry: try again in a minute."


def _record_decision(path: Path, key: tuple[str, str], decision: str) -> dict[str, Any] | None:
    """Write the decision on ``key`` (under the registry's lock); what to show instead
    when it is refused."""
    from livingmeta.files import write_bytes

    now = path.read_bytes() if path.exists() else b""
    pair = next((p for p in read_pairs(now)[0] if p.key == key), None)
    if pair is None:
        abort(404, "no such pair in the queue")
    try:
        versions().check(path, request.form.get("seen", ""), now)
    except StaleFile as stale:
        if pair.decision:
            return {"stale": stale, "code": 409}
    if pair.decision:
        return {"error": f"{key[0]} / {key[1]} is already decided ({pair.decision})", "code": 409}
    today = dt.date.today().isoformat()
    new = decided(now, key, decision, workspace().reviewer, today)
    problems = registry_problems(new) or read_pairs(new)[1]
    if problems:
        return {"problems": problems, "code": 422}
    write_bytes(path, new)
    return None
