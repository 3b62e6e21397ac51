"""`livingmeta import`: dry run prints normalised records; a real import upserts into the
review's registry without reporting, so the next workflow run hands the records over."""

from __future__ import annotations

import json
from datetime import date

import yaml

from livingmeta.cli import main
from livingmeta.retrieval.registry import Registry
from livingmeta.retrieval.update import RetrievalSettings, run_retrieval

REQUIRED_KEYS = {
    "source", "pmid", "doi", "pmcid", "nct_ids", "title", "abstract", "year", "journal",
    "authors", "publication_types", "retracted", "errata",
}  # fmt: skip
RIS = (
    "TY  - JOUR\nTI  - Rescue stenting for refractory occlusions in a synthetic cohort\n"
    "AU  - Doe, Jane\nPY  - 2021\nJO  - Synthetic Journal\nDO  - 10.9999/synth.1\nID  - CN-0001\nER  - \n"
    "TY  - JOUR\nTI  - Stenting versus medical therapy after failed thrombectomy (synthetic)\n"
    "AU  - Roe, Rick\nPY  - 2022\nAN  - 29845367\nID  - CN-0002\nER  - \n"
)  # synthetic RIS, as exported from Cochrane CENTRAL


def test_dry_run_json_prints_one_normalised_record_per_line(capsys, fixtures_dir, tmp_path):
    xml = fixtures_dir / "pubmed" / "efetch_pubmed_22663011_rct_nct_databank_structured.xml"
    assert (
        main(
            [
                "import",
                str(xml),
                "--format",
                "pubmed-xml",
                "--source",
                "pubmed",
                "--dry-run",
                "--json",
            ]
        )
        == 0
    )
    lines = capsys.readouterr().out.splitlines()
    record = json.loads(lines[0])
    assert len(lines) == 1 and set(record) >= REQUIRED_KEYS
    assert record["pmid"] == "22663011" and record["nct_ids"] == ["NCT01245062"]
    assert record["source"] == "pubmed"


def test_import_adds_records_that_the_next_run_hands_over(capsys, tmp_path):
    ris = tmp_path / "central.ris"
    ris.write_text(RIS)
    state = tmp_path / "reviews" / "r1" / "retrieval"
    config = {
        "reviews": [
            {
                "id": "r1",
                "folder": str(tmp_path / "reviews" / "r1"),
                "outcomes": [{"name": "death"}],
            }
        ]
    }
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(config))
    argv = [
        "import",
        str(ris),
        "--format",
        "ris",
        "--source",
        "central",
        "--config",
        str(tmp_path / "config.yaml"),
    ]
    assert main(argv) == 0
    assert "2 new" in capsys.readouterr().out
    assert {r.record_id for r in Registry.load(state / "registry").records()} == {
        "central:CN-0001",
        "central:29845367",
    }
    assert "records=2 new=2" in (state / "imports.log").read_text()
    assert main(argv) == 0  # re-importing the same export is harmless
    assert "0 new" in capsys.readouterr().out and len(Registry.load(state / "registry")) == 2

    report = run_retrieval(
        "r1", state, [], RetrievalSettings(enabled=False), run_id="run1", today=date(2024, 1, 1),
        candidates_path=tmp_path / "candidates.csv",
    )  # fmt: skip
    assert report.new_candidates == 2
    assert "central" not in report.prisma  # counted in the import's own run:
    registry = Registry.load(state / "registry")
    import_run = next(r for r in registry.runs if r.startswith("import-central-"))
    assert registry.prisma_counts(import_run)["central"]["to_screen"] == 2
    rows = (tmp_path / "candidates.csv").read_text()
    assert "central:CN-0001" in rows and "central:29845367" in rows


def test_an_empty_export_is_imported_with_a_warning(capsys, tmp_path):
    empty = tmp_path / "empty.ris"
    empty.write_text("")
    folder = tmp_path / "reviews" / "r1"
    config = {"reviews": [{"id": "r1", "folder": str(folder), "outcomes": [{"name": "death"}]}]}
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(config))
    argv = ["import", str(empty), "--source", "cochrane", "--config", str(tmp_path / "config.yaml")]
    assert main(argv) == 0  # a search may find nothing: not an error
    assert "0 records read" in (said := capsys.readouterr().out)
    assert "Warning: the file holds no records (an empty export?)" in said


def test_import_of_bad_file_exits_2_naming_the_record(capsys, tmp_path):
    bad = tmp_path / "bad.ris"
    bad.write_text("TY  - JOUR\nTI  - no end record\n")
    assert main(["import", str(bad), "--format", "ris", "--source", "embase", "--dry-run"]) == 2
    assert str(bad) in capsys.readouterr().err


def test_previous_version_studies_are_not_offered_again(capsys, tmp_path):
    from livingmeta.retrieval.records import Record

    ris = tmp_path / "previous.ris"
    ris.write_text(RIS)
    folder = tmp_path / "reviews" / "r1"
    config = {"reviews": [{"id": "r1", "folder": str(folder), "outcomes": [{"name": "death"}]}]}
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(config))
    argv = ["import", str(ris), "--format", "ris", "--source", "previous-version", "--previous-version",
            "--config", str(tmp_path / "config.yaml")]  # fmt: skip
    assert main(argv) == 0
    said = capsys.readouterr().out
    assert "not screened again" in said
    assert "previous_version: {studies: N, reports: M}" in said  # what PRISMA still needs
    state = folder / "retrieval"
    settings = RetrievalSettings(enabled=False)
    report = run_retrieval("r1", state, [], settings, run_id="run1", today=date(2024, 1, 1),
                           candidates_path=tmp_path / "c1.csv")  # fmt: skip
    assert report.new_candidates == 0
    # A later PubMed record of the same article (same DOI) is a further report, not new.
    registry = Registry.load(state / "registry")
    registry.upsert(
        [
            Record(
                "pubmed:555",
                "pubmed",
                "Rescue stenting, synthetic",
                doi="10.9999/SYNTH.1",
                year=2021,
            )
        ],
        "run2",
    )
    registry.deduplicate()
    [candidate] = registry.new_candidates()
    assert candidate.status == "linked_to_existing"
    assert candidate.existing_record_ids == ("previous-version:CN-0001",)
