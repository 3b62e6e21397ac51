"""Double extraction in the workspace: each extractor's draft (``extraction/<name>.csv``,
the folder the workflow compares), the drafts side by side with the values that differ
marked, and the reconciled row saved to ``extraction.csv``, signed in ``reconciled_by``.

The values that differ are :func:`livingmeta.approval.compare_drafts`'s, the same list the
workflow writes to ``differences.csv``, so ``4`` and ``4.0`` agree in both. A draft is
checked with the extraction table's own validation before it is written.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import redirect, url_for

from livingmeta.app.guard import StaleFile
from livingmeta.app.pages import workspace

#: Row fields compared besides the outcome's numbers.
COMPARED = ("reported", "source")
#: Who saved the extraction table's row settled from two or more drafts: a third
#: reviewer who reconciles is named even before anyone approves (added at the table's end).
RECONCILED = "reconciled_by"


def draft_rows(study_id: str, outcome: Any) -> dict[str, dict[str, str]]:
    """Each extractor's draft row of this study x outcome (extractors in file-name order)."""
    from livingmeta.approval import read_drafts

    out: dict[str, dict[str, str]] = {}
    for extractor, frame in read_drafts(workspace().files.drafts).items():
        if "study_id" not in frame.columns or "outcome" not in frame.columns:
            continue
        rows = frame[(frame["study_id"] == study_id) & (frame["outcome"] == outcome.name)]
        for record in rows.to_dict("records")[:1]:
            out[extractor] = {str(k): str(v) for k, v in record.items()}
    return out


def differing(rows: Mapping[str, Mapping[str, str]], outcome: Any) -> set[str]:
    """The columns on which the drafts disagree: the numbers as the workflow compares
    them, and ``reported`` (ignoring case)."""
    import pandas as pd

    from livingmeta.approval import compare_drafts

    frames = {name: pd.DataFrame([dict(row)], dtype=object) for name, row in rows.items()}
    unsettled = pd.DataFrame({"study_id": [], "outcome": []})
    found = set(compare_drafts(frames, unsettled, {outcome.name: outcome})["column"])
    if len({str(r.get("reported", "")).strip().casefold() for r in rows.values()}) > 1:
        found.add("reported")
    return found


def comparison(study_id: str, outcome: Any) -> dict[str, Any]:
    """What the form shows of the drafts: rows by extractor, the columns compared, and
    those that differ."""
    rows = draft_rows(study_id, outcome)
    return {
        "rows": rows,
        "columns": (*outcome.arm_columns, *COMPARED),
        "differ": differing(rows, outcome) if len(rows) > 1 else set(),
    }


def extractors(study_id: str, outcome: Any) -> tuple[str, str]:
    """``(extractor, second_extractor)`` of a row reconciled from two or more drafts: the
    drafts' authors as the roster spells them (``""`` when fewer than two drafts)."""
    from livingmeta.roster import canonical_names

    names = canonical_names(draft_rows(study_id, outcome), workspace().roster)
    if len(names) < 2:
        return "", ""
    return names[0], "; ".join(names[1:])


def my_draft() -> Path:
    """This reviewer's draft file (inside the review folder; the name was checked)."""
    return workspace().writable(workspace().files.drafts / f"{workspace().reviewer}.csv")


def save_draft() -> Any:
    """Save the form as this reviewer's draft, checked like the extraction table (the
    extraction form's "Save as my draft" button, ``as=draft``).

    Why a button value rather than its own address: htmx sends the form's delayed live
    check to the last clicked button's ``formaction``, which would save a second time."""
    from livingmeta.app import extraction

    study, outcome = extraction.target_of_form()
    typed = extraction.typed_values(outcome)

    def change(data: bytes) -> bytes:
        return extraction.edited(data, study, outcome, typed, draft=True)

    try:
        problems = extraction.write(my_draft(), change, study, outcome)
    except StaleFile as stale:
        return extraction.show(stale=stale, typed=typed, code=409)
    if problems:
        return extraction.show(problems=problems, typed=typed, code=422)
    return redirect(url_for("extraction.show", study=study["study_id"], outcome=outcome.name))
