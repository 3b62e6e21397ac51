"""The summary-of-findings table (GRADEpro's layout), built once, written as md, csv, html.

One row per outcome: participants (studies), the relative effect with its CI, the
assumed risk without the intervention, the corresponding risk with it per 1,000 (CI),
the absolute difference per 1,000 (CI) and the certainty (``⊕⊕⊕⊝ Moderate``, or ``Not
yet assessed``), with footnotes giving the reason for every level the certainty was
rated down or up. The Word version is in :mod:`livingmeta.grade.sof_docx`.

Effects use the project's formatter (:mod:`livingmeta.formatting`); counts per 1,000 are
whole numbers, as GRADEpro prints them.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Sequence
from dataclasses import dataclass
from string import ascii_lowercase

from livingmeta.formatting import MINUS, pooled_effect
from livingmeta.grade import NOT_ASSESSED
from livingmeta.grade.absolute import MEASURES, AbsoluteEffect, absolute_effect, pooled_control_risk
from livingmeta.grade.certainty import Certainty
from livingmeta.stats.data import BinaryData, StudyData
from livingmeta.stats.result import PooledResult

COLUMNS = (
    "Outcome",
    "Participants (studies)",
    "Relative effect (95% CI)",
    "Assumed risk without intervention",
    "Corresponding risk with intervention (95% CI)",
    "Absolute difference (95% CI)",
    "Certainty of the evidence (GRADE)",
)
SYMBOLS = {
    "high": "⊕⊕⊕⊕",
    "moderate": "⊕⊕⊕⊝",
    "low": "⊕⊕⊝⊝",
    "very low": "⊕⊝⊝⊝",
}
NO_VALUE = "—"
ASSUMED, CERTAINTY = 3, 6  # columns that carry footnote markers


@dataclass(frozen=True)
class OutcomeEvidence:
    """What one row is built from. ``assumed_source`` says where the assumed risk comes
    from (a footnote); ``certainty`` None means nobody has started rating it."""

    label: str
    result: PooledResult
    participants: int
    studies: int
    absolute: AbsoluteEffect | None = None
    assumed_source: str = ""
    certainty: Certainty | None = None


def outcome_evidence(
    label: str,
    data: StudyData,
    result: PooledResult,
    certainty: Certainty | None = None,
    assumed_risk: float | None = None,
    assumed_source: str | None = None,
    participants: int | None = None,
) -> OutcomeEvidence:
    """Gather a row's numbers: participants, and for binary data the absolute effect.

    The assumed risk is ``assumed_risk`` (a configured risk, e.g. a population's) or by
    default the pooled control-arm risk of the studies (total events / participants).
    ``participants`` defaults to the arms' totals (give it for generic data).
    """
    if participants is None:
        participants = int(sum(sum(getattr(data, name)) for name in _total_columns(data)))
    absolute, source = None, ""
    if result.measure in MEASURES and (isinstance(data, BinaryData) or assumed_risk is not None):
        if assumed_risk is None:
            assumed_risk = pooled_control_risk(data.events_ctrl, data.total_ctrl)
            events, total = int(sum(data.events_ctrl)), int(sum(data.total_ctrl))
            source = f"control-arm risk of the included studies ({events}/{total})"
        low, high = result.conf_int()
        estimate = result.display(result.estimate)
        absolute = absolute_effect(result.measure, estimate, low, high, assumed_risk)
        source = assumed_source or source or "configured risk"
    return OutcomeEvidence(
        label, result, participants, len(data.study), absolute, source, certainty
    )


def _total_columns(data: StudyData) -> tuple[str, ...]:
    for names in (("total_treat", "total_ctrl"), ("n_treat", "n_ctrl")):
        if all(hasattr(data, n) for n in names):
            return names
    return ()


@dataclass(frozen=True)
class Cell:
    """A cell's text and the markers of its footnotes."""

    text: str
    marks: tuple[str, ...] = ()


@dataclass(frozen=True)
class SummaryOfFindings:
    """The table: ``rows`` of cells in :data:`COLUMNS` order; ``footnotes`` pairs each
    marker with its text."""

    title: str
    rows: tuple[tuple[Cell, ...], ...]
    footnotes: tuple[tuple[str, str], ...]

    def texts(self) -> list[list[str]]:
        """The cells' texts without markers (for tests and other writers)."""
        return [[cell.text for cell in row] for row in self.rows]


def build_summary(title: str, outcomes: Sequence[OutcomeEvidence]) -> SummaryOfFindings:
    """The summary-of-findings table of ``outcomes``, footnotes lettered a, b, c, ..."""
    notes: dict[str, str] = {}

    def mark(text: str) -> str:
        if text not in notes:
            notes[text] = _marker(len(notes))
        return notes[text]

    rows = []
    for outcome in outcomes:
        texts = row_cells(outcome)
        marks: list[list[str]] = [[] for _ in texts]
        if outcome.absolute is not None:
            marks[ASSUMED].append(mark(f"Assumed risk: {outcome.assumed_source}."))
        certainty = outcome.certainty
        if certainty is not None:
            marks[CERTAINTY] += [mark(reason) for reason in certainty.reasons()]
            if certainty.stale:
                stale = ", ".join(d.replace("_", " ") for d in certainty.stale)
                note = f"the data behind the rating of {stale} changed since it was recorded"
                marks[CERTAINTY].append(mark(f"{outcome.label}: {note}; re-assess."))
        rows.append(tuple(Cell(t, tuple(m)) for t, m in zip(texts, marks, strict=True)))
    return SummaryOfFindings(title, tuple(rows), tuple((m, t) for t, m in notes.items()))


def _marker(index: int) -> str:
    letters = ascii_lowercase
    return letters[index] if index < 26 else letters[index // 26 - 1] + letters[index % 26]


def row_cells(outcome: OutcomeEvidence) -> tuple[str, ...]:
    """The row's cells, in :data:`COLUMNS` order."""
    result = outcome.result
    effect = pooled_effect(result)
    relative = f"{result.measure} {effect}" if result.is_ratio else NO_VALUE
    absolute = outcome.absolute
    if absolute is None:
        assumed = corresponding = NO_VALUE
        difference = f"{result.measure} {effect}"
    else:
        per = absolute.per_1000()
        assumed = f"{_whole(per['assumed'])} per 1,000"
        corresponding = (
            f"{_whole(per['risk'])} per 1,000 "
            f"({_whole(per['risk_low'])} to {_whole(per['risk_high'])})"
        )
        difference = difference_text(
            per["difference"], per["difference_low"], per["difference_high"]
        )
    return (
        outcome.label,
        f"{outcome.participants} ({outcome.studies} {_studies(outcome)})",
        relative,
        assumed,
        corresponding,
        difference,
        certainty_text(outcome.certainty),
    )


def _studies(outcome: OutcomeEvidence) -> str:
    return "study" if outcome.studies == 1 else "studies"


def certainty_text(certainty: Certainty | None) -> str:
    """``⊕⊕⊕⊝ Moderate``, or ``Not yet assessed``.

    >>> certainty_text(None)
    'Not yet assessed'
    """
    if certainty is None or certainty.level is None:
        return NOT_ASSESSED.capitalize()
    return f"{SYMBOLS[certainty.level]} {certainty.level.capitalize()}"


def _whole(value: float) -> str:
    """A count per 1,000 as GRADEpro prints it: whole, halves rounded away from zero,
    thousands separated."""
    magnitude = math.floor(abs(value) + 0.5)
    return f"{MINUS if value < 0 and magnitude else ''}{magnitude:,}"


def difference_text(difference: float, low: float, high: float) -> str:
    """An absolute difference per 1,000 in words.

    >>> difference_text(163.4, 16.6, 336.2)
    '163 more per 1,000 (from 17 more to 336 more)'
    >>> difference_text(-50, -80, 20)
    '50 fewer per 1,000 (from 80 fewer to 20 more)'
    """

    def words(value: float) -> str:
        return f"{_whole(abs(value))} {'more' if value > 0 else 'fewer'}"

    return f"{words(difference)} per 1,000 (from {words(low)} to {words(high)})"


# ---------------------------------------------------------------------- writers


def to_markdown(summary: SummaryOfFindings) -> str:
    """A Markdown table with its footnotes (cell text escaped)."""
    lines = [f"## {_md(summary.title)}", ""]
    lines.append("| " + " | ".join(COLUMNS) + " |")
    lines.append("|" + "---|" * len(COLUMNS))
    for row in summary.rows:
        shown = [_md(c.text) + "".join(f"<sup>{m}</sup>" for m in c.marks) for c in row]
        lines.append("| " + " | ".join(shown) + " |")
    if summary.footnotes:
        lines.append("")
        lines += [f"- <sup>{m}</sup> {_md(text)}" for m, text in summary.footnotes]
    return "\n".join(lines) + "\n"


def _md(text: str) -> str:
    """Text safe in a Markdown table cell: HTML, pipes and emphasis characters escaped."""
    import html

    escaped = html.escape(text, quote=False)
    for char in "\\|*_`[]":
        escaped = escaped.replace(char, "\\" + char)
    return " ".join(escaped.split())


def to_csv(summary: SummaryOfFindings) -> str:
    """One CSV row per outcome, the footnotes' texts in a last column (cells neutralised
    against spreadsheet formulas)."""
    from livingmeta.csvsafe import cell

    texts = dict(summary.footnotes)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([*COLUMNS, "Footnotes"])
    for row in summary.rows:
        notes = " ".join(f"({m}) {texts[m]}" for c in row for m in c.marks)
        writer.writerow([cell(text) for text in (*(c.text for c in row), notes)])
    return buffer.getvalue()


_HTML = """\
<table class="summary-of-findings">
<caption>{{ title }}</caption>
<thead><tr>{% for c in columns %}<th scope="col">{{ c }}</th>{% endfor %}</tr></thead>
<tbody>
{% for row in rows %}<tr><th scope="row">{{ row[0].text }}</th>
{%- for c in row[1:] %}<td>{{ c.text }}{% for m in c.marks %}<sup>{{ m }}</sup>{% endfor %}</td>
{%- endfor %}</tr>
{% endfor %}</tbody>
</table>
{% if footnotes %}<ol class="footnotes">
{% for m, text in footnotes %}<li><sup>{{ m }}</sup> {{ text }}</li>
{% endfor %}</ol>
{% endif %}"""


def to_html(summary: SummaryOfFindings) -> str:
    """An HTML table and its footnotes; every text escaped (Jinja autoescape)."""
    import jinja2

    env = jinja2.Environment(autoescape=True, keep_trailing_newline=True)
    return env.from_string(_HTML).render(
        title=summary.title,
        columns=COLUMNS,
        rows=summary.rows,
        footnotes=summary.footnotes,
    )


def write_summary(summary: SummaryOfFindings, stem: str, formats: Sequence[str]) -> list[str]:
    """Write ``<stem>.<format>`` for each of ``md``, ``csv``, ``html``, ``docx``
    atomically; returns the paths written."""
    from livingmeta.files import write_text
    from livingmeta.grade.sof_docx import write_docx

    writers = {"md": to_markdown, "csv": to_csv, "html": to_html}
    written = []
    for fmt in formats:
        path = f"{stem}.{fmt}"
        if fmt == "docx":
            write_docx(summary, path)
        elif fmt in writers:
            write_text(path, writers[fmt](summary))
        else:
            raise ValueError(f"format must be one of md, csv, html, docx; got {fmt!r}")
        written.append(path)
    return written
