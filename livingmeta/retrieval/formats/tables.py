"""Tables with a header row: CSV, semicolon-separated or tab-delimited text, and the first
sheet of an Excel workbook (``.xlsx``, read with openpyxl through the same column names).

Screening tools and databases export the same facts under different column names:
Rayyan (``title, authors, journal, year, ... doi, pmid?``), Covidence (``Title, Authors,
Published Year, Journal, DOI, Accession Number``), Scopus (``Authors, Title, Year, Source
title, DOI, PubMed ID, EID``), Web of Science tab-delimited (``AU, TI, SO, PY, DI, PM, UT``),
Lens (``Lens ID, Title, Publication Year, Source Title, Author/s, DOI, PMID``), OpenAlex
(``id, display_name, publication_year, doi, ids.pmid``), Dimensions (a note line, then
``Publication ID, DOI, PMID, Title, PubYear, Source title``), Publish or Perish, Zotero
and Mendeley CSV. Columns are matched by name (case, spaces and punctuation ignored)
against :data:`COLUMNS`; unknown columns are ignored.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Iterator

from livingmeta.retrieval.formats.errors import ImportFormatError, require_title_or_id
from livingmeta.retrieval.formats.fields import Bibliographic, clean, to_record
from livingmeta.retrieval.formats.identity import trusted_accession
from livingmeta.retrieval.records import Record

# Field -> accepted column names, normalised (lower case, letters and digits only), in
# order of preference.
COLUMNS: dict[str, tuple[str, ...]] = {
    "title": (
        "title", "articletitle", "documenttitle", "ti", "titleprimary", "displayname",
        "primarytitle",
    ),
    "abstract": ("abstract", "abstractnote", "ab", "abstracttext"),
    "authors": (
        "authors", "author", "au", "authorsprimary", "authornames", "authorfullnames", "af",
        "authorshipsauthordisplayname", "authorname", "creators",
    ),
    "year": ("year", "publicationyear", "pubyear", "publishedyear", "py", "yearpublished"),
    "date": (
        "publicationdate", "datepublished", "date", "pd", "publisheddate", "coverdate",
        "dateofpublication",
    ),
    "journal": (
        "journal", "sourcetitle", "source", "so", "journaltitle", "publicationtitle",
        "primarylocationsourcedisplayname", "secondarytitle", "publication", "journalname",
        "periodicalfull", "periodical", "journalbook", "periodicalabbrev",
    ),
    "doi": ("doi", "di", "doilink", "doiurl"),
    "pmid": ("pmid", "pubmedid", "pm", "idspmid", "pubmed", "medlinepmid"),
    "pmcid": ("pmcid", "idspmcid", "pmc"),
    "accession": (
        "eid", "ut", "utuniquewosid", "lensid", "publicationid", "centralid", "cochranecentralid",
        "id", "idsopenalex", "accessionnumber", "an",
    ),
    "types": ("documenttype", "publicationtype", "type", "pt", "dt", "itemtype"),
    "keywords": ("keywords", "authorkeywords", "de", "manualtags", "indexkeywords"),
    "volume": ("volume", "vl", "biblivolume"),
    "issue": ("issue", "is", "issuenumber", "number", "biblioissue"),
    "pages": ("pages", "pagerange", "pg"),
    "page_start": ("pagestart", "bp", "firstpage", "startpage", "bibliofirstpage"),
    "page_end": ("pageend", "ep", "lastpage", "endpage", "bibliolastpage"),
    "issn": ("issn", "sn"),
    "language": ("language", "la", "languageoforiginaldocument"),
    "notes": ("notes", "note", "n1", "extra"),
    "registry": (
        "trialregistration", "clinicaltrialnumbers", "ctgovid", "ictrpid", "trialregistryid",
        "registrationnumber", "nctid", "nctnumber",
    ),
    "urls": ("url", "link", "articleurl", "fulltexturl", "landingpageurl"),
}  # fmt: skip
_NORMALISE = re.compile(r"[^a-z0-9]+")
_MAX_FIELD = 16 * 2**20  # abstracts and author lists of big consortia are long


def parse_table(text: str, source: str, *, name: str = "<string>") -> list[Record]:
    """Parse a CSV/TSV export with a header row into Records.

    Raises
    ------
    ImportFormatError
        When no header row names a title column, or a row has neither a title nor an
        identifier (the message names the row).
    """
    lines = text.split("\n")
    header_at = _header_line(lines, name)
    body = "\n".join(lines[header_at:])
    dialect = _dialect(lines[header_at])
    csv.field_size_limit(_MAX_FIELD)
    reader = csv.reader(io.StringIO(body, newline=""), dialect)
    header = next(reader)
    return _records(header, _rows(reader, header_at), source, name)


def parse_xlsx(data: bytes, source: str, *, name: str = "<string>") -> list[Record]:
    """Parse the first sheet of an Excel workbook (.xlsx) like a CSV export.

    Raises
    ------
    ImportFormatError
        For a file openpyxl cannot open, no header row with a title column, or a row
        with neither a title nor an identifier (the message names the row).
    """
    from zipfile import BadZipFile

    from openpyxl import load_workbook  # only for Excel files
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (InvalidFileException, BadZipFile, KeyError, OSError, ValueError) as exc:
        raise ImportFormatError(name, f"not a readable Excel workbook (.xlsx): {exc}") from exc
    try:
        sheet = book.worksheets[0]
        rows = [[_cell_text(cell) for cell in row] for row in sheet.iter_rows(values_only=True)]
    finally:
        book.close()
    header_at = _header_line(["\t".join(row) for row in rows], name)
    body = (
        (header_at + k + 2, row)
        for k, row in enumerate(rows[header_at + 1 :])
        if any(cell.strip() for cell in row)
    )
    return _records(rows[header_at], body, source, name)


def _cell_text(value: object) -> str:
    """A cell as the text a CSV export would hold (2019.0 -> "2019", dates as ISO)."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if hasattr(value, "isoformat"):
        return value.isoformat()[:10]  # type: ignore[attr-defined]
    return str(value)


def _records(
    header: list[str], rows: Iterable[tuple[int, list[str]]], source: str, name: str
) -> list[Record]:
    columns = _column_map(header)
    return [
        _row_record(row, columns, source, name, number, row_line)
        for number, (row_line, row) in enumerate(rows, start=1)
    ]


def _header_line(lines: list[str], name: str) -> int:
    """Index of the header row: the first of the first lines that names a title column."""
    for index, line in enumerate(lines[:20]):
        cells = {_NORMALISE.sub("", c.lower()) for c in re.split(r"[,;\t]", line)}
        if cells & set(COLUMNS["title"]):
            return index
    raise ImportFormatError(
        name,
        "no header row with a title column in the first 20 lines (expected e.g. 'Title', "
        "'Article Title', 'TI')",
        line=1,
    )


def _dialect(header: str) -> type[csv.Dialect]:
    counts = {sep: header.count(sep) for sep in ("\t", ",", ";")}
    delimiter = max(counts, key=lambda sep: counts[sep])

    class Export(csv.excel):
        pass

    Export.delimiter = delimiter
    return Export


def _column_map(header: list[str]) -> dict[str, list[int]]:
    """Field -> indices of the columns that may hold it, in order of preference."""
    index: dict[str, int] = {}
    for k, cell in enumerate(header):
        index.setdefault(_NORMALISE.sub("", cell.lower()), k)
    columns = {}
    for field_name, aliases in COLUMNS.items():
        found = [index[alias] for alias in aliases if alias in index]
        if found:
            columns[field_name] = found
    return columns


def _rows(reader: Iterator[list[str]], header_at: int) -> Iterator[tuple[int, list[str]]]:
    for row in reader:
        if any(cell.strip() for cell in row):
            yield header_at + reader.line_num, row  # type: ignore[attr-defined]


def _row_record(
    row: list[str], columns: dict[str, list[int]], source: str, name: str, number: int, line: int
) -> Record:
    def every(field_name: str) -> list[str]:
        cells = (row[k] for k in columns.get(field_name, ()) if k < len(row))
        return [value for value in map(clean, cells) if value]

    def get(field_name: str) -> str:
        return next(iter(every(field_name)), "")

    title, doi, pmid = get("title"), get("doi"), get("pmid")
    accession = trusted_accession(every("accession"))
    ids = (title, doi, pmid, accession)
    require_title_or_id(name, ids, record=number, line=line, what="row")
    pages = get("pages") or "-".join(filter(None, (get("page_start"), get("page_end"))))
    bib = Bibliographic(
        title=title,
        abstracts=[get("abstract")],
        authors=split_authors(get("authors")),
        dates=[get("year"), get("date")],
        journal=get("journal") or None,
        pmid=_plain_pmid(pmid),
        pmid_texts=[pmid, *every("notes")],
        doi_texts=[doi, get("urls")],
        pmcid_texts=[get("pmcid")],
        registry_texts=every("notes") + every("registry"),
        links=[get("urls"), pmid],
        publication_types=[get("types")],
    )
    bib.extra = {
        "table_row": line,
        "keywords": [k.strip() for k in re.split(r"[;|]", get("keywords")) if k.strip()],
        "volume": get("volume"),
        "issue": get("issue"),
        "pages": pages,
        "issn": get("issn"),
        "language": get("language"),
        "accession": get("accession"),
    }
    return to_record(bib, source, accession)


def _plain_pmid(value: str) -> str | None:
    """A PMID column holds the number itself (or an OpenAlex/PubMed URL ending in it)."""
    value = value.rstrip("/").rsplit("/", 1)[-1].strip()
    return value.lstrip("0") or None if value.isdigit() and len(value) <= 9 else None


def split_authors(value: str) -> list[str]:
    """Split an author cell: ``;``, ``|`` or `` and `` separated, or comma-separated full
    names (``Smith J, Doe K``, ``J Smith, K Doe``) but not ``Smith, John``."""
    if not value:
        return []
    for separator in (";", "|", " and "):
        if separator in value:
            return [a.strip() for a in value.split(separator) if a.strip()]
    parts = [p.strip() for p in value.split(",") if p.strip()]
    if len(parts) > 1 and all(" " in p for p in parts):
        return parts
    return [value]
