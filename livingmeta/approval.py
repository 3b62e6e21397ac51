"""The approval gate between extraction and pooling.

Only rows that a named person approved on a date reach the analysis; studies excluded
because of a retraction leave it only through a recorded decision (``exclude_retracted:
yes`` in ``studies.csv``), never silently. Double extraction drafts are compared so that
every disagreement is listed until an approved row settles it.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta
from pathlib import Path

import pandas as pd

from livingmeta.extraction import read_table, row_number
from livingmeta.outcomes import Outcome
from livingmeta.validation import InputError, Problem, is_date

APPROVAL_COLUMNS = ("approved_by", "approved_on")
PROVENANCE_COLUMNS = ("source", "extractor", "second_extractor", *APPROVAL_COLUMNS)
IDENTITY_COLUMNS = ("study_id", "study_label", "year", "outcome")


def approval_problems(frame: pd.DataFrame, file: str) -> list[Problem]:
    """Approval columns present, and filled consistently: a date needs a name and vice versa."""
    missing = [c for c in APPROVAL_COLUMNS if c not in frame.columns]
    if missing:
        return [
            Problem(file, None, c, "column missing (needed by the approval gate)") for c in missing
        ]
    problems = []
    latest = date.today() + timedelta(days=1)  # a day ahead: reviewers east of this clock
    for pos, (who, when) in enumerate(zip(frame["approved_by"], frame["approved_on"], strict=True)):
        row = row_number(frame, pos)
        if when and not is_date(when):
            problems.append(
                Problem(file, row, "approved_on", f"{when!r} is not a date (YYYY-MM-DD)")
            )
        elif when and date.fromisoformat(when) > latest:
            message = f"{when} is in the future (today is {date.today()}): a mistyped year?"
            problems.append(Problem(file, row, "approved_on", message))
        if when and not who:
            problems.append(Problem(file, row, "approved_by", "empty, but approved_on is set"))
        if who and not when:
            problems.append(Problem(file, row, "approved_on", "empty, but approved_by is set"))
    return problems


def extraction_problems(extraction: str | Path, outcomes: Mapping[str, Outcome]) -> list[Problem]:
    """Every problem of an extraction table: the data contract and the approval columns."""
    from livingmeta.extraction import load_extraction

    try:
        raw = read_table(extraction)
    except InputError as exc:
        return list(exc.problems)
    problems = approval_problems(raw, str(extraction))
    try:
        load_extraction(extraction, outcomes)
    except InputError as exc:
        problems += exc.problems
    return problems


def is_approved(frame: pd.DataFrame) -> pd.Series:
    """Rows approved by someone on some date."""
    return (frame["approved_by"] != "") & (frame["approved_on"] != "")


def excluded_studies(studies_path: str | Path) -> set[str]:
    """Study ids whose exclusion (e.g. after a retraction) was decided in ``studies.csv``."""
    path = Path(studies_path)
    if not path.exists():
        return set()
    studies = read_table(path)
    if "exclude_retracted" not in studies.columns:
        return set()
    return set(studies.loc[studies["exclude_retracted"].str.lower() == "yes", "study_id"])


def compare_drafts(
    drafts: Mapping[str, pd.DataFrame], approved: pd.DataFrame, outcomes: Mapping[str, Outcome]
) -> pd.DataFrame:
    """Disagreements between extractors' drafts, for study x outcome pairs not yet settled
    by an approved row: one line per differing value, with every extractor's value."""
    columns = ["study_id", "outcome", "column", *sorted(drafts)]
    settled = set()
    if len(approved):
        ok = approved[is_approved(approved)] if "approved_by" in approved.columns else approved
        settled = set(zip(ok["study_id"], ok["outcome"], strict=True))
    values: dict[tuple[str, str], dict[str, dict[str, str]]] = {}
    for extractor, frame in drafts.items():
        for record in frame.to_dict("records"):
            key = (record.get("study_id", ""), record.get("outcome", ""))
            values.setdefault(key, {})[extractor] = record
    rows = []
    for (study, outcome), by_extractor in sorted(values.items()):
        if (study, outcome) in settled or outcome not in outcomes or len(by_extractor) < 2:
            continue
        for column in outcomes[outcome].arm_columns:
            seen = {name: str(rec.get(column, "")).strip() for name, rec in by_extractor.items()}
            if len({_number_or_text(v) for v in seen.values()}) > 1:
                rows.append({"study_id": study, "outcome": outcome, "column": column, **seen})
    return pd.DataFrame(rows, columns=columns)


def _number_or_text(value: str) -> float | str:
    try:
        return float(value)
    except ValueError:
        return value


def read_drafts(folder: str | Path) -> dict[str, pd.DataFrame]:
    """Each extractor's draft table ``<folder>/<extractor>.csv``."""
    path = Path(folder)
    if not path.is_dir():
        return {}
    return {p.stem: read_table(p) for p in sorted(path.glob("*.csv"))}


#: Columns of ``template.csv`` after the identity, in the data contract's order.
TEMPLATE_TAIL = ("reported", "subgroup", *PROVENANCE_COLUMNS, "notes")
#: Identifiers that help find the paper of a study (from its records in the queue).
FINDING_COLUMNS = ("pmid", "doi", "nct_id")


def extraction_template(
    studies: pd.DataFrame,
    extraction: pd.DataFrame,
    outcomes: Mapping[str, Outcome],
    queue: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Rows still to extract: every included study x configured outcome without a row in
    the extraction table, prefilled with the study's id, label, year and, from its
    records in ``queue``, the PMIDs, DOIs and trial ids to find the paper. Columns in the
    data contract's order: identity, the arm columns (treatment arm first), then
    ``reported``, ``subgroup``, provenance and notes."""
    from livingmeta.outcomes import ARM_COLUMNS

    have = set(zip(extraction.get("study_id", []), extraction.get("outcome", []), strict=True))
    finding = _finding_ids(studies, queue)
    rows = []
    for study in studies.to_dict("records"):
        for name in outcomes:
            if (study["study_id"], name) not in have:
                rows.append(
                    {
                        "study_id": study["study_id"],
                        "study_label": study.get("study_label", ""),
                        "year": study.get("year", ""),
                        **finding.get(study["study_id"], {}),
                        "outcome": name,
                    }
                )
    types = [t for t in ARM_COLUMNS if any(o.type == t for o in outcomes.values())]
    arm = [c for t in types for c in ARM_COLUMNS[t]]
    identity = [*IDENTITY_COLUMNS[:3], *FINDING_COLUMNS, "outcome", "comparison"]
    columns = [*identity, *arm, *TEMPLATE_TAIL]
    return pd.DataFrame(rows, columns=columns, dtype=object).fillna("")


def _finding_ids(studies: pd.DataFrame, queue: pd.DataFrame | None) -> dict[str, dict[str, str]]:
    """PMIDs, DOIs and NCT ids of each study's records (``; ``-joined), from the queue."""
    from livingmeta.screening.queue import split_ids

    if queue is None or queue.empty or "record_ids" not in studies.columns:
        return {}
    by_record = {r["record_id"]: r for r in queue.to_dict("records")}
    out = {}
    for study in studies.to_dict("records"):
        found: dict[str, list[str]] = {c: [] for c in FINDING_COLUMNS}
        for record_id in split_ids(study["record_ids"]):
            record = by_record.get(record_id, {})
            for column, source in zip(FINDING_COLUMNS, ("pmids", "dois", "nct_ids"), strict=True):
                found[column] += split_ids(str(record.get(source, "") or ""))
        out[study["study_id"]] = {c: "; ".join(dict.fromkeys(v)) for c, v in found.items()}
    return out


def require(problems: list[Problem]) -> None:
    """Raise ``InputError`` if there are problems."""
    if problems:
        raise InputError(problems)
