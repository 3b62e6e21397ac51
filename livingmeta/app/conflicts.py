"""Conflicts screen: both reviewers' decisions side by side with the record, and the
consensus that settles it (a ``consensus`` row appended to ``screening/decisions.csv``)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from flask import Blueprint, abort, redirect, render_template, request, url_for

from livingmeta.app.guard import StaleFile
from livingmeta.app.pages import versions, workspace
from livingmeta.app.screening import guarded_append, links, load

blueprint = Blueprint("conflicts", __name__, url_prefix="/conflicts")


@blueprint.get("/")
def show(error: str | None = None, stale: StaleFile | None = None, code: int = 200) -> Any:
    """Every open conflict, each with its record and the decisions that disagree."""
    loaded = load()
    records = {rec["record_id"]: rec for rec in loaded.queue.to_dict("records")}
    conflicts = [
        {"conflict": c, "record": records[c.record_id], "links": links(records[c.record_id])}
        for c in loaded.status.conflicts
    ]
    _, seen = versions().read(loaded.settings.decisions)
    page = render_template(
        "conflicts.html",
        conflicts=conflicts,
        reasons=loaded.settings.exclusion_reasons,
        seen=seen,
        error=error,
        stale=stale,
    )
    return page, code


@blueprint.post("/resolve")
def resolve() -> Any:
    """Record the consensus decision of a conflict."""
    from livingmeta.screening.decisions import append_decision

    form = request.form
    record_id, stage = form.get("record", ""), form.get("stage", "")
    decision, reason = form.get("decision", ""), form.get("reason", "")
    loaded = load()
    if not any(c.record_id == record_id and c.stage == stage for c in loaded.status.conflicts):
        abort(400, "no such conflict")
    if reason and reason not in loaded.settings.exclusion_reasons:
        abort(400, "unknown reason")
    if decision == "exclude" and stage == "full_text" and not reason:
        return show(error="a reason is needed to exclude at full text", code=422)
    note = form.get("note", "").strip()

    def write(path: Path, check: Callable[[bytes], None]) -> None:
        reviewer = workspace().reviewer
        append_decision(
            path, record_id, stage, reviewer, decision, reason, role="consensus", note=note,
            check=check,
        )  # fmt: skip

    try:
        guarded_append(write, form.get("seen", ""))
    except StaleFile as stale:
        return show(stale=stale, code=409)
    except ValueError as exc:
        return show(error=str(exc), code=422)
    return redirect(url_for("conflicts.show"))
