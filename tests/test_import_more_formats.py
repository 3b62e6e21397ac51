"""RefWorks tagged, Cochrane Library plain text, OpenAlex JSON and Excel .xlsx imports.

Samples are SYNTHETIC unless marked: written for these tests from the formats' documented
shapes (RefWorks tagged format as documented by Ex Libris and implemented by
citation-js/plugin-refworks; the OpenAlex Work object; the Cochrane Library plain-text
export), with invented content.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from livingmeta.retrieval.importers import ImportFormatError, detect_format, read_records
from livingmeta.retrieval.records import Record

# SYNTHETIC: RefWorks tagged, two records separated by a blank line, a wrapped abstract,
# the date split over YR and FD, and a record closed by "ER" as some exporters write it.
REFWORKS = """\
RT Journal Article
SR Electronic(1)
ID 17
A1 Doe, Jane
A1 Roe, Richard K.
T1 Aspirin for synthetic headaches: a randomised trial
JF Journal of Synthetic Medicine
JO J Synth Med
YR 2019
FD May 12
VO 12
IS 3
SP 100
OP 110
K1 aspirin; headache
AB Background: a synthetic
trial of aspirin.
DO 10.9999/jsm.2019.100
PMID 31617467
NO Trial registration: ClinicalTrials.gov NCT01234567
LA English

RT Book, Section
A1 Smith, Ann
T1 A synthetic chapter
T2 A synthetic book
YR 2018
ER
"""

# SYNTHETIC: Cochrane Library plain-text export, with its preamble and banners.
COCHRANE = """\
Provider: John Wiley & Sons, Ltd
Content: Cochrane Library

Record #1 of 2
ID: CN-02088836
AU: Doe J
AU: Roe R
TI: Aspirin for synthetic headaches: a randomised trial
SO: Journal of Synthetic Medicine
YR: 2019
VL: 12
NO: 3
PG: 100-110
XR: EMBASE 629880498
PT: Journal Article; Randomized Controlled Trial
KY: aspirin; headache
DOI: 10.9999/jsm.2019.100
AB: Background: a synthetic
trial of aspirin.
PM: PUBMED 31617467
US: https://www.cochranelibrary.com/central/doi/10.1002/central/CN-02088836/full

Record #2 of 2
ID: CN-01900001
AU: Smith A
TI: A second synthetic trial
SO: Trials
YR: 2018
"""

# SYNTHETIC: an OpenAlex /works page (the Work object's documented fields).
OPENALEX_WORK = {
    "id": "https://openalex.org/W2741809807",
    "doi": "https://doi.org/10.9999/JSM.2019.100",
    "title": "Aspirin for <i>synthetic</i> headaches",
    "display_name": "Aspirin for synthetic headaches",
    "publication_year": 2019,
    "publication_date": "2019-05-12",
    "ids": {
        "openalex": "https://openalex.org/W2741809807",
        "doi": "https://doi.org/10.9999/jsm.2019.100",
        "pmid": "https://pubmed.ncbi.nlm.nih.gov/31617467",
        "pmcid": "https://www.ncbi.nlm.nih.gov/pmc/articles/6543210",
    },
    "language": "en",
    "primary_location": {"source": {"display_name": "Journal of Synthetic Medicine"}},
    "type": "article",
    "authorships": [
        {"author": {"display_name": "Jane Doe"}, "raw_author_name": "J. Doe"},
        {"author": {}, "raw_author_name": "Richard Roe"},
    ],
    "biblio": {"volume": "12", "issue": "3", "first_page": "100", "last_page": "110"},
    "is_retracted": False,
    "keywords": [{"display_name": "Aspirin"}],
    "abstract_inverted_index": {"Aspirin": [0], "helps": [1, 4], "it": [3], "sometimes.": [2]},
}


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def check_aspirin_trial(record: Record, source: str) -> None:
    """The first record of REFWORKS and COCHRANE: one trial in two formats."""
    assert record.record_id == f"{source}:31617467"
    assert (record.pmid, record.year) == ("31617467", 2019)
    assert record.title == "Aspirin for synthetic headaches: a randomised trial"
    assert record.abstract == "Background: a synthetic trial of aspirin."
    assert (record.doi, record.journal) == ("10.9999/jsm.2019.100", "Journal of Synthetic Medicine")
    extra = record.extra
    assert (extra["volume"], extra["issue"], extra["pages"]) == ("12", "3", "100-110")
    assert extra["keywords"] == ["aspirin", "headache"]


def test_refworks_tagged_records(tmp_path: Path) -> None:
    path = write(tmp_path, "refworks.txt", REFWORKS)
    assert detect_format(REFWORKS, "x") == "refworks"
    first, second = read_records(path, "auto", "RefWorks")
    check_aspirin_trial(first, "refworks")
    assert first.authors == ("Doe J", "Roe RK")
    assert first.pub_date == "2019-05"
    assert first.nct_ids == ("NCT01234567",)
    assert (second.title, second.journal, second.extra["ris_type"]) == (
        "A synthetic chapter",
        "A synthetic book",
        "CHAP",
    )
    assert second.record_id.startswith("refworks:sha1-")


# REAL: the RefWorks tagged example of the @citation-js/plugin-refworks README
# (github.com/citation-js/plugin-refworks, README.md, "Input"), CRLF line ends as RefWorks
# writes them, and "ER" after the record as citero (NYULibraries) writes it.
CITATION_JS = (
    "RT Journal Article\r\nSR Electronic(1)\r\nA1 Lars G. Willighagen\r\n"
    "JF PeerJ Computer Science\r\nA2 Silvio Peroni\r\nVO 5\r\nYR 2019\r\n"
    "FD august 12\r\nSP e214\r\nT1 Citation.js: a format-independent, modular "
    "bibliography tool for the browser and command line\r\nER \r\n \r\n"
)


def test_refworks_published_example(tmp_path: Path) -> None:
    path = tmp_path / "citationjs.txt"
    path.write_bytes(CITATION_JS.encode("utf-8"))
    (record,) = read_records(path, "auto", "refworks")
    assert record.title.startswith("Citation.js: a format-independent")
    assert record.authors == ("Lars G. Willighagen",)  # A2 (editor) is not an author
    assert (record.journal, record.year, record.pub_date) == (
        "PeerJ Computer Science",
        2019,
        "2019-08",
    )
    assert (record.extra["volume"], record.extra["pages"]) == ("5", "e214")


def test_cochrane_plain_text_records(tmp_path: Path) -> None:
    path = write(tmp_path, "central.txt", COCHRANE)
    assert detect_format(COCHRANE, "x") == "cochrane-txt"
    first, second = read_records(path, "auto", "CENTRAL")
    check_aspirin_trial(first, "central")
    assert first.authors == ("Doe J", "Roe R")
    assert first.publication_types == ("Journal Article", "Randomized Controlled Trial")
    assert second.record_id == "central:CN-01900001"
    assert (second.journal, second.year, second.pmid) == ("Trials", 2018, None)


def test_cochrane_abstract_line_that_looks_like_a_tag_continues_the_abstract(
    tmp_path: Path,
) -> None:
    # SYNTHETIC: an abstract wrapped before "CI:" and "OR:" (not export tags), then a real
    # tag again. A "two capitals and a colon" rule cut the abstract and made up fields.
    text = COCHRANE.replace(
        "trial of aspirin.\n",
        "trial of aspirin. Headache fell (risk ratio 0.7, 95%\nCI: 0.5 to 0.9;\nOR: 1.2).\n",
    )
    first, _ = read_records(write(tmp_path, "central.txt", text), "cochrane-txt", "CENTRAL")
    assert first.abstract == (
        "Background: a synthetic trial of aspirin. Headache fell (risk ratio 0.7, 95% "
        "CI: 0.5 to 0.9; OR: 1.2)."
    )
    assert first.pmid == "31617467"  # the PM: line after the abstract is still a field
    assert first.extra["accession"] == "CN-02088836"


def test_cochrane_central_page_link_gives_no_article_doi(tmp_path: Path) -> None:
    # The US link of a CENTRAL record names the CENTRAL record (10.1002/central/CN-...);
    # read as the article's DOI it would make its PubMed copy look like another article.
    text = COCHRANE.replace("DOI: 10.9999/jsm.2019.100\n", "")
    first, _ = read_records(write(tmp_path, "central.txt", text), "cochrane-txt", "CENTRAL")
    assert first.doi is None
    assert first.extra["accession"] == "CN-02088836"


@pytest.mark.parametrize(
    ("fmt", "text", "message"),
    [
        ("refworks", "A1 Doe, Jane\nT1 Orphan\n", r"line 1\).*expected 'RT <reference type>'"),
        ("refworks", "RT Journal Article\nA1 Doe, Jane\n", r"record 1, line 1\).*neither a title"),
        ("refworks", "RT Journal Article\nT1 One\n\nT1 Two\n", r"record 2, line 4\).*expected 'RT"),
        ("refworks", "RT\nT1 Untyped\n", r"record 1, line 1\).*empty 'RT'"),
        (
            "cochrane-txt",
            COCHRANE.replace("Record #2 of 2", "Record #3 of 3"),
            r"record 2, line 2\d\).*out of order",
        ),
        (
            "cochrane-txt",
            COCHRANE.replace(" of 2", " of 3"),
            r"2 records but the banners announce 3",
        ),
        ("cochrane-txt", "ID: CN-1\nTI: No banner\n", r"line 1\).*expected 'Record #1 of N'"),
        ("cochrane-txt", "Record #1 of 1\nAU: Doe J\n", r"record 1, line 1\).*neither a title"),
        (
            "cochrane-txt",
            "Record #1 of 1\nwrapped text first\n",
            r"record 1, line 2\).*before the first field",
        ),
    ],
)
def test_tagged_errors_name_record_and_line(
    tmp_path: Path, fmt: str, text: str, message: str
) -> None:
    path = write(tmp_path, "bad.txt", text)
    with pytest.raises(ImportFormatError, match=message):
        read_records(path, fmt, "some-source")


def test_cochrane_ris_export_is_still_ris() -> None:
    ris = "Record #1 of 1\nTY  - JOUR\nID  - CN-1\nTI  - A trial\nER  - \n"
    assert detect_format(ris, "x") == "ris"


@pytest.mark.parametrize("shape", ["page", "list", "single"])
def test_openalex_works(tmp_path: Path, shape: str) -> None:
    payload = {
        "page": {"meta": {"count": 1}, "results": [OPENALEX_WORK]},
        "list": [OPENALEX_WORK],
        "single": OPENALEX_WORK,
    }[shape]
    text = json.dumps(payload, indent=2)
    assert detect_format(text, "x") == "openalex-json"
    (work,) = read_records(write(tmp_path, "works.json", text), "auto", "OpenAlex")
    assert work.record_id == "openalex:31617467"
    assert work.title == "Aspirin for synthetic headaches"
    assert work.abstract == "Aspirin helps sometimes. it helps"
    assert work.authors == ("Jane Doe", "Richard Roe")
    assert (work.doi, work.pmcid) == ("10.9999/jsm.2019.100", "PMC6543210")
    assert (work.year, work.pub_date, work.journal) == (
        2019,
        "2019-05-12",
        "Journal of Synthetic Medicine",
    )
    assert (work.extra["pages"], work.extra["ris_type"]) == ("100-110", "JOUR")
    assert not work.retracted


def test_openalex_without_pmid_uses_the_work_id_and_flags_retractions(tmp_path: Path) -> None:
    work = {**OPENALEX_WORK, "ids": {}, "is_retracted": True, "abstract_inverted_index": None}
    (record,) = read_records(write(tmp_path, "w.json", json.dumps([work])), "openalex-json", "oa")
    assert record.record_id == "oa:W2741809807"
    assert record.retracted and record.abstract == ""


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ({"results": [OPENALEX_WORK, "W1"]}, r"record 2\).*expected a work object, got str"),
        ([{**OPENALEX_WORK, "title": ["x"]}], r"record 1\).*field 'title': expected str or int"),
        (
            [{**OPENALEX_WORK, "abstract_inverted_index": {"word": ["1"]}}],
            r"record 1\).*'abstract_inverted_index'.*non-negative integers",
        ),
        ([{**OPENALEX_WORK, "authorships": [None]}], r"field 'authorships\[0\]'"),
        ({"meta": {}}, r"not OpenAlex JSON"),
    ],
)
def test_openalex_errors_name_record_and_field(
    tmp_path: Path, payload: object, message: str
) -> None:
    path = write(tmp_path, "bad.json", json.dumps(payload))
    with pytest.raises(ImportFormatError, match=message):
        read_records(path, "openalex-json", "openalex")


def test_openalex_invalid_json_names_the_line(tmp_path: Path) -> None:
    path = write(tmp_path, "bad.json", '{"results": [\n{"id": }\n]}')
    with pytest.raises(ImportFormatError, match=r"bad\.json \(line 2\): invalid JSON"):
        read_records(path, "openalex-json", "openalex")


def workbook(path: Path, *sheets: list[list[object]]) -> Path:
    """An .xlsx file with one sheet per list of rows, written by openpyxl."""
    from openpyxl import Workbook

    book = Workbook()
    book.remove(book.active)
    for k, rows in enumerate(sheets):
        sheet = book.create_sheet(f"Sheet{k + 1}")
        for row in rows:
            sheet.append(row)
    book.save(path)
    return path


def test_xlsx_first_sheet_reads_like_csv(tmp_path: Path) -> None:
    rows = [
        ["Export note: 2 records"],  # a note line above the header (Dimensions)
        ["Title", "Authors", "Published Year", "Journal", "DOI", "PubMed ID"],
        ["A synthetic trial", "Doe, Jane; Roe, Rick", 2019, "J Synth", "10.9999/x.1", 31617467],
        [None, None, None, None, None, None],
        ["Another synthetic trial", "Smith A", 2020.0, "J Synth", None, None],
    ]
    path = workbook(tmp_path / "covidence.xlsx", rows, [["Title"], ["Not read"]])

    first, second = read_records(path, "auto", "covidence")
    assert (first.record_id, first.pmid, first.year) == ("covidence:31617467", "31617467", 2019)
    assert (first.title, first.doi, first.authors) == (
        "A synthetic trial",
        "10.9999/x.1",
        ("Doe J", "Roe R"),
    )
    assert first.extra["table_row"] == 3
    assert (second.title, second.year, second.extra["table_row"]) == (
        "Another synthetic trial",
        2020,
        5,
    )
    assert read_records(path, "xlsx", "covidence") == [first, second]
    with pytest.raises(ImportFormatError, match=r"an Excel workbook, not csv; .*--format xlsx"):
        read_records(path, "csv", "covidence")


def test_xlsx_errors_name_the_row(tmp_path: Path) -> None:
    path = workbook(tmp_path / "rayyan.xlsx", [["Title", "Year"], [None, 2019]])
    with pytest.raises(
        ImportFormatError, match=r"rayyan\.xlsx \(record 1, line 2\): row has neither"
    ):
        read_records(path, "auto", "rayyan")
    notes = workbook(tmp_path / "notes.xlsx", [["Notes only"]])
    with pytest.raises(ImportFormatError, match=r"notes\.xlsx \(line 1\): no header row"):
        read_records(notes, "auto", "rayyan")


def test_xlsx_declared_but_not_a_workbook(tmp_path: Path) -> None:
    path = write(tmp_path, "fake.xlsx", "Title\nA trial\n")
    with pytest.raises(ImportFormatError, match=r"fake\.xlsx: not a readable Excel workbook"):
        read_records(path, "xlsx", "rayyan")


def test_old_xls_workbooks_are_refused_with_advice(tmp_path: Path) -> None:
    path = tmp_path / "old.xls"
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(60))
    with pytest.raises(ImportFormatError, match=r"old\.xls: an old Excel \(\.xls\) workbook"):
        read_records(path, "auto", "scopus")


def test_every_format_has_a_parser() -> None:
    from livingmeta.retrieval import importers
    from livingmeta.retrieval.formats import FORMATS

    assert set(FORMATS) - {"auto"} == set(importers._PARSERS)


def test_cochrane_unknown_tag_outside_the_abstract_opens_its_own_field(tmp_path: Path) -> None:
    """A tag the reader does not know (``EI:``) after the title is a field of its own,
    not more title; inside the abstract a tag-shaped line stays abstract text."""
    text = (
        "Record #1 of 1\nID: CN-00000001\nTI: A trial of stenting\n"
        "EI: 1234-5678\nAB: Results were good.\nCI: 0.5 to 0.9 for the primary outcome.\n"
    )
    record, *more = read_records(write(tmp_path, "central.txt", text), "cochrane-txt", "CENTRAL")
    assert not more
    assert record.title == "A trial of stenting"
    assert record.abstract.endswith("CI: 0.5 to 0.9 for the primary outcome.")
