"""The summary-of-findings table as a Word document, since journals want ``.docx``.

python-docx builds the document; it is imported here only, so the rest of livingmeta
runs without it. The document holds the title, one table (heading row, then one row per
outcome, footnote markers as superscripts) and the footnotes below it, in landscape.
"""

from __future__ import annotations

import io
import os

from livingmeta.grade.sof import COLUMNS, SummaryOfFindings

FONT_SIZE_PT = 9


def summary_docx(summary: SummaryOfFindings) -> bytes:
    """The ``.docx`` file's bytes."""
    from docx import Document
    from docx.enum.section import WD_ORIENT
    from docx.shared import Pt

    document = Document()
    section = document.sections[0]
    section.orientation = WD_ORIENT.LANDSCAPE
    section.page_width, section.page_height = section.page_height, section.page_width
    document.styles["Normal"].font.size = Pt(FONT_SIZE_PT)
    document.core_properties.title = summary.title
    document.add_heading(summary.title, level=2)
    table = document.add_table(rows=1, cols=len(COLUMNS))
    table.style = "Table Grid"
    for cell, heading in zip(table.rows[0].cells, COLUMNS, strict=True):
        cell.text = ""
        cell.paragraphs[0].add_run(heading).bold = True
    for row in summary.rows:
        for target, cell in zip(table.add_row().cells, row, strict=True):
            target.text = cell.text
            for mark in cell.marks:
                target.paragraphs[0].add_run(mark).font.superscript = True
    for mark, text in summary.footnotes:
        paragraph = document.add_paragraph()
        paragraph.add_run(mark).font.superscript = True
        paragraph.add_run(f" {text}")
    buffer = io.BytesIO()
    document.save(buffer)
    return _without_timestamps(buffer.getvalue())


def _without_timestamps(data: bytes) -> bytes:
    """The same package with every zip entry dated 1980-01-01, so that unchanged data
    give the same bytes on every run (as figures do, see :mod:`livingmeta.plots.save`)."""
    import zipfile

    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w") as target:
        for entry in source.infolist():
            fixed = zipfile.ZipInfo(entry.filename, date_time=(1980, 1, 1, 0, 0, 0))
            fixed.compress_type = zipfile.ZIP_DEFLATED
            target.writestr(fixed, source.read(entry))
    return out.getvalue()


def write_docx(summary: SummaryOfFindings, path: str | os.PathLike[str]) -> None:
    """Write the ``.docx`` atomically."""
    from livingmeta.files import write_bytes

    write_bytes(path, summary_docx(summary))
