"""The decision on a retracted report of an included study, made on the status screen:
``exclude_retracted`` (``yes`` or ``no``), ``decided_on`` and ``decided_by`` in ``studies.csv``.

Why here rather than a hand-edit: the workflow stops counting a retracted study only on a
recorded decision, and ``livingmeta status`` lists every retracted report still
undecided. The row is rewritten through :mod:`livingmeta.app.csvedit` (every other byte
kept), under the file's lock, only if the file is still the version the page showed, and
only if ``studies.csv`` then passes the check ``livingmeta validate`` runs on it.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path
from typing import Any

from flask import Blueprint, abort, redirect, request, url_for

from livingmeta.app.csvedit import replace_rows, split
from livingmeta.app.guard import StaleFile
from livingmeta.app.pages import versions, workspace
from livingmeta.app.status import retracted, show
from livingmeta.screening.studies import DECISION_COLUMNS, STUDY_COLUMNS
from livingmeta.validation import Problem

blueprint = Blueprint("retractions", __name__, url_prefix="/status")
#: The decisions offered (``studies.csv``'s ``exclude_retracted``; empty = undecided).
DECISIONS = ("yes", "no")
#: ``studies.csv``'s columns, with the optional date and author of the decision.
COLUMNS = (*STUDY_COLUMNS, *DECISION_COLUMNS)


def decided(data: bytes, study_id: str, decision: str, today: str, reviewer: str) -> bytes:
    """``studies.csv`` with the study's decision recorded, dated and signed (its other
    cells unchanged)."""
    row = next(dict(r.values) for r in split(data)[3] if r.values.get("study_id") == study_id)
    row.update(exclude_retracted=decision, decided_on=today, decided_by=reviewer)
    return replace_rows(data, COLUMNS, lambda r: r.get("study_id") == study_id, [row])


def studies_problems(data: bytes) -> list[Problem]:
    """Problems of ``studies.csv`` as ``data``, from the screening check ``livingmeta
    validate`` runs (queue, decisions and studies together), named after the real file."""
    from livingmeta.app.extraction import shown_path
    from livingmeta.review_check import screening_and_assessment_problems

    files = workspace().files
    with tempfile.TemporaryDirectory() as folder:
        candidate = Path(folder) / files.studies.name
        candidate.write_bytes(data)
        found = screening_and_assessment_problems(
            workspace().review, files.queue, files.decisions, candidate
        )
    shown = shown_path(files.studies)
    return [Problem(shown, p.row, p.column, p.message) for p in found if p.file == str(candidate)]


@blueprint.post("/retracted")
def decide() -> Any:
    """Record ``exclude_retracted`` for an included study with a retracted report."""
    from livingmeta.files import locked, write_bytes

    study_id, decision = request.form.get("study", ""), request.form.get("decision", "")
    if decision not in DECISIONS:
        abort(400, "the decision is 'yes' or 'no'")
    if study_id not in {r["study_id"] for r in retracted()}:
        abort(404, "no included study with a retracted report by that id")
    path = workspace().writable(workspace().files.studies)
    with locked(path):
        now = path.read_bytes()
        try:
            versions().check(path, request.form.get("seen", ""), now)
        except StaleFile as stale:
            return show(stale=stale, code=409)
        new = decided(now, study_id, decision, dt.date.today().isoformat(), workspace().reviewer)
        problems = studies_problems(new)
        if not problems and new != now:
            write_bytes(path, new)
    if problems:
        return show(decision_problems=problems, code=422)
    return redirect(url_for("status.show"))
