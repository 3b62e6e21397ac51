"""The body of the update pull request: counts at a glance, then the records, escaped."""

from __future__ import annotations

import html
import re
from collections.abc import Mapping, Sequence
from typing import Any

from livingmeta.report.run_report import CHANGE_KINDS, PROBLEM_KINDS
from livingmeta.schedule.exit_codes import EXIT_MEANINGS
from livingmeta.schedule.findings import KIND_LABELS, ReviewChanges

#: GitHub refuses pull request bodies above 65,536 characters.
PR_BODY_LIMIT = 60_000

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|~>])")


def md_escape(value: Any, limit: int = 300) -> str:
    """Make untrusted text (titles, errors from sources) inert in GitHub Markdown.

    HTML is escaped (``<script>``, ``<img onerror>`` and comments cannot open), Markdown
    punctuation is backslash-escaped (no links, images, tables or headings can be forged),
    ``@`` becomes an entity (no user or team is pinged), line breaks become spaces (one
    item stays one line), and long text is cut to ``limit`` characters.
    """
    text = " ".join(str(value).split())
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    text = html.escape(text, quote=False)
    text = _MD_SPECIAL.sub(r"\\\1", text)
    return text.replace("@", "&#64;")


def code_span(value: Any, limit: int = 200) -> str:
    """Untrusted text as inline code: nothing inside a code span is interpreted (neither
    Markdown nor HTML), so only backticks and line breaks need removing."""
    text = " ".join(str(value).replace("`", "'").split())[:limit]
    return f"`{text}`"


_ITEM_KEYS = ("record_id", "search_id", "study_id", "outcome", "title", "kind", "source")


def describe_item(item: Any) -> str:
    """One finding as one escaped line (a record, a source, a changed estimate...)."""
    if not isinstance(item, Mapping):
        return md_escape(item)
    head = [md_escape(item[k]) for k in _ITEM_KEYS if item.get(k) not in (None, "")]
    rest = [
        f"{md_escape(k, 40)}: {md_escape(v, 120)}"
        for k, v in item.items()
        if k not in _ITEM_KEYS and v not in (None, "", [], {})
    ]
    return " — ".join(filter(None, [" ".join(head), "; ".join(rest)])) or "(no details)"


def pr_body(
    reviews: Sequence[ReviewChanges],
    *,
    run_id: str | None = None,
    exit_code: int | None = None,
    max_items: int = 50,
) -> str:
    """The body of the update pull request, built from the run's findings.

    Every value that came from outside (record titles, source errors, review ids) goes
    through :func:`md_escape`. The table gives the counts at a glance; the lists below
    give the records, cut at ``max_items`` per kind so that a large first run still fits
    GitHub's size limit.
    """
    lines = ["## Living update", ""]
    meta = []
    if run_id:
        meta.append(f"run {code_span(run_id, 40)}")
    if exit_code is not None:
        meta.append(f"exit code {exit_code} ({EXIT_MEANINGS.get(exit_code, 'unknown')})")
    if meta:
        lines += ["Scheduled " + ", ".join(meta) + ".", ""]
    kinds = [k for k in (*CHANGE_KINDS, *PROBLEM_KINDS) if any(r.counts[k] for r in reviews)]
    if not reviews or not kinds:
        lines += ["Nothing new for reviewers in this run.", ""]
    else:
        lines += [
            "| Review | " + " | ".join(KIND_LABELS[k] for k in kinds) + " |",
            "|---|" + "---:|" * len(kinds),
        ]
        for review in reviews:
            counts = " | ".join(str(int(review.counts[k])) for k in kinds)
            lines.append(f"| {md_escape(review.review, 80)} | {counts} |")
        lines.append("")
    for review in reviews:
        if not any(review.counts[k] for k in kinds):
            continue
        lines += [f"### {md_escape(review.review, 80)}", ""]
        if review.counts["new_candidates"]:
            path = code_span(f"results/{review.review}/retrieval/candidates.csv")
            lines.append(
                f"- [ ] Screen {review.counts['new_candidates']} new candidate(s) in {path}"
            )
        for kind in kinds:
            shown = review.items[kind][:max_items]
            if not shown:
                continue
            lines += ["", f"**{KIND_LABELS[kind]}**", ""]
            lines += [f"- {describe_item(item)}" for item in shown]
            if len(review.items[kind]) > max_items:
                lines.append(f"- … and {len(review.items[kind]) - max_items} more")
        lines += ["", f"Source: {code_span(review.source)}", ""]
    lines += [
        "---",
        "Opened by `scripts/scheduled_run.py`. Merging commits the updated retrieval state;",
        "approved data (`extraction.csv`) changes only through reviewers' own commits.",
    ]
    body = "\n".join(lines) + "\n"
    if len(body) > PR_BODY_LIMIT:
        body = body[:PR_BODY_LIMIT] + "\n\n… (cut: see the run's log for the full list)\n"
    return body
