"""The pooled estimates' history across runs: a CSV kept per review (its plot is
:mod:`livingmeta.report.history_plot`, so the steps that only read or write the table do
not import matplotlib).

Why a history file: each run overwrites ``pooled.json``; without a record of earlier runs
a reader cannot see how an estimate has moved as evidence accumulated, which is the point
of a living review. One row per run x outcome, upserted so that re-running a run (after
a crash, or with ``--forcerun``) replaces its rows instead of duplicating them.
"""

from __future__ import annotations

import io
import math
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from livingmeta.files import write_text

#: Columns of the history CSV, in order.
HISTORY_COLUMNS = (
    "run_id",
    "date",
    "review",
    "outcome",
    "measure",
    "k",
    "estimate",
    "ci_low",
    "ci_high",
    "p",
    "i2",
    "tau2",
    "participants",
    "z",
    "certainty",
)
KEY = ("run_id", "review", "outcome")
_TEXT = ("run_id", "date", "review", "outcome", "measure", "certainty")
_NUMBERS = ("estimate", "ci_low", "ci_high", "p", "i2", "tau2", "z")
_COUNTS = ("k", "participants")
#: Added later (accrued participants and Z, for sequential monitoring; the certainty of
#: the evidence, for "conclusion changed"): a history file written before them reads
#: with empty values.
_ADDED_COLUMNS = ("participants", "z", "certainty")
#: ``certainty`` of an outcome in the summary of findings whose certainty nobody has
#: rated yet; an empty cell means the run did not record it (a row written before the
#: column, or a run without a summary of findings).
NOT_ASSESSED = "not assessed"


def history_row(
    run_id: str,
    date: str,
    review: str,
    outcome: str,
    result: Mapping[str, Any],
    participants: int | None = None,
    certainty: str = "",
) -> dict[str, Any]:
    """A history row from a result's display JSON (``OutcomeAnalysis.display()``), the
    participants of the pooled studies (the information axis of sequential monitoring,
    with the result's ``z``) and the GRADE ``certainty`` of the evidence (``high`` ...
    ``very low``, :data:`NOT_ASSESSED`, or empty: not known), so that the next run can
    tell a change of certainty."""
    row: dict[str, Any] = {
        "run_id": run_id,
        "date": date,
        "review": review,
        "outcome": outcome,
        "measure": result.get("measure"),
        "k": result.get("k"),
    }
    row.update({name: result.get(name) for name in _NUMBERS})
    row["participants"] = participants
    row["certainty"] = certainty
    return row


def read_history(history_csv: str | os.PathLike[str]) -> pd.DataFrame:
    """The history table (empty, with :data:`HISTORY_COLUMNS`, if the file is missing)."""
    path = Path(history_csv)
    if not path.exists():
        return _typed(pd.DataFrame(columns=list(HISTORY_COLUMNS)))
    frame = pd.read_csv(
        path,
        dtype={name: "string" for name in _TEXT},
        keep_default_na=False,
        na_values={name: [""] for name in (*_COUNTS, *_NUMBERS)},
    )
    for name in _ADDED_COLUMNS:
        if name not in frame.columns:
            frame[name] = "" if name in _TEXT else math.nan
    missing = [c for c in HISTORY_COLUMNS if c not in frame.columns]
    if missing:
        raise ValueError(f"{path}: history file lacks columns {', '.join(missing)}")
    return _typed(frame[list(HISTORY_COLUMNS)])


def _typed(frame: pd.DataFrame) -> pd.DataFrame:
    frame = frame.copy()
    for name in _TEXT:
        frame[name] = frame[name].astype("string")
    for name in _COUNTS:
        frame[name] = pd.to_numeric(frame[name], errors="raise").astype("Int64")
    for name in _NUMBERS:
        frame[name] = pd.to_numeric(frame[name], errors="raise").astype("float64")
    return frame


def update_history(
    history_csv: str | os.PathLike[str], rows: Iterable[Mapping[str, Any]]
) -> pd.DataFrame:
    """Upsert ``rows`` into the history CSV and return the whole table.

    Parameters
    ----------
    history_csv
        The file; created (with its folder) if missing.
    rows
        Dicts with the keys :data:`HISTORY_COLUMNS` (see :func:`history_row`). A row
        replaces an existing one with the same ``(run_id, review, outcome)``, so a rerun
        of a run is idempotent; two rows with one key in ``rows`` keep the last.

    Returns
    -------
    pandas.DataFrame
        The table as written: sorted by review, outcome, date and run id, so that the file
        reads chronologically and is byte-identical after a repeated update.

    Raises
    ------
    ValueError
        If a row lacks a column or has an empty key, before anything is written.
    """
    new = []
    for i, row in enumerate(rows):
        missing = [c for c in HISTORY_COLUMNS if c not in row]
        if missing:
            raise ValueError(f"history row {i} lacks {', '.join(missing)}")
        empty = [c for c in (*KEY, "date") if row[c] is None or str(row[c]) == ""]
        if empty:
            raise ValueError(f"history row {i} has an empty {', '.join(empty)}")
        new.append({c: _cell(row[c]) for c in HISTORY_COLUMNS})
    frame = read_history(history_csv)
    if new:
        added = _typed(pd.DataFrame(new, columns=list(HISTORY_COLUMNS)))
        frame = added if frame.empty else pd.concat([frame, added], ignore_index=True)
    frame = frame.drop_duplicates(list(KEY), keep="last")
    frame = frame.sort_values(["review", "outcome", "date", "run_id"], kind="mergesort")
    frame = frame.reset_index(drop=True)
    buffer = io.StringIO()
    frame.to_csv(buffer, index=False, lineterminator="\n")
    write_text(history_csv, buffer.getvalue())
    return frame


def rebuilt_run(
    history_csv: str | os.PathLike[str],
    review: str,
    run_date: str,
    estimates: Mapping[str, Mapping[str, Any]],
    candidates: str | os.PathLike[str],
) -> str | None:
    """The id of the review's last recorded run when this run only rebuilt it: same day,
    no new candidate records, and the same estimates for the same outcomes (``estimates``:
    display JSON by outcome). Deleting ``results/`` and rebuilding then adds no run to the
    history, since a run is a search or a change of data, not a rebuild."""
    if _has_rows(candidates):
        return None
    table = read_history(history_csv)
    table = table[table["review"] == review]
    if table.empty:
        return None
    last = table.sort_values(["date", "run_id"], kind="mergesort")["run_id"].iloc[-1]
    rows = table[table["run_id"] == last].to_dict("records")
    if str(rows[0]["date"]) != run_date or {r["outcome"] for r in rows} != set(estimates):
        return None
    same = all(_same_estimates(row, estimates[str(row["outcome"])]) for row in rows)
    return str(last) if same else None


def _has_rows(csv_path: str | os.PathLike[str]) -> bool:
    path = Path(csv_path)
    return path.exists() and len(path.read_text(encoding="utf-8").strip().splitlines()) > 1


def _same_estimates(row: Mapping[str, Any], result: Mapping[str, Any]) -> bool:
    """A history row and a result agree on measure, k, every number (NaN and None
    alike; floats to 12 significant digits, which survive the CSV) and, when the result
    carries one, the certainty cell (a change of certainty is a run of its own)."""
    if str(row["measure"]) != str(result.get("measure")) or row["k"] != result.get("k"):
        return False
    if "certainty" in result and _text(row.get("certainty")) != _text(result["certainty"]):
        return False
    for name in (n for n in _NUMBERS if n in result):  # participants: not in the display
        old, new = row[name], result[name]
        old_missing = old is None or (isinstance(old, float) and math.isnan(old))
        if old_missing or new is None:
            if old_missing != (new is None):
                return False
        elif not math.isclose(float(old), float(new), rel_tol=1e-12, abs_tol=1e-300):
            return False
    return True


def _text(value: Any) -> str:
    """A text cell as a string: a missing one (``pd.NA``, None) is empty."""
    return "" if value is None or value is pd.NA else str(value)


def _cell(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
