"""Extraction screen: one form per included study x outcome, checked as you type with the
workflow's own validation, saved as the one-row edit of the extraction table a person
would make, and approved by a reviewer allowed to approve.

Every check runs :func:`livingmeta.review_check.extraction_file_problems` (what
``livingmeta validate`` and the workflow run) on the table as it would be after the save,
so the messages are the workflow's and an invalid row is never written.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path
from typing import Any

from flask import Blueprint, abort, redirect, render_template, request, url_for

from livingmeta.app.csvedit import replace_rows, split
from livingmeta.app.drafts import (
    RECONCILED,
    comparison,
    draft_rows,
    extractors,
    my_draft,
    save_draft,
)
from livingmeta.app.guard import StaleFile
from livingmeta.app.pages import versions, workspace
from livingmeta.validation import Problem

blueprint = Blueprint("extraction", __name__, url_prefix="/extraction")
#: Row fields beside the numbers: ``reported`` (``no``: the study did not report the
#: outcome) and the row's one ``source``, as the extraction table defines them.
TEXT_FIELDS = ("reported", "source", "notes")


def checked_fields(outcome: Any) -> tuple[str, ...]:
    """Fields whose problems are shown beside them as the form is checked."""
    return (*outcome.arm_columns, "reported", "source")


def columns() -> list[str]:
    """The extraction table's columns in data-contract order (as the template writes)."""
    from livingmeta.approval import extraction_template

    outcomes = {o.name: o for o in workspace().review.outcomes}
    return list(extraction_template(_no_studies(), _no_studies(), outcomes).columns)


def _no_studies() -> Any:
    import pandas as pd

    return pd.DataFrame({"study_id": [], "outcome": []})


def studies() -> list[dict[str, str]]:
    """Included studies (``studies.csv``), those removed after inclusion left out."""
    from livingmeta.screening.studies import read_studies
    from livingmeta.study_scope import studies_in_analysis

    frame = read_studies(workspace().files.studies)
    return studies_in_analysis(workspace().review, frame).to_dict("records")


def key_of(study_id: str, outcome: str) -> Any:
    return lambda row: row.get("study_id") == study_id and row.get("outcome") == outcome


def problems_after(data: bytes, target: Path | None = None) -> list[Problem]:
    """The workflow's problems of the table ``data`` as the file ``target`` (default the
    extraction table; file names point at the real file)."""
    from livingmeta.review_check import extraction_file_problems

    target = target or workspace().files.extraction
    with tempfile.TemporaryDirectory() as folder:
        candidate = Path(folder) / target.name
        candidate.write_bytes(data)
        found = extraction_file_problems(workspace().review, candidate)
    return [Problem(shown_path(target), p.row, p.column, p.message) for p in found]


def saved_row(data: bytes, study_id: str, outcome: str) -> dict[str, str] | None:
    """The table's row for ``study_id`` x ``outcome`` (a copy), ``None`` if it has none."""
    match = key_of(study_id, outcome)
    return next((dict(r.values) for r in split(data)[3] if match(r.values)), None)


def shown_path(path: Path) -> str:
    """``path`` as the workflow names it: relative to the repository folder."""
    root = workspace().root
    return str(path.relative_to(root)) if path.is_relative_to(root) else str(path)


def row_problems(
    data: bytes, study_id: str, outcome: str, target: Path | None = None
) -> tuple[list[Problem], int | None]:
    """Problems of one study x outcome row of ``data``, and its spreadsheet row number."""
    records = split(data)[3]
    match = key_of(study_id, outcome)
    row = next((i + 2 for i, r in enumerate(records) if match(r.values)), None)
    problems = problems_after(data, target)
    return [p for p in problems if p.row == row or p.row is None], row


def edited(
    data: bytes, study: dict[str, str], outcome: Any, form: Any, *, draft: bool = False
) -> bytes:
    """The table with this study x outcome's row as the form says (other cells kept).

    In the extraction table a new row reconciled from two or more drafts names their
    authors as ``extractor`` and ``second_extractor``, and the reviewer who saved it as
    ``reconciled_by`` (again whenever it is changed); otherwise the reviewer is the
    extractor, or the second extractor of a row someone else extracted. A draft
    (``draft``) is the reviewer's own and is never approved."""
    current = saved_row(data, study["study_id"], outcome.name) or {}
    row = {c: current.get(c, "") for c in columns()} | current
    changed = False
    for col in (*outcome.arm_columns, *TEXT_FIELDS):
        value = form.get(col, "").strip()
        changed |= value != row.get(col, "")
        row[col] = value
    row.update(study_id=study["study_id"], outcome=outcome.name)
    row.setdefault("study_label", "")
    row["study_label"] = row["study_label"] or study.get("study_label", "")
    row["year"] = row.get("year") or study.get("year", "")
    reviewer = workspace().reviewer
    first, second = ("", "") if draft else extractors(study["study_id"], outcome)
    if draft:
        row["extractor"], row["second_extractor"] = reviewer, ""
    elif not row.get("extractor"):
        row["extractor"], row["second_extractor"] = (first, second) if first else (reviewer, "")
    elif row["extractor"].casefold() != reviewer.casefold() and not row.get("second_extractor"):
        row["second_extractor"] = reviewer
    if first and (changed or not current):  # settled from two or more drafts
        row[RECONCILED] = reviewer
    if changed or draft:  # changed numbers need a new approval
        row["approved_by"] = row["approved_on"] = ""
    wanted = (*columns(), RECONCILED) if row.get(RECONCILED) else columns()
    return replace_rows(data, wanted, key_of(study["study_id"], outcome.name), [row])


def target(study_id: str, outcome_name: str) -> tuple[dict[str, str], Any]:
    """The study and outcome named in the request (404 for anything else)."""
    study = next((s for s in studies() if s["study_id"] == study_id), None)
    outcome = next((o for o in workspace().review.outcomes if o.name == outcome_name), None)
    if study is None or outcome is None:
        abort(404, "no such included study or outcome")
    return study, outcome


@blueprint.get("/")
def show(**context: Any) -> Any:
    """Every study x outcome with its state, and the form of the one asked for."""
    path = workspace().files.extraction
    data, seen = versions().read(path)
    draft_seen = versions().read(my_draft())[1]
    records = [r.values for r in split(data)[3]] if data else []
    rows = {(r.get("study_id"), r.get("outcome")): r for r in records}
    study_id, outcome_name = request.values.get("study"), request.values.get("outcome")
    form = None
    if study_id and outcome_name:
        study, outcome = target(study_id, outcome_name)
        values = rows.get((study_id, outcome_name), {})
        typed = context.pop("typed", None)
        source = request.values.get("from")
        if source and not typed:  # start from an extractor's draft
            typed = draft_rows(study_id, outcome).get(source) or abort(404, "no such draft")
        form = {"study": study, "outcome": outcome, "row": typed or values, "saved": values,
                "drafts": comparison(study_id, outcome)}  # fmt: skip
    code = context.pop("code", 200)
    page = render_template(
        "extraction.html",
        studies=studies(),
        outcomes=workspace().review.outcomes,
        rows=rows,
        form=form,
        seen=seen,
        draft_seen=draft_seen,
        text_fields=TEXT_FIELDS,
        **context,
    )
    return page, code


def target_of_form() -> tuple[dict[str, str], Any]:
    """The study and outcome a posted form is about (404 for anything else)."""
    return target(request.form.get("study", ""), request.form.get("outcome", ""))


def typed_values(outcome: Any) -> dict[str, str]:
    """What the reviewer typed into the form's fields (kept when a save is refused)."""
    return {c: request.form.get(c, "") for c in (*outcome.arm_columns, *TEXT_FIELDS)}


@blueprint.post("/check")
def check() -> Any:
    """The row's problems as the workflow would report them (an htmx fragment)."""
    study, outcome = target_of_form()
    data = workspace().files.extraction
    current = data.read_bytes() if data.exists() else b""
    problems, _ = row_problems(edited(current, study, outcome, request.form), *_ids(study, outcome))
    return render_template(
        "extraction_problems.html", problems=problems, columns=checked_fields(outcome)
    )


def _ids(study: dict[str, str], outcome: Any) -> tuple[str, str]:
    return study["study_id"], outcome.name


@blueprint.post("/save")
def save() -> Any:
    """Write the row if the table is unchanged since the form was shown and the row valid
    (or, with ``as=draft``, the reviewer's draft: see :func:`~.drafts.save_draft`)."""
    if request.form.get("as") == "draft":
        return save_draft()
    study, outcome = target_of_form()
    typed = typed_values(outcome)
    path = workspace().files.extraction
    try:
        problems = write(path, lambda data: edited(data, study, outcome, typed), study, outcome)
    except StaleFile as stale:
        return show(stale=stale, typed=typed, code=409)
    if problems:
        return show(problems=problems, typed=typed, code=422)
    return redirect(url_for("extraction.show", study=study["study_id"], outcome=outcome.name))


@blueprint.post("/approve")
def approve() -> Any:
    """Approve the saved row in this reviewer's name, today (anyone on the roster may,
    as in the workflow; the reviewer was checked against it at start)."""
    study, outcome = target_of_form()

    def approved(data: bytes) -> bytes:
        row = saved_row(data, *_ids(study, outcome))
        if row is None:
            abort(409, "save the row before approving it")
        row["approved_by"] = workspace().reviewer
        row["approved_on"] = dt.date.today().isoformat()
        return replace_rows(data, columns(), key_of(*_ids(study, outcome)), [row])

    try:
        problems = write(workspace().files.extraction, approved, study, outcome)
    except StaleFile as stale:
        return show(stale=stale, code=409)
    if problems:
        return show(problems=problems, code=422)
    return redirect(url_for("extraction.show", study=study["study_id"], outcome=outcome.name))


def write(path: Path, change: Any, study: dict[str, str], outcome: Any) -> list[Problem]:
    """Apply ``change`` to the table ``path`` (the extraction table or a draft) under its
    lock if unchanged since the form was shown (:class:`StaleFile` otherwise); nothing is
    written when the changed row has problems (returned)."""
    from livingmeta.files import locked, write_bytes

    path = workspace().writable(path)
    draft = path != workspace().writable(workspace().files.extraction)
    with locked(path):
        now = path.read_bytes() if path.exists() else b""
        versions().check(path, request.form.get("draft_seen" if draft else "seen", ""), now)
        new = change(now)
        problems, _ = row_problems(new, *_ids(study, outcome), path)
        if not problems:
            write_bytes(path, new)
    return problems
