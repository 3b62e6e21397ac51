"""Which studies may be pooled, and which were taken out of the analysis.

Only studies included in the review's ``studies.csv`` may appear in the extraction table:
a row for a study excluded at screening, or a typo'd id, would otherwise be pooled (or
silently dropped) without anyone deciding so. A study taken out after inclusion (a
recorded decision to exclude a retracted report) is named wherever it disappears.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from livingmeta.extraction import row_number
from livingmeta.validation import InputError, Problem


def not_included_problems(
    frame: pd.DataFrame,
    file: str,
    studies: pd.DataFrame,
    exclusions: Mapping[str, str] | None = None,
) -> list[Problem]:
    """A problem for each extraction row whose ``study_id`` is not an included study.

    Parameters
    ----------
    frame
        The extraction table as read (text, spreadsheet row numbers as index).
    studies
        The review's included studies (``read_studies``).
    exclusions
        What happened to studies that were not included, by the id they would have had
        (:func:`screening_exclusions`), to say so in the message.
    """
    column = "study_id" if "study_id" in frame.columns else "study"
    if column not in frame.columns:
        return []
    included = {str(s).casefold(): str(s) for s in studies["study_id"]}
    exclusions = {k.casefold(): v for k, v in (exclusions or {}).items()}
    problems = []
    for pos, study in enumerate(frame[column]):
        if not study or study in included.values():
            continue
        folded = study.casefold()
        if folded in included:
            message = f"study {study!r} is not included; studies.csv spells it {included[folded]!r}"
        elif folded in exclusions:
            message = f"study {study!r} is not included ({exclusions[folded]})"
        else:
            message = f"study {study!r} is not an included study in studies.csv"
            close = difflib.get_close_matches(study, list(included.values()), n=1, cutoff=0.75)
            if close:
                message += f"; did you mean {close[0]!r}?"
        problems.append(Problem(file, row_number(frame, pos), column, message))
    return problems


def screening_exclusions(queue: pd.DataFrame, decisions: pd.DataFrame) -> dict[str, str]:
    """For each excluded record, the study id it would have had (its record id, the part
    after a ``source:`` prefix, and first author + year as proposed for new studies), with
    where and by whom it was excluded: ``excluded at full_text by alice, bob (reason)``."""
    from livingmeta.screening.studies import first_author_family, propose_study_id

    excluded = decisions[decisions["decision"] == "exclude"]
    if excluded.empty:
        return {}
    records = {r["record_id"]: r for r in queue.to_dict("records")}
    out: dict[str, str] = {}
    for record_id, votes in excluded.groupby("record_id", sort=False):
        last_stage = "full_text" if (votes["stage"] == "full_text").any() else "title_abstract"
        votes = votes[votes["stage"] == last_stage]
        who = ", ".join(dict.fromkeys(votes["reviewer"]))
        reasons = "; ".join(dict.fromkeys(r for r in votes["reason"] if r))
        text = f"excluded at {last_stage} by {who}" + (f": {reasons}" if reasons else "")
        record = records.get(record_id, {})
        family = first_author_family(record.get("authors", ""))
        names = [record_id, record_id.rsplit(":", 1)[-1]]
        if family and record.get("year"):
            names.append(propose_study_id(family, str(record["year"]), set()))
        for name in names:
            out.setdefault(name, text)
    return out


def scope_problems(
    frame: pd.DataFrame,
    file: str,
    studies: str | Path,
    queue: str | Path,
    decisions: str | Path,
    reasons: Iterable[str],
) -> list[Problem]:
    """:func:`not_included_problems` from the review's files. None while ``studies.csv``
    is invalid (that is reported on its own) or absent: a review that keeps no study list
    (its extraction table made elsewhere) is not screened here. ``reasons``: the review's
    exclusion reasons, to read the decisions."""
    from livingmeta.screening.decisions import load_decisions
    from livingmeta.screening.queue import read_queue
    from livingmeta.screening.studies import read_studies

    if not Path(studies).exists():
        return []
    try:
        included = read_studies(studies)
    except InputError:
        return []
    try:
        table = load_decisions(decisions, tuple(reasons))
        exclusions = screening_exclusions(read_queue(queue), table)
    except InputError:
        exclusions = {}
    return not_included_problems(frame, file, included, exclusions)


def removed_studies(studies: pd.DataFrame) -> list[dict[str, Any]]:
    """Included studies taken out of the analysis by a recorded decision: ``study_id``,
    ``label``, ``reason`` and ``decided_on`` (empty when studies.csv does not say)."""
    if "exclude_retracted" not in studies.columns:
        return []
    chosen = studies[studies["exclude_retracted"].str.lower() == "yes"]
    return [
        {
            "study_id": row["study_id"],
            "label": row.get("study_label") or row["study_id"],
            "reason": "retracted",
            "decided_on": row.get("decided_on", ""),
        }
        for row in chosen.to_dict("records")
    ]


def removal_reason(study: Mapping[str, Any]) -> str:
    """``retracted, decision recorded on 2026-11-30`` (or ``... in studies.csv`` when the
    file does not date the decision in a ``decided_on`` column)."""
    when = study.get("decided_on") or ""
    recorded = f"decision recorded on {when}" if when else "decision recorded in studies.csv"
    return f"{study['reason']}, {recorded}"


def removed_text(removed: Iterable[Mapping[str, Any]]) -> list[str]:
    """``removed: Wang 2023, retracted, decision recorded on 2026-11-30`` lines."""
    return [f"removed: {study['label']}, {removal_reason(study)}" for study in removed]
