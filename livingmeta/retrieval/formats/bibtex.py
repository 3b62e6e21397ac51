"""BibTeX (``@article{key, title = {...}, ...}``): Google Scholar, Zotero, Mendeley, JabRef.

Values may be braced, quoted, bare numbers or ``@string`` macros joined with ``#``. LaTeX
accents (``{\\"u}``, ``\\'e``) become Unicode characters and other markup is dropped.
"""

from __future__ import annotations

import re
import unicodedata

from livingmeta.retrieval.formats.errors import ImportFormatError, require_title_or_id
from livingmeta.retrieval.formats.fields import Bibliographic, to_record
from livingmeta.retrieval.formats.identity import trusted_accession
from livingmeta.retrieval.records import Record

_ENTRY = re.compile(r"@\s*([A-Za-z]+)\s*([{(])")
_FIELD_NAME = re.compile(r"\s*,?\s*([A-Za-z][\w:.+-]*)\s*=\s*")
_KEY = re.compile(r"\s*([^,\s{}()]*)\s*,")
_ACCENTS = {"\"": "\u0308", "'": "\u0301", "`": "\u0300", "^": "\u0302", "~": "\u0303",
            "=": "\u0304", ".": "\u0307", "c": "\u0327", "v": "\u030c", "u": "\u0306",
            "H": "\u030b", "k": "\u0328", "r": "\u030a"}  # fmt: skip
_ACCENT = re.compile(
    r"\\([\"'`^~=.])\s*\{?\\?([A-Za-z])\}?|\\([cvuHkr])(?:\s*\{\\?([A-Za-z])\}|\s+([A-Za-z]))"
)
_LETTERS = {"ss": "ß", "o": "ø", "O": "Ø", "ae": "æ", "AE": "Æ", "aa": "å", "AA": "Å",
            "l": "ł", "L": "Ł", "i": "ı", "oe": "œ", "OE": "Œ"}  # fmt: skip
_LETTER = re.compile(r"\\(ss|ae|AE|aa|AA|oe|OE|[oOlLi])(?![A-Za-z])\s*")
_ESCAPED = re.compile(r"\\([&%$#_{}])")
_COMMAND = re.compile(r"\\[A-Za-z]+\*?\s*")
_SKIPPED = frozenset({"comment", "preamble"})


def parse_bibtex(text: str, source: str, *, name: str = "<string>") -> list[Record]:
    """Parse BibTeX text into Records.

    Raises
    ------
    ImportFormatError
        For an entry whose braces or quotes do not close, or an entry with neither a title
        nor an identifier.
    """
    macros: dict[str, str] = {}
    records = []
    position = 0
    while (match := _ENTRY.search(text, position)) is not None:
        kind = match.group(1).lower()
        line = text.count("\n", 0, match.start()) + 1
        number = len(records) + 1
        end = _closing(text, match.end() - 1, name, number, line)
        body = text[match.end() : end]
        position = end + 1
        if kind in _SKIPPED:
            continue
        if kind == "string":
            macros.update(_fields(body, macros, name, number, line))
            continue
        key_match = _KEY.match(body)
        key = key_match.group(1) if key_match else ""
        fields = _fields(body[key_match.end() :] if key_match else body, macros, name, number, line)
        records.append(_record(kind, key, fields, source, name, number, line))
    return records


def _closing(text: str, start: int, name: str, number: int, line: int) -> int:
    """Index of the brace or parenthesis closing the one at ``start``."""
    opener = text[start]
    closer = "}" if opener == "{" else ")"
    depth = 0
    for index in range(start, len(text)):
        char = text[index]
        if char == "{" or (opener == "(" and char == "("):
            depth += 1
        elif char == "}" or (opener == "(" and char == ")"):
            depth -= 1
            if depth == 0 and char == closer:
                return index
    raise ImportFormatError(
        name, "entry is not closed (unbalanced braces)", record=number, line=line
    )


def _fields(body: str, macros: dict[str, str], name: str, number: int, line: int) -> dict[str, str]:
    fields: dict[str, str] = {}
    position = 0
    while (match := _FIELD_NAME.match(body, position)) is not None:
        field_name = match.group(1).lower()
        value, position = _value(body, match.end(), macros, name, number, line)
        fields[field_name] = value
    return fields


def _value(
    body: str, position: int, macros: dict[str, str], name: str, number: int, line: int
) -> tuple[str, int]:
    parts = []
    while True:
        while position < len(body) and body[position].isspace():
            position += 1
        if position >= len(body):
            break
        char = body[position]
        if char == "{":
            end = _closing(body, position, name, number, line)
            parts.append(body[position + 1 : end])
            position = end + 1
        elif char == '"':
            end = _closing_quote(body, position, name, number, line)
            parts.append(body[position + 1 : end])
            position = end + 1
        else:
            word = re.match(r"[^\s,#}]+", body[position:])
            token = word.group(0) if word else ""
            parts.append(macros.get(token.lower(), token))
            position += max(len(token), 1)
        while position < len(body) and body[position].isspace():
            position += 1
        if position < len(body) and body[position] == "#":
            position += 1
            continue
        break
    return latex_to_text("".join(parts)), position


def _closing_quote(body: str, start: int, name: str, number: int, line: int) -> int:
    depth = 0
    for index in range(start + 1, len(body)):
        char = body[index]
        if char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
        elif char == '"' and depth == 0 and body[index - 1] != "\\":
            return index
    raise ImportFormatError(name, "quoted value is not closed", record=number, line=line)


def latex_to_text(value: str) -> str:
    """``Schr{\\"o}dinger's \\emph{cat} \\& co`` -> ``Schrödinger's cat & co``."""
    if "\\" in value:
        value = _ACCENT.sub(_accented, value)
        value = _LETTER.sub(lambda m: _LETTERS[m.group(1)], value)
        value = _ESCAPED.sub(lambda m: "\x00" + m.group(1), value)
        value = _COMMAND.sub("", value)
    value = value.replace("{", "").replace("}", "").replace("\x00", "")
    value = value.replace("---", "\u2014").replace("--", "\u2013").replace("~", " ")
    return unicodedata.normalize("NFC", " ".join(value.split()))


def _accented(match: re.Match[str]) -> str:
    accent = match.group(1) or match.group(3)
    letter = match.group(2) or match.group(4) or match.group(5)
    return letter + _ACCENTS[accent]


def _record(
    kind: str, key: str, fields: dict[str, str], source: str, name: str, number: int, line: int
) -> Record:
    title = fields.get("title", "")
    ids = (title, fields.get("doi"), fields.get("pmid"))
    require_title_or_id(name, ids, record=number, line=line, what=f"entry {key!r}")
    pmid = fields.get("pmid", "").strip()
    bib = Bibliographic(
        title=title,
        abstracts=[fields.get("abstract", "")],
        authors=[a for a in re.split(r"\s+and\s+", fields.get("author", "")) if a.strip()],
        dates=[fields.get("year", ""), fields.get("date", "")],
        journal=fields.get("journal") or fields.get("journaltitle") or fields.get("booktitle"),
        pmid=pmid.lstrip("0") or None if pmid.isdigit() else None,
        pmid_texts=[fields.get("note", ""), fields.get("annote", "")],
        doi_texts=[fields.get("doi", ""), fields.get("url", "")],
        pmcid_texts=[fields.get("pmcid", ""), fields.get("note", "")],
        registry_texts=[fields.get("note", "")],
        links=[fields.get("url", "")],
        publication_types=[kind],
    )
    bib.extra = {
        "bibtex_key": key,
        "keywords": [k.strip() for k in re.split(r"[;,]", fields.get("keywords", "")) if k.strip()],
        "volume": fields.get("volume"),
        "issue": fields.get("number"),
        "pages": fields.get("pages"),
        "issn": fields.get("issn"),
        "language": fields.get("language"),
    }
    accession = trusted_accession([fields.get("eid"), fields.get("openalex")])
    return to_record(bib, source, accession)
