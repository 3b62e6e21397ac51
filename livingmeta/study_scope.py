"""Which studies may be pooled, and which were taken out of the analysis.

Only studies included in the review's ``studies.csv`` may appear in the extraction table:
a row for a study excluded at screening, or a typo'd id, would otherwise be pooled (or
silently dropped) without anyone deciding so. A study taken out after inclusion (a
recorded decision to exclude a retracted report, or a screening decision recorded after
inclusion that excludes every report of the study) is named wherever it disappears, and
counted in PRISMA with its reason.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from livingmeta.extraction import row_number
from livingmeta.validation import InputError, Problem

if TYPE_CHECKING:
    from livingmeta.config import Review
    from livingmeta.screening.status import ScreeningStatus


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


def removed_studies(
    studies: pd.DataFrame,
    status: ScreeningStatus | None = None,
    decisions: pd.DataFrame | None = None,
) -> list[dict[str, Any]]:
    """Included studies taken out of the analysis by a recorded decision.

    Two decisions remove a study that ``studies.csv`` lists: ``exclude_retracted: yes``
    (reason ``retracted``), and a screening decision recorded after inclusion that
    excludes every report of the study (given the screening ``status`` and the
    ``decisions`` in effect; reason ``excluded at full_text after inclusion: <reason>``).
    The workflow never deletes a row of ``studies.csv``, so without this the study
    would stay in the analysis while PRISMA counts it as excluded.

    Returns
    -------
    list of dict
        ``study_id``, ``label``, ``reason``, ``decided_on`` (empty when the files do not
        date the decision), ``included_in`` (the run that added the study),
        ``prisma_reason`` (the reason as a PRISMA "reports excluded" line: ``retracted``
        or the screening reason) and ``by_screening`` (whether the screening counts
        already show the exclusion).
    """
    if studies.empty:
        return []
    states = _record_states(status) if status is not None else {}
    dates = _exclusion_dates(decisions)
    out = []
    for row in studies.to_dict("records"):
        base = {
            "study_id": row["study_id"],
            "label": row.get("study_label") or row["study_id"],
            "included_in": row.get("included_in", ""),
        }
        if str(row.get("exclude_retracted", "")).lower() == "yes":
            when = row.get("decided_on", "") or ""
            reason = {"reason": "retracted", "prisma_reason": "retracted"}
            out.append(base | reason | {"decided_on": when, "by_screening": False})
            continue
        records = [r.strip() for r in str(row.get("record_ids", "")).split(";") if r.strip()]
        known = {r: states[r] for r in records if r in states}
        if not known or any(state != "excluded" for state, _, _ in known.values()):
            continue  # a report still included (or undecided), or a study listed by hand
        # the latest exclusion names the decision
        when, stage, reason = max(
            (dates.get((r, st), ""), st, why) for r, (_, st, why) in known.items()
        )
        out.append(
            base
            | {
                "reason": f"excluded at {stage} after inclusion"
                + (f": {reason}" if reason else ""),
                "decided_on": when,
                "prisma_reason": reason or "reason not recorded",
                "by_screening": True,
            }
        )
    return out


def _record_states(status: ScreeningStatus) -> dict[str, tuple[str, str, str]]:
    """Each screened record's ``(state, stage, reason)``: ``excluded`` at the stage that
    excluded it, otherwise its state at the last stage it reached."""
    out: dict[str, tuple[str, str, str]] = {}
    for rec in status.states.to_dict("records"):
        if out.get(rec["record_id"], ("",))[0] != "excluded":
            out[rec["record_id"]] = (rec["state"], rec["stage"], rec["reason"])
    return out


def _exclusion_dates(decisions: pd.DataFrame | None) -> dict[tuple[str, str], str]:
    """The latest date of an ``exclude`` decision in effect, by record and stage."""
    if decisions is None or decisions.empty:
        return {}
    chosen = decisions[decisions["decision"] == "exclude"]
    return {key: str(d) for key, d in chosen.groupby(["record_id", "stage"])["date"].max().items()}


def removed_from_files(
    review: Review, studies: str | Path, queue: str | Path, decisions: str | Path
) -> list[dict[str, Any]]:
    """:func:`removed_studies` from the review's files (paths from the rule). Invalid
    screening files are reported by the checks; then only retractions are read here."""
    from livingmeta.screening.decisions import load_decisions
    from livingmeta.screening.queue import queued_ids
    from livingmeta.screening.settings import ScreeningSettings
    from livingmeta.screening.status import screening_status
    from livingmeta.screening.studies import read_studies

    table = read_studies(studies)
    settings = ScreeningSettings.from_review(review)
    reports = {r.strip() for ids in table.get("record_ids", ()) for r in str(ids).split(";")}
    reports.discard("")
    try:
        # Only the included studies' reports matter: their screening status is settled
        # from their own decisions, so a backfill's whole queue is never held here.
        queued = queued_ids(queue) & reports
        votes = load_decisions(decisions, settings.exclusion_reasons)
    except InputError:
        return removed_studies(table)
    votes = votes[votes["record_id"].isin(queued)]
    records = pd.DataFrame({"record_id": sorted(queued)}, dtype=object)
    status = screening_status(
        records, votes, settings.reviewers_required, settings.stages, settings.exclusion_reasons
    )
    return removed_studies(table, status, votes)


def studies_in_analysis(review: Review, studies: pd.DataFrame) -> pd.DataFrame:
    """The rows of ``studies`` not removed after inclusion: a retracted study, or one
    excluded later, has nothing left to extract, so no to-do list should name it."""
    files = review.files
    removed = removed_from_files(review, files.studies, files.queue, files.decisions)
    gone = {study["study_id"] for study in removed}
    return studies[~studies["study_id"].isin(gone)] if gone else studies


def removal_reason(study: Mapping[str, Any]) -> str:
    """``retracted, decision recorded on 2026-11-30`` (or ``... in studies.csv`` when the
    file does not date the decision in a ``decided_on`` column)."""
    when = study.get("decided_on") or ""
    where = "in studies.csv" if study.get("reason") == "retracted" else "in decisions.csv"
    recorded = f"decision recorded on {when}" if when else f"decision recorded {where}"
    return f"{study['reason']}, {recorded}"


def removed_text(removed: Iterable[Mapping[str, Any]]) -> list[str]:
    """``removed: Wang 2023, retracted, decision recorded on 2026-11-30`` lines."""
    return [f"removed: {study['label']}, {removal_reason(study)}" for study in removed]
