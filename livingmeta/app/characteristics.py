"""Characteristics screen: the fields declared in config (``characteristics:`` and the
descriptive outcomes), one form per included study with a line per field (per arm for
per-arm fields), written to ``characteristics.csv`` as the workflow reads it. A line's
``kind`` (empty: the field's), ``footnote`` and ``notes`` are edited too; choosing another
kind redraws the line with that kind's inputs.

Every save is checked with :func:`livingmeta.characteristics.extraction.load_characteristics`,
with the fields, included studies and roster the workflow's
``tabulate_characteristics`` uses, on the file as it would be after the save; only the
rows that changed are rewritten (see :mod:`livingmeta.app.csvedit`).
"""

from __future__ import annotations

import datetime as dt
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flask import Blueprint, abort, redirect, render_template, request, url_for

from livingmeta.app.csvedit import replace_rows, split
from livingmeta.app.extraction import shown_path, studies
from livingmeta.app.guard import StaleFile
from livingmeta.app.pages import versions, workspace
from livingmeta.validation import InputError, Problem

if TYPE_CHECKING:
    from livingmeta.characteristics.fields import CharacteristicsSettings, Field

blueprint = Blueprint("characteristics", __name__, url_prefix="/characteristics")

#: The inputs of each kind, with the label shown (columns of ``characteristics.csv``).
INPUTS = {
    "mean_sd": (("value", "mean"), ("spread", "SD")),
    "median_iqr": (("value", "median"), ("low", "Q1"), ("high", "Q3"), ("spread", "IQR")),
    "median_range": (("value", "median"), ("low", "min"), ("high", "max")),
    "n_of_N": (("value", "n"), ("total", "N"), ("percent", "%")),
    "number": (("value", "value"),),
    "text": (("text", "text"),),
    "choice": (("text", "choice"),),
}
#: Inputs every line has besides the kind's numbers.
ROW_INPUTS = ("reported", "source")
#: The line's own kind (empty: the field's), footnote and notes. Changed only when the
#: form sends them, so a form posted without them keeps what the file holds.
DETAILS = ("kind", "footnote", "notes")


def fields() -> CharacteristicsSettings | None:
    """The fields the file may hold, as the workflow reads them (None: none declared)."""
    from livingmeta.workflow.characteristics import characteristics_settings

    return characteristics_settings(workspace().review)[1]


def lines(settings: CharacteristicsSettings) -> list[tuple[Field, str]]:
    """Every (field, arm) of a study's form: arm ``""`` for a study-level field."""
    out: list[tuple[Field, str]] = []
    for field in settings.fields:
        arms = [a.key for a in settings.arms] if field.level == "arm" else [""]
        out += [(field, arm) for arm in arms]
    return out


def name_of(field: str, arm: str, column: str) -> str:
    """The form input of one cell (field and arm names are ``[a-z0-9_]``)."""
    return f"{field}-{arm}-{column}"


def inputs(field: Field, kind: str) -> tuple[tuple[str, str], ...]:
    return INPUTS.get(kind, INPUTS[field.kind])


def key_of(study_id: str, field: str, arm: str) -> Any:
    """Matches the row of ``study_id`` x ``field`` x ``arm``."""
    wanted = (study_id, field, arm)
    return lambda r: (r.get("study_id"), r.get("field"), r.get("arm", "")) == wanted


def rows_of(data: bytes, study_id: str) -> dict[tuple[str, str], dict[str, str]]:
    """This study's rows by (field, arm)."""
    return {
        (r.values.get("field", ""), r.values.get("arm", "")): dict(r.values)
        for r in split(data)[3]
        if r.values.get("study_id") == study_id
    }


def edited(data: bytes, study_id: str, settings: CharacteristicsSettings, form: Any) -> bytes:
    """The file with this study's lines as the form says: a changed line is rewritten in
    place (its approval cleared, the reviewer recorded as extractor if none was), a new
    one appended, an untouched or still-empty one left as it is."""
    from livingmeta.characteristics.extraction import CHARACTERISTICS_COLUMNS

    saved = rows_of(data, study_id)
    for field, arm in lines(settings):
        current = saved.get((field.name, arm))
        row = {c: "" for c in CHARACTERISTICS_COLUMNS} | (current or {})
        row.update(study_id=study_id, field=field.name, arm=arm)
        sent = [c for c in DETAILS if name_of(field.name, arm, c) in form]
        before = [c for c, _ in inputs(field, row.get("kind") or field.kind)]
        for column in sent:
            row[column] = str(form.get(name_of(field.name, arm, column))).strip()
        columns = [c for c, _ in inputs(field, row.get("kind") or field.kind)]
        for column in set(before) - set(columns):  # the old kind's values mean nothing now
            row[column] = ""
        for column in (*columns, *ROW_INPUTS):
            row[column] = str(form.get(name_of(field.name, arm, column), "")).strip()
        changed = any(row[c] != (current or {}).get(c, "") for c in CHARACTERISTICS_COLUMNS)
        filled = any(row[c] for c in (*columns, *ROW_INPUTS, *sent))
        if not changed or (current is None and not filled):
            continue
        row["extractor"] = row.get("extractor") or workspace().reviewer
        row["approved_by"] = row["approved_on"] = ""
        match = key_of(study_id, field.name, arm)
        data = replace_rows(data, CHARACTERISTICS_COLUMNS, match, [row])
    return data


def approved(data: bytes, study_id: str) -> bytes:
    """The file with this study's extracted, unapproved lines approved by the reviewer today."""
    from livingmeta.characteristics.extraction import CHARACTERISTICS_COLUMNS

    today = dt.date.today().isoformat()
    for (field, arm), row in rows_of(data, study_id).items():
        if row.get("approved_by") or not _extracted(row):
            continue
        row.update(approved_by=workspace().reviewer, approved_on=today)
        data = replace_rows(data, CHARACTERISTICS_COLUMNS, key_of(study_id, field, arm), [row])
    return data


def _extracted(row: Mapping[str, str]) -> bool:
    from livingmeta.characteristics.values import NUMBER_COLUMNS

    return any(row.get(c) for c in (*NUMBER_COLUMNS, "text", "reported"))


def problems_of(data: bytes, study_id: str, settings: CharacteristicsSettings) -> list[Problem]:
    """The workflow's problems of this study's rows of ``data`` (and of the whole file),
    named after the real file."""
    from livingmeta.characteristics.extraction import load_characteristics
    from livingmeta.roster import review_roster
    from livingmeta.workflow.characteristics import included_studies

    files = workspace().files
    path = files.characteristics
    mine = {i + 2 for i, r in enumerate(split(data)[3]) if r.values.get("study_id") == study_id}
    with tempfile.TemporaryDirectory() as folder:
        candidate = Path(folder) / path.name
        candidate.write_bytes(data)
        try:
            load_characteristics(
                candidate, settings, studies=[s for s, _ in included_studies(files.studies)],
                roster=review_roster(workspace().review),
            )  # fmt: skip
        except InputError as exc:
            shown = shown_path(path)
            found = [p for p in exc.problems if p.row is None or p.row in mine]
            return [Problem(shown, p.row, p.column, p.message) for p in found]
    return []


def beside(data: bytes, problems: list[Problem]) -> dict[str, list[str]]:
    """Each problem's message by the form input it is about (its row's field and arm)."""
    by_row = {i + 2: r.values for i, r in enumerate(split(data)[3])}
    out: dict[str, list[str]] = {}
    for problem in problems:
        row = by_row.get(problem.row or 0)
        if row is not None and problem.column:
            name = name_of(row.get("field", ""), row.get("arm", ""), problem.column)
            out.setdefault(name, []).append(problem.message)
    return out


def target() -> tuple[CharacteristicsSettings, dict[str, str]]:
    """The settings and the included study named in the request (404 otherwise)."""
    settings = fields()
    study = next((s for s in studies() if s["study_id"] == request.values.get("study")), None)
    if settings is None or study is None:
        abort(404, "no characteristics declared, or no such included study")
    return settings, study


@blueprint.get("/")
def show(**context: Any) -> Any:
    """Included studies with their state, and the form of the one asked for."""
    from livingmeta.characteristics import KINDS

    settings = fields()
    data, seen = versions().read(workspace().files.characteristics)
    form = None
    if settings is not None and request.values.get("study"):
        settings, study = target()
        saved = rows_of(data, study["study_id"])
        typed = context.pop("typed", None)
        form = {"study": study, "saved": saved, "given": typed or _as_form(saved)}
    code = context.pop("code", 200)
    page = render_template(
        "characteristics.html",
        settings=settings,
        lines=lines(settings) if settings else [],
        inputs=inputs,
        name_of=name_of,
        studies=studies(),
        state={s["study_id"]: _state(rows_of(data, s["study_id"])) for s in studies()},
        kinds=KINDS,
        form=form,
        seen=seen,
        **context,
    )
    return page, code


def _as_form(saved: Mapping[tuple[str, str], Mapping[str, str]]) -> dict[str, str]:
    return {name_of(f, a, c): v for (f, a), row in saved.items() for c, v in row.items()}


def _state(rows: Mapping[tuple[str, str], Mapping[str, str]]) -> str:
    done = [r for r in rows.values() if _extracted(r)]
    if not done:
        return "to extract"
    unapproved = sum(not r.get("approved_by") for r in done)
    return f"{len(done)} value(s), {unapproved} not approved" if unapproved else "approved"


@blueprint.post("/check")
def check() -> Any:
    """The study's problems as the workflow would report them (an htmx fragment)."""
    settings, study = target()
    path = workspace().files.characteristics
    current = path.read_bytes() if path.exists() else b""
    new = edited(current, study["study_id"], settings, request.form)
    problems = problems_of(new, study["study_id"], settings)
    return render_template(
        "characteristics_problems.html", problems=problems, beside=beside(new, problems),
        names=input_names(settings, rows_of(new, study["study_id"])),
    )  # fmt: skip


def input_names(
    settings: CharacteristicsSettings, saved: Mapping[tuple[str, str], Mapping[str, str]]
) -> list[str]:
    """Every input of a study's form (a line's inputs follow its row's kind, if given)."""
    names = []
    for field, arm in lines(settings):
        kind = (saved.get((field.name, arm)) or {}).get("kind") or field.kind
        columns = [c for c, _ in inputs(field, kind)]
        names += [name_of(field.name, arm, c) for c in (*columns, *ROW_INPUTS, *DETAILS)]
    return names


@blueprint.post("/line")
def line() -> Any:
    """One line of the form again, its inputs following the kind chosen (an htmx fragment
    sent when a line's kind changes; what was typed stays)."""
    from livingmeta.characteristics import KINDS

    settings, study = target()
    field = settings.field(request.args.get("field", ""))
    arm = request.args.get("arm", "")
    if field is None or (field, arm) not in lines(settings):
        abort(404, "no such field or arm")
    data = versions().read(workspace().files.characteristics)[0]
    form = {"study": study, "saved": rows_of(data, study["study_id"]), "given": request.form}
    return render_template(
        "characteristics_line.html", f=field, arm=arm, form=form, settings=settings,
        inputs=inputs, name_of=name_of, kinds=KINDS,
    )  # fmt: skip


@blueprint.post("/save")
def save() -> Any:
    """Write the study's lines if the file is unchanged since shown and they are valid."""
    settings, study = target()
    typed = dict(request.form)
    return _write(lambda data: edited(data, study["study_id"], settings, request.form), typed)


@blueprint.post("/approve")
def approve() -> Any:
    """Approve the study's extracted lines in this reviewer's name, today."""
    study = target()[1]
    return _write(lambda data: approved(data, study["study_id"]), None)


def _write(change: Any, typed: Mapping[str, str] | None) -> Any:
    """Apply ``change`` under the file's lock if unchanged since the form was shown;
    nothing is written when the study's rows then have problems."""
    from livingmeta.files import locked, write_bytes

    settings, study = target()
    path = workspace().writable(workspace().files.characteristics)
    with locked(path):
        now = path.read_bytes() if path.exists() else b""
        try:
            versions().check(path, request.form.get("seen", ""), now)
        except StaleFile as stale:
            return show(stale=stale, typed=typed, code=409)
        new = change(now)
        problems = problems_of(new, study["study_id"], settings)
        if not problems and new != now:
            write_bytes(path, new)
    if problems:
        return show(problems=problems, beside=beside(new, problems), typed=typed, code=422)
    return redirect(url_for("characteristics.show", study=study["study_id"]))
