"""Every real export in the shared fixtures, read by livingmeta and by an independent parser.

The files (``fixtures/exports``, see its PROVENANCE.tsv) were exported by real databases and
reference managers; rispy, ``Bio.Medline`` and ``Bio.Entrez`` are the independent readers.
Counts, identifiers and titles must agree record by record.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
import rispy
from Bio import Entrez, Medline

from livingmeta.retrieval.formats.fields import clean, strip_markup
from livingmeta.retrieval.importers import read_records
from livingmeta.retrieval.records import normalise_doi
from tests.conftest import SHARED_DIR


def provenance(fixtures_dir: Path) -> list[tuple[str, str]]:
    folder = fixtures_dir / "exports"
    with open(folder / "PROVENANCE.tsv", encoding="utf-8") as handle:
        rows = [line for line in handle if not line.startswith("# ")]
    return [(row[0], row[1]) for row in csv.reader(rows, delimiter="\t") if row]


EXPORTS = SHARED_DIR / "fixtures" / "exports"  # read at collection time (the parameters)


def exports_of(fmt: str) -> list[str]:
    with open(EXPORTS / "PROVENANCE.tsv", encoding="utf-8") as handle:
        rows = [line.split("\t") for line in handle if not line.startswith("#")]
    return sorted(row[0] for row in rows if len(row) > 1 and row[1] == fmt)


def test_every_fixture_is_listed_and_covered(fixtures_dir: Path) -> None:
    listed = {name for name, _ in provenance(fixtures_dir)}
    on_disk = {p.name for p in (fixtures_dir / "exports").iterdir()} - {
        "PROVENANCE.tsv",
        "README.md",
    }
    assert listed == on_disk
    covered = set(exports_of("ris") + exports_of("nbib") + exports_of("pubmed-xml"))
    assert covered == on_disk


def _ris_title(entry: dict) -> str:
    title = entry.get("title") or entry.get("primary_title") or ""
    return clean(strip_markup(title if isinstance(title, str) else " ".join(title)))


@pytest.mark.parametrize("name", exports_of("ris"))
def test_ris_export_agrees_with_rispy(fixtures_dir: Path, name: str) -> None:
    path = fixtures_dir / "exports" / name
    ours = read_records(path, "ris", "test")
    with open(path, encoding="utf-8-sig") as handle:
        theirs = rispy.load(handle, skip_unknown_tags=True)
    assert len(ours) == len(theirs) > 0
    assert read_records(path, "auto", "test") == ours
    for mine, entry in zip(ours, theirs, strict=True):
        assert mine.title == _ris_title(entry)
        doi = normalise_doi(entry.get("doi"))
        if doi:
            assert mine.doi == doi
        authors = (
            entry.get("authors")
            or entry.get("first_authors")
            or entry.get("tertiary_authors")
            or entry.get("subsidiary_authors")
            or []
        )
        assert len(mine.authors) == len(authors)
    assert len({r.record_id for r in ours}) == len(ours)  # repeats get their own id


@pytest.mark.parametrize("name", exports_of("nbib"))
def test_nbib_export_agrees_with_bio_medline(fixtures_dir: Path, name: str) -> None:
    path = fixtures_dir / "exports" / name
    ours = read_records(path, "nbib", "PubMed")
    with open(path, encoding="utf-8") as handle:
        theirs = list(Medline.parse(handle))
    assert [r.pmid for r in ours] == [entry["PMID"] for entry in theirs]
    assert [r.record_id for r in ours] == [f"pubmed:{entry['PMID']}" for entry in theirs]
    for mine, entry in zip(ours, theirs, strict=True):
        assert mine.title == clean(entry["TI"])
        dois = [a.removesuffix(" [doi]") for a in entry.get("AID", []) if a.endswith("[doi]")]
        assert mine.doi == (normalise_doi(dois[0]) if dois else None)
    assert read_records(path, "auto", "PubMed") == ours


@pytest.mark.parametrize("name", exports_of("pubmed-xml"))
def test_pubmed_xml_export_agrees_with_bio_entrez(fixtures_dir: Path, name: str) -> None:
    path = fixtures_dir / "exports" / name
    ours = read_records(path, "pubmed-xml", "pubmed")
    with open(path, "rb") as handle:
        theirs = Entrez.read(handle)
    pmids = [str(a["MedlineCitation"]["PMID"]) for a in theirs["PubmedArticle"]]
    pmids += [str(b["BookDocument"]["PMID"]) for b in theirs.get("PubmedBookArticle", [])]
    assert [r.pmid for r in ours] == pmids
    assert read_records(path, "auto", "pubmed") == ours


def test_ovid_psycinfo_keeps_its_links_and_has_no_pmid(fixtures_dir: Path) -> None:
    records = read_records(
        fixtures_dir / "exports" / "ris_ovid_psycinfo_numbered.ris", "ris", "psycinfo"
    )
    assert len(records) == 6
    assert all(r.pmid is None for r in records)  # AN=2019-65183-001 is PsycINFO's own number
    assert records[0].record_id == "psycinfo:2019-65183-001"
    assert records[0].doi == "10.1002/cpp.2398"


def test_database_specific_pmid_fields(fixtures_dir: Path) -> None:
    folder = fixtures_dir / "exports"
    embase = read_records(folder / "ris_embase_asreview.ris", "ris", "embase")
    assert "15368318" in {r.pmid for r in embase}  # Embase puts the PMID in C5
    assert all(r.record_id.startswith("embase:L") or r.pmid for r in embase)
    # Embase's "Adler D.G." is written as PubMed writes it: the proposed study id and
    # label of a study found in both are then the same.
    authors = {a for r in embase for a in r.authors}
    assert {"Liu R", "Adler DG", "Eloubeidi MA"} <= authors
    endnote = read_records(folder / "ris_endnote_asysd.txt", "ris", "endnote")
    assert "15344782" in {r.pmid for r in endnote}  # Scopus (via EndNote): C2
    assert "22424230" in {r.pmid for r in endnote}  # PubMed (via EndNote): AN, DP NLM
    assert all(not r.record_id.endswith(":57530") for r in endnote)  # EndNote numbers
