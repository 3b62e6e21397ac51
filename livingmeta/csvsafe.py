"""CSV cells that a spreadsheet opens as text, never as a formula.

Titles, author lists and labels come from PubMed, ClinicalTrials.gov and database exports,
and reviewers open the CSV files livingmeta writes in Excel or LibreOffice. A cell such as
``=HYPERLINK("http://evil", "click")`` would run there. Following OWASP's rule, a text cell
that starts with ``=``, ``+``, ``-``, ``@``, tab or carriage return is written with a
leading apostrophe, which spreadsheets show as text and hide. :func:`restore` removes it
again when the pipeline reads the file, so the round trip is exact; numbers such as
``-0.5`` are left alone.
"""

from __future__ import annotations

import csv
import re
from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
#: Python's csv module refuses fields over 131,072 characters by default, and a record
#: with a huge title or abstract would then stop the screening step after the registry
#: handed it over. Every CSV livingmeta reads goes through a module that imports this one.
FIELD_SIZE_LIMIT = 2**31 - 1
csv.field_size_limit(max(csv.field_size_limit(), FIELD_SIZE_LIMIT))
_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")


def neutralise(text: str) -> str:
    """``text`` made safe to open in a spreadsheet (see the module docstring).

    >>> neutralise('=HYPERLINK("x")'), neutralise("-0.5"), neutralise("Wang 2023")
    ('\\'=HYPERLINK("x")', '-0.5', 'Wang 2023')
    """
    if text.lstrip("'").startswith(FORMULA_STARTS) and not _NUMBER.fullmatch(text):
        return "'" + text
    return text


def restore(text: str) -> str:
    """Undo :func:`neutralise`: ``restore(neutralise(t)) == t`` for every string ``t``.

    >>> restore(neutralise("'=1+1")), restore("'@ref"), restore("'quoted")
    ("'=1+1", '@ref', "'quoted")
    """
    if text.startswith("'") and text.lstrip("'").startswith(FORMULA_STARTS):
        return text[1:]
    return text


def cell(value: Any) -> str:
    """One CSV cell as livingmeta writes it: lists ``"; "``-joined, booleans yes/no,
    ``None`` empty, text neutralised."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (list, tuple)):
        return neutralise("; ".join(str(v) for v in value))
    return neutralise(str(value))
