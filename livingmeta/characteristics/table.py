"""The "Characteristics of included studies" table: built once, written as md, csv, html.

One row per included study, one column per study-level field and one per arm of each
per-arm field (arms side by side, under the field's heading). Cells print approved values
as papers do; a value the study does not report prints ``NR`` with a footnote saying where
it was looked for, a study that summarised a field differently (a median where the field
is declared as a mean) gets a footnote naming its summary, and a row's own ``footnote``
text is printed as one. A cell with nothing approved yet stays empty. Outcomes a study
did not report (approved ``reported: no`` rows of the extraction table) are named under
the first table ("Death: Not reported by: Chang 2018."), as under the forest plot, so a
reader of the characteristics sees why a study is missing from an analysis. A study
removed after inclusion (a retraction decision, or every report excluded later; see
:mod:`livingmeta.study_scope`) has no row: it is named under the first table with its
reason ("Removed from the review: Li 2024 (retracted, ...)."), as PRISMA counts it.
"""

from __future__ import annotations

import csv
import html
import io
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from string import ascii_lowercase
from typing import Any

from livingmeta.characteristics import NOT_REPORTED
from livingmeta.characteristics.fields import Arm, CharacteristicsSettings, Field
from livingmeta.characteristics.values import KIND_LABELS, Value, format_value
from livingmeta.files import write_text


@dataclass(frozen=True)
class Cell:
    """A printed cell; ``span`` > 1 when one value holds for every arm (the following
    ``span - 1`` cells are ``covered``)."""

    text: str = ""
    marks: tuple[str, ...] = ()
    span: int = 1
    covered: bool = False


@dataclass(frozen=True)
class TableColumn:
    """A field, or one arm of a per-arm field."""

    field: Field
    arm: Arm | None = None

    @property
    def heading(self) -> str:
        return f"{self.field.label}: {self.arm.label}" if self.arm else self.field.label


@dataclass(frozen=True)
class CharacteristicsTable:
    """One table: ``cells[i][j]`` is study ``studies[i]``'s cell of ``columns[j]``;
    ``footnotes`` pairs each marker with its text; ``not_reported`` pairs an outcome's
    label with the studies (labels) that did not report it; ``removed`` pairs each study
    removed after inclusion (label) with its reason."""

    title: str
    columns: tuple[TableColumn, ...]
    studies: tuple[str, ...]
    cells: tuple[tuple[Cell, ...], ...]
    footnotes: tuple[tuple[str, str], ...]
    not_reported: tuple[tuple[str, tuple[str, ...]], ...] = ()
    removed: tuple[tuple[str, str], ...] = ()

    @property
    def notes(self) -> list[str]:
        """``Death: Not reported by: Chang 2018, Wang 2023.`` per outcome, then
        ``Removed from the review: Li 2024 (retracted, ...).`` when a study was removed."""
        notes = [f"{o}: Not reported by: {', '.join(s)}." for o, s in self.not_reported]
        if self.removed:
            studies = "; ".join(f"{label} ({reason})" for label, reason in self.removed)
            notes.append(f"Removed from the review: {studies}.")
        return notes

    def cell(self, study: str, field: str, arm: str | None = None) -> Cell:
        """The cell of a study (label) and field (name), and arm key for per-arm fields."""
        i = self.studies.index(study)
        j = next(
            j
            for j, c in enumerate(self.columns)
            if c.field.name == field and (c.arm.key if c.arm else None) == arm
        )
        return owner(self.cells[i], j)


def owner(row: Sequence[Cell], j: int) -> Cell:
    """The cell printed at column ``j``: itself, or the one spanning it."""
    while row[j].covered:
        j -= 1
    return row[j]


class _Footnotes:
    """Markers a, b, c... in order of first use; the same text shares its marker."""

    def __init__(self) -> None:
        self.by_text: dict[str, str] = {}

    def mark(self, text: str) -> str:
        if text not in self.by_text:
            self.by_text[text] = ascii_lowercase[len(self.by_text) % 26]
        return self.by_text[text]

    def items(self) -> tuple[tuple[str, str], ...]:
        return tuple((mark, text) for text, mark in self.by_text.items())


def build_tables(
    settings: CharacteristicsSettings,
    values: Iterable[Value],
    studies: Sequence[tuple[str, str]],
    not_reported: Mapping[str, Sequence[str]] | None = None,
    removed: Sequence[tuple[str, str]] = (),
) -> list[CharacteristicsTable]:
    """One table per ``table`` title of the declared fields.

    Parameters
    ----------
    settings
        Fields (columns, in declared order) and arms.
    values
        Validated rows; only approved ones are printed.
    studies
        (study id, label) of the included studies, in the order to print them.
    not_reported
        Outcome label -> labels of the studies that did not report it
        (:func:`not_reported_by`), named under the first table.
    removed
        (label, reason) of the studies removed after inclusion (not in ``studies``),
        named under the first table.
    """
    found = {(v.study_id, v.field, v.arm): v for v in values if v.approved}
    tables = []
    for title in settings.tables:
        fields = [f for f in settings.fields if f.table == title]
        columns = tuple(
            TableColumn(f, arm)
            for f in fields
            for arm in (settings.arms if f.level == "arm" else (None,))
        )
        notes = _Footnotes()
        rows = tuple(
            tuple(_row_cells(fields, settings.arms, found, study_id, notes))
            for study_id, _ in studies
        )
        labels = tuple(label for _, label in studies)
        tables.append(CharacteristicsTable(title, columns, labels, rows, notes.items()))
    missing = tuple((o, tuple(s)) for o, s in (not_reported or {}).items() if s)
    if tables and (missing or removed):
        tables[0] = replace(tables[0], not_reported=missing, removed=tuple(removed))
    return tables


def not_reported_by(
    extraction: Any, outcomes: Sequence[Any], labels: Mapping[str, str]
) -> dict[str, list[str]]:
    """Outcome label -> labels of the studies whose approved row says ``reported: no``.

    Parameters
    ----------
    extraction
        The extraction table as text (:func:`livingmeta.extraction.read_table`).
    outcomes
        The review's pooled outcomes (:class:`~livingmeta.outcomes.Outcome`), in order.
    labels
        Study id -> label (studies.csv); ids it does not know print as they are.
    """
    from livingmeta.approval import is_approved
    from livingmeta.extraction import row_kinds

    needed = {"study_id", "outcome", "reported"}
    if not needed <= set(extraction.columns):
        return {}
    chosen = row_kinds(extraction, {o.name: o for o in outcomes}) == "not_reported"
    if {"approved_by", "approved_on"} <= set(extraction.columns):
        chosen &= is_approved(extraction)
    rows = extraction[chosen]
    out: dict[str, list[str]] = {}
    for outcome in outcomes:
        studies = rows.loc[rows["outcome"] == outcome.name, "study_id"]
        names = list(dict.fromkeys(labels.get(s, s) for s in studies))
        if names:
            out[outcome.label] = names
    return out


def _row_cells(
    fields: Sequence[Field],
    arms: Sequence[Arm],
    found: dict[tuple[str, str, str], Value],
    study_id: str,
    notes: _Footnotes,
) -> Iterable[Cell]:
    for field in fields:
        if field.level == "study":
            yield _cell(found.get((study_id, field.name, "")), field, notes)
            continue
        shared = found.get((study_id, field.name, ""))
        if shared is not None:
            yield Cell(*_text(shared, field, notes), span=len(arms))
            yield from (Cell(covered=True) for _ in arms[1:])
            continue
        for arm in arms:
            yield _cell(found.get((study_id, field.name, arm.key)), field, notes)


def _cell(value: Value | None, field: Field, notes: _Footnotes) -> Cell:
    return Cell(*_text(value, field, notes)) if value is not None else Cell()


def _text(value: Value | None, field: Field, notes: _Footnotes) -> tuple[str, tuple[str, ...]]:
    if value is None:
        return "", ()
    marks = []
    if not value.reported:
        marks.append(notes.mark(f"{NOT_REPORTED}: not reported (checked: {value.source})"))
        text = NOT_REPORTED
    else:
        text = format_value(value)
        if value.kind != field.kind:
            marks.append(notes.mark(f"Reported as {KIND_LABELS[value.kind]}"))
    if value.footnote:
        marks.append(notes.mark(value.footnote))
    return text, tuple(marks)


# ---------------------------------------------------------------------- writers


def write_tables(
    tables: Sequence[CharacteristicsTable],
    markdown: str | os.PathLike[str],
    csv_path: str | os.PathLike[str],
    html_path: str | os.PathLike[str],
) -> None:
    """Write ``characteristics.{md,csv,html}`` atomically."""
    write_text(markdown, to_markdown(tables))
    write_text(csv_path, to_csv(tables))
    write_text(html_path, to_html(tables))


def to_markdown(tables: Sequence[CharacteristicsTable]) -> str:
    """GitHub-flavoured Markdown, one section per table, footnotes under each."""
    out: list[str] = []
    for table in tables:
        out += [f"### {_md(table.title)}", ""]
        headings = ["Study"] + [_md(c.heading) for c in table.columns]
        out.append("| " + " | ".join(headings) + " |")
        out.append("|" + "---|" * len(headings))
        for study, cells in zip(table.studies, table.cells, strict=True):
            texts = [_md(study)] + [_md_cell(c, cells, j) for j, c in enumerate(cells)]
            out.append("| " + " | ".join(texts) + " |")
        if table.footnotes:
            out.append("")
            out += [f"<sup>{m}</sup> {_md(text)}  " for m, text in table.footnotes]
        if table.notes:
            out.append("")
            out += [f"{_md(note)}  " for note in table.notes]
        out.append("")
    return "\n".join(out)


def _md(text: str) -> str:
    """Text safe in a Markdown table cell (pipes, markup and HTML escaped)."""
    escaped = html.escape(text, quote=False)
    for char in "\\|*_`[]":
        escaped = escaped.replace(char, "\\" + char)
    return " ".join(escaped.split())


def _md_cell(cell: Cell, row: Sequence[Cell], j: int) -> str:
    cell = owner(row, j)  # Markdown has no colspan: repeat the value spanning the arms
    marks = "".join(f"<sup>{m}</sup>" for m in cell.marks)
    return _md(cell.text) + marks


def to_csv(tables: Sequence[CharacteristicsTable]) -> str:
    """A long table: one line per table x study x column, the footnotes' text spelled out;
    then a line per outcome a study did not report (value ``NR``) and per study removed
    after inclusion (no characteristic or value; the reason in ``footnotes``)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["table", "study", "characteristic", "arm", "value", "footnotes"])
    for table in tables:
        notes = dict(table.footnotes)
        for study, cells in zip(table.studies, table.cells, strict=True):
            for j, column in enumerate(table.columns):
                cell = owner(cells, j)
                arm = column.arm.label if column.arm else ""
                footnotes = "; ".join(notes[m] for m in cell.marks)
                writer.writerow([table.title, study, column.field.label, arm, cell.text, footnotes])
        for outcome, studies in table.not_reported:
            for study in studies:
                row = [table.title, study, outcome, "", NOT_REPORTED, "outcome not reported"]
                writer.writerow(row)
        for study, reason in table.removed:
            writer.writerow([table.title, study, "", "", "", f"removed from the review: {reason}"])
    return buffer.getvalue()


def to_html(tables: Sequence[CharacteristicsTable]) -> str:
    """HTML tables with two heading rows (field, then arm) and footnotes; all text escaped."""
    parts = []
    for table in tables:
        parts.append('<table class="characteristics">')
        parts.append(f"<caption>{html.escape(table.title)}</caption>")
        parts += _html_head(table)
        parts.append("<tbody>")
        for study, cells in zip(table.studies, table.cells, strict=True):
            tds = "".join(_html_cell(c) for c in cells if not c.covered)
            parts.append(f'<tr><th scope="row">{html.escape(study)}</th>{tds}</tr>')
        parts.append("</tbody>")
        parts.append("</table>")
        if table.footnotes:
            notes = "".join(
                f"<li><sup>{m}</sup> {html.escape(text)}</li>" for m, text in table.footnotes
            )
            parts.append(f'<ul class="footnotes">{notes}</ul>')
        if table.notes:
            items = "".join(f"<li>{html.escape(note)}</li>" for note in table.notes)
            parts.append(f'<ul class="not-reported">{items}</ul>')
    return "\n".join(parts) + "\n"


def _html_head(table: CharacteristicsTable) -> list[str]:
    top, bottom = ['<th rowspan="2" scope="col">Study</th>'], []
    done: set[str] = set()
    for column in table.columns:
        name = column.field.name
        if column.arm is None:
            top.append(f'<th rowspan="2" scope="col">{html.escape(column.field.label)}</th>')
            continue
        if name not in done:
            span = sum(1 for c in table.columns if c.field.name == name)
            label = html.escape(column.field.label)
            top.append(f'<th colspan="{span}" scope="colgroup">{label}</th>')
            done.add(name)
        bottom.append(f'<th scope="col">{html.escape(column.arm.label)}</th>')
    return ["<thead>", f"<tr>{''.join(top)}</tr>", f"<tr>{''.join(bottom)}</tr>", "</thead>"]


def _html_cell(cell: Cell) -> str:
    marks = "".join(f"<sup>{m}</sup>" for m in cell.marks)
    span = f' colspan="{cell.span}"' if cell.span > 1 else ""
    return f"<td{span}>{html.escape(cell.text)}{marks}</td>"
