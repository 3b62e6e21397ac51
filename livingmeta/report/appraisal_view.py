"""What the run report, the summary and the site show of a review's appraisal: the
analysis restricted by risk of bias, the settled judgements' state, sequential
monitoring, the characteristics and summary-of-findings tables, descriptive outcomes.

The tables are the HTML their own packages write (every text escaped there); this module
reads them back and marks them safe for the report's autoescaping template.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from livingmeta.files import read_json
from livingmeta.formatting import pooled_effect
from livingmeta.risk_of_bias import NOT_ASSESSED


def restricted_text(restricted: Mapping[str, Any]) -> str:
    """``Studies not at high risk of bias: 3 studies, OR 0.41 [0.15, 1.12]; left out: Peng
    2019 (High risk)`` or its status. The studies left out are named (with their
    judgement) once any study is judged: a reader sees what the restriction removed."""
    head = str(restricted["description"]).capitalize()
    result = restricted.get("result")
    if restricted["status"] != "pooled" or result is None:
        text = f"{head}: {restricted['status']}"
    else:
        studies = "study" if result["k"] == 1 else "studies"
        text = f"{head}: {result['k']} {studies}, {result['measure']} {pooled_effect(result)}"
    removed = restricted.get("removed") or []
    if removed and restricted["status"] != NOT_ASSESSED:
        text += "; left out: " + ", ".join(f"{r['study']} ({r['judgement']})" for r in removed)
    return text


def restricted_markdown(items: Sequence[tuple[str, Mapping[str, Any]]]) -> str:
    """The summary's section on the restricted analyses (empty when there are none)."""
    if not items:
        return ""
    lines = ["", "## Sensitivity analysis restricted by risk of bias", ""]
    lines += [f"- {label}: {restricted_text(r)}" for label, r in items]
    return "\n".join(lines) + "\n"


def appraisal_view(context: Mapping[str, Any]) -> dict[str, Any]:
    """The report's appraisal sections from the context's ``monitoring`` and
    ``appraisal`` keys (both optional)."""
    from markupsafe import Markup

    from livingmeta.report.report_page import data_uri

    monitoring = [
        {**{k: v for k, v in m.items() if k != "figure"}, "src": data_uri(m["figure"])}
        for m in context.get("monitoring") or []
    ]
    appraisal = context.get("appraisal") or {}
    files = appraisal.get("files") or {}
    labels = appraisal.get("labels") or {}
    view: dict[str, Any] = {"monitoring": monitoring, "risk_of_bias": None}
    for key in ("characteristics", "summary_of_findings"):
        path = files.get(key)
        text = Path(path).read_text(encoding="utf-8") if path and Path(path).exists() else ""
        view[key] = Markup(text) if text.strip() else None
    view["descriptive"] = read_json(files.get("descriptive")).get("outcomes", [])
    settled = read_json(files.get("judgements"))
    if settled:
        view["risk_of_bias"] = {
            "status": settled["status"],
            "disagreements": settled.get("disagreements", []),
            "pending": settled.get("pending", 0),
            "restricted": [
                {"label": labels.get(name, name), "text": restricted_text(r)}
                for name, r in (appraisal.get("restricted") or {}).items()
            ],
        }
    return view
