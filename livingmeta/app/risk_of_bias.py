"""Risk-of-bias screen: the configured tool's form, dual assessment and consensus.

Each assessor fills their own file, ``risk_of_bias/<reviewer>.csv``: answers to the
signalling questions (the tool's algorithm proposes each domain's judgement, shown as
they answer) and a judgement row per domain with its support quote and page. An assessor
sees only their own file; where two assessments disagree the disagreement is listed side
by side with a form for the consensus (``consensus.csv``). Every save is validated with
:func:`livingmeta.risk_of_bias.assessments.load_assessment` before it is written.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flask import Blueprint, abort, redirect, render_template, request, url_for

from livingmeta.app.csvedit import replace_rows, split
from livingmeta.app.extraction import shown_path, studies
from livingmeta.app.guard import StaleFile
from livingmeta.app.pages import versions, workspace
from livingmeta.risk_of_bias import CONSENSUS_FILE, OVERALL
from livingmeta.validation import InputError, Problem

if TYPE_CHECKING:
    from livingmeta.risk_of_bias.model import Tool
    from livingmeta.risk_of_bias.settings import RiskOfBiasSettings

blueprint = Blueprint("risk_of_bias", __name__, url_prefix="/risk-of-bias")


def settings() -> RiskOfBiasSettings | None:
    """The review's risk-of-bias settings (None when no tool is configured)."""
    from livingmeta.risk_of_bias.settings import settings_from_config

    fragment = workspace().risk_of_bias
    if not fragment:
        return None
    return settings_from_config(fragment, f"reviews[{workspace().review.id}].risk_of_bias")


def results(rob: RiskOfBiasSettings) -> list[tuple[dict[str, str], str]]:
    """Every (study, outcome) rated: outcome ``""`` for tools that rate whole studies."""
    out = []
    for study in studies():
        tool = rob.tool_for(study["study_id"])
        if tool is None:
            continue
        if not tool.per_outcome:
            out.append((study, ""))
            continue
        for outcome in workspace().review.outcomes:
            if rob.rates_outcome(study["study_id"], outcome.name):
                out.append((study, outcome.name))
    return out


def my_file() -> Path:
    return workspace().writable(workspace().files.risk_of_bias / f"{workspace().reviewer}.csv")


def problems_of(rob: RiskOfBiasSettings, path: Path, data: bytes) -> list[Problem]:
    """Problems of ``data`` as the file ``path`` (validated under its own name)."""
    from livingmeta.risk_of_bias.assessments import load_assessment
    from livingmeta.roster import review_roster
    from livingmeta.workflow.characteristics import included_studies

    review = workspace().review
    with tempfile.TemporaryDirectory() as folder:
        candidate = Path(folder) / path.name
        candidate.write_bytes(data)
        try:  # what settle_risk_of_bias checks: every study of studies.csv, the roster
            load_assessment(
                candidate, rob, roster=review_roster(review),
                studies=[s for s, _ in included_studies(workspace().files.studies)],
                outcomes=[o.name for o in review.outcomes],
            )  # fmt: skip
        except InputError as exc:
            shown = shown_path(path)
            return [Problem(shown, p.row, p.column, p.message) for p in exc.problems]
    return []


def my_rows(data: bytes, study_id: str, outcome: str) -> dict[tuple[str, str], dict[str, str]]:
    """This result's rows of a file by (domain, question)."""
    return {
        (r.values.get("domain", ""), r.values.get("question", "")): r.values
        for r in split(data)[3]
        if r.values.get("study_id") == study_id and r.values.get("outcome", "") == outcome
    }


def proposing(tool: Tool) -> frozenset[str]:
    """The domains the tool proposes a judgement for (always the overall one): a tool with
    no algorithm for a domain (ROBINS-I) leaves its judgement to the assessor, so the form
    shows no proposal there."""
    return frozenset({*(d.key for d in tool.domains if d.key in tool.proposers), OVERALL})


def proposals(tool: Tool, form: Mapping[str, str]) -> dict[str, str | None]:
    """The tool's proposed judgement per domain (and overall) from the form's answers."""
    out: dict[str, str | None] = {}
    judged: dict[str, str] = {}
    for domain in tool.domains:
        answers = {q.key: form.get(f"a|{domain.key}|{q.key}", "") for q in domain.questions}
        out[domain.key] = tool.propose(domain.key, {k: v for k, v in answers.items() if v})
        level = form.get(f"j|{domain.key}") or out[domain.key]
        if level:
            judged[domain.key] = level
    out[OVERALL] = tool.propose_overall(judged)
    return out


def form_rows(tool: Tool, study_id: str, outcome: str, form: Mapping[str, str]) -> list[dict]:
    """The file rows the form stands for: answers, then a judgement row per domain."""
    today = dt.date.today().isoformat()
    rows = []
    for domain in (*tool.domains, None):
        key = domain.key if domain else OVERALL
        base = {"study_id": study_id, "outcome": outcome, "domain": key, "date": today}
        for question in domain.questions if domain else ():
            answer = form.get(f"a|{key}|{question.key}", "")
            if answer:
                rows.append({**base, "question": question.key, "answer": answer})
        rows.append(
            {
                **base,
                "judgement": form.get(f"j|{key}", ""),
                "override_reason": form.get(f"r|{key}", "").strip(),
                "support": form.get(f"s|{key}", "").strip(),
                "page": form.get(f"p|{key}", "").strip(),
            }
        )
    return rows


def target(rob: RiskOfBiasSettings) -> tuple[dict[str, str], str, Tool]:
    study_id, outcome = request.values.get("study", ""), request.values.get("outcome", "")
    for study, rated in results(rob):
        if study["study_id"] == study_id and rated == outcome:
            return study, outcome, rob.tool_for(study_id)
    abort(404, "no such study or result to assess")


@blueprint.get("/")
def show(**context: Any) -> Any:
    """The results to assess with their state; the form of the one asked for."""
    from livingmeta.risk_of_bias.consensus import load_folder

    rob = settings()
    if rob is None:
        return render_template("risk_of_bias.html", rob=None)
    folder = workspace().files.risk_of_bias
    status = load_folder(folder, rob, roster=workspace().roster)
    data, seen = versions().read(my_file())
    form = None
    if request.values.get("study"):
        study, outcome, tool = target(rob)
        saved = my_rows(data, study["study_id"], outcome)
        values = context.pop("typed", None) or _as_form(saved)
        form = {"study": study, "outcome": outcome, "tool": tool, "given": values,
                "proposed": proposals(tool, values), "proposing": proposing(tool)}  # fmt: skip
    _, consensus_seen = versions().read(folder / CONSENSUS_FILE)
    code = context.pop("code", 200)
    page = render_template(
        "risk_of_bias.html",
        rob=rob,
        results=results(rob),
        status=status,
        mine=_assessed(data),
        form=form,
        seen=seen,
        consensus_seen=consensus_seen,
        **context,
    )
    return page, code


def _assessed(data: bytes) -> set[tuple[str, str]]:
    return {(r.values.get("study_id", ""), r.values.get("outcome", "")) for r in split(data)[3]}


def _as_form(saved: Mapping[tuple[str, str], Mapping[str, str]]) -> dict[str, str]:
    values = {}
    for (domain, question), row in saved.items():
        if question:
            values[f"a|{domain}|{question}"] = row.get("answer", "")
        else:
            for prefix, column in (("j", "judgement"), ("r", "override_reason"),
                                   ("s", "support"), ("p", "page")):  # fmt: skip
                values[f"{prefix}|{domain}"] = row.get(column, "")
    return values


@blueprint.post("/propose")
def propose() -> Any:
    """The algorithm's proposals for the answers given so far (an htmx fragment)."""
    rob = settings()
    if rob is None:
        abort(404)
    _, _, tool = target(rob)
    return render_template(
        "risk_of_bias_proposals.html",
        tool=tool,
        proposing=proposing(tool),
        proposed=proposals(tool, request.form),
    )


@blueprint.post("/save")
def save() -> Any:
    """Write this assessor's rows of the result (validated, unchanged-file check)."""
    from livingmeta.risk_of_bias.assessments import ASSESSMENT_COLUMNS

    rob = settings()
    if rob is None:
        abort(404)
    study, outcome, tool = target(rob)
    rows = form_rows(tool, study["study_id"], outcome, request.form)
    match = _result_match(study["study_id"], outcome)
    change = lambda data: replace_rows(data, ASSESSMENT_COLUMNS, match, rows)  # noqa: E731
    return _write(rob, my_file(), change, dict(request.form))


@blueprint.post("/consensus")
def consensus() -> Any:
    """Settle one disagreement with a row of ``consensus.csv``."""
    from livingmeta.risk_of_bias.assessments import CONSENSUS_COLUMNS

    rob = settings()
    if rob is None:
        abort(404)
    form = request.form
    study_id, outcome, domain = form.get("study", ""), form.get("outcome", ""), form.get("domain")
    row = {
        "study_id": study_id, "outcome": outcome, "domain": domain,
        "judgement": form.get("judgement", ""), "support": form.get("support", "").strip(),
        "page": form.get("page", "").strip(), "date": dt.date.today().isoformat(),
        "agreed_by": form.get("agreed_by", "").strip(),
    }  # fmt: skip

    def match(r: Mapping[str, str]) -> bool:
        same = _result_match(study_id, outcome)(r)
        return same and r.get("domain") == domain and not r.get("question")

    path = workspace().writable(workspace().files.risk_of_bias / CONSENSUS_FILE)
    change = lambda data: replace_rows(data, CONSENSUS_COLUMNS, match, [row])  # noqa: E731
    return _write(rob, path, change, None)


def _result_match(study_id: str, outcome: str) -> Callable[[Mapping[str, str]], bool]:
    return lambda r: r.get("study_id") == study_id and r.get("outcome", "") == outcome


def _write(
    rob: RiskOfBiasSettings, path: Path, change: Callable[[bytes], bytes], typed: Any
) -> Any:
    """Apply ``change`` under the file's lock if unchanged since shown and still valid."""
    from livingmeta.files import locked, write_bytes

    field = "seen" if path.name != CONSENSUS_FILE else "consensus_seen"
    with locked(path):
        now = path.read_bytes() if path.exists() else b""
        try:
            versions().check(path, request.form.get(field, ""), now)
        except StaleFile as stale:
            return show(stale=stale, typed=typed, code=409)
        new = change(now)
        problems = problems_of(rob, path, new)
        if not problems:
            write_bytes(path, new)
    if problems:
        return show(problems=problems, typed=typed, code=422)
    study, outcome = request.form.get("study", ""), request.form.get("outcome", "")
    if typed is None:
        return redirect(url_for("risk_of_bias.show"))
    return redirect(url_for("risk_of_bias.show", study=study, outcome=outcome))
