"""Record identity across imports: nothing overwritten, re-imports change nothing, counts add up.

The RIS samples are SYNTHETIC, in the shape reference managers export (records numbered
1..N in every export, which is why numbers cannot be ids).
"""

from __future__ import annotations

from pathlib import Path

import yaml

from livingmeta.cli import main
from livingmeta.retrieval.records import Record
from livingmeta.retrieval.registry import Registry

# SYNTHETIC: two exports from one database, each numbering its records from 1.
EXPORT_A = (
    "TY  - JOUR\nID  - 1\nTI  - Walking after hip fracture: a synthetic trial\nAU  - Doe, J\n"
    "PY  - 2020\nER  - \n"
    "TY  - JOUR\nID  - 2\nTI  - Cycling for knee pain: another synthetic trial\nAU  - Roe, R\n"
    "PY  - 2021\nER  - \n"
)
EXPORT_B = (
    "TY  - JOUR\nID  - 1\nTI  - Swimming for back pain in a synthetic cohort\nAU  - Poe, E\n"
    "PY  - 2019\nER  - \n"
    "TY  - JOUR\nID  - 2\nTI  - Walking after hip fracture: a synthetic trial\nAU  - Doe, J\n"
    "PY  - 2020\nAB  - Now with an abstract.\nER  - \n"
)


def setup_review(tmp_path: Path) -> tuple[Path, Path]:
    folder = tmp_path / "reviews" / "r1"
    config = {"reviews": [{"id": "r1", "folder": str(folder), "outcomes": [{"name": "death"}]}]}
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(config))
    return tmp_path / "config.yaml", folder / "retrieval"


def run_import(config: Path, path: Path, source: str, *extra: str) -> int:
    return main(["import", str(path), "--source", source, "--config", str(config), *extra])


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_second_export_under_the_same_source_replaces_nothing(capsys, tmp_path: Path) -> None:
    config, state = setup_review(tmp_path)
    assert run_import(config, write(tmp_path, "a.ris", EXPORT_A), "wos") == 0
    first = {r.record_id: r for r in Registry.load(state / "registry").records()}
    assert len(first) == 2
    assert run_import(config, write(tmp_path, "b.ris", EXPORT_B), "wos") == 0
    out = capsys.readouterr().out
    assert "1 new, 1 already known" in out
    after = {r.record_id: r for r in Registry.load(state / "registry").records()}
    assert len(after) == 3
    for rid, record in first.items():  # the first export's records are untouched
        assert after[rid] == record and not after[rid].abstract


def test_reimporting_the_same_file_changes_nothing(capsys, tmp_path: Path) -> None:
    config, state = setup_review(tmp_path)
    path = write(tmp_path, "a.ris", EXPORT_A)
    assert run_import(config, path, "wos") == 0
    files = {p.name: p.read_bytes() for p in (state / "registry").iterdir()}
    log = (state / "imports.log").read_bytes()
    capsys.readouterr()
    assert run_import(config, path, "WOS") == 0
    assert "already imported" in capsys.readouterr().out
    assert {p.name: p.read_bytes() for p in (state / "registry").iterdir()} == files
    assert (state / "imports.log").read_bytes() == log


def test_import_never_changes_a_record_handed_to_reviewers(tmp_path: Path) -> None:
    config, state = setup_review(tmp_path)
    folder = state / "registry"
    searched = Record("pubmed:31000001", "pubmed", "Searched title", pmid="31000001", year=2019)
    registry = Registry()
    registry.upsert([searched], "run1")
    registry.deduplicate()
    registry.mark_reported(registry.new_candidates(), "run1")
    registry.save(folder)
    nbib = "PMID- 31000001\nTI  - Exported title\nAB  - Exported abstract.\nDP  - 2019\n"
    assert run_import(config, write(tmp_path, "p.nbib", nbib), "PubMed") == 0
    registry = Registry.load(folder)
    assert len(registry) == 1  # one PMID is one record, whether searched or imported
    entry = registry.entry("pubmed:31000001")
    assert entry.record == searched and entry.reported_in == "run1"
    assert len(entry.seen_in) == 2


def test_summary_accounts_for_every_record(capsys, tmp_path: Path) -> None:
    config, state = setup_review(tmp_path)
    registry = Registry()
    known = Record("pubmed:31000001", "pubmed", "Known title of a trial", pmid="31000001")
    registry.upsert([known], "run1")
    registry.deduplicate()
    registry.save(state / "registry")
    text = (
        "TY  - JOUR\nTI  - KNOWN TITLE OF A TRIAL.\nAN  - 31000001\nER  - \n"  # linked
        + EXPORT_A  # two new studies
        + EXPORT_A.split("TY  - JOUR\nID  - 2")[0]  # an exact repeat inside the file
    )
    assert run_import(config, write(tmp_path, "c.ris", text), "embase") == 0
    out = capsys.readouterr().out
    assert "4 records read" in out
    assert "4 new, 0 already known" in out
    assert "2 new studies, 1 linked to known records (1 by pmid)" in out
    assert "1 duplicates of another record in this file" in out
    assert "await a decision" not in out
    registry = Registry.load(state / "registry")
    run = next(r for r in registry.runs if r.startswith("import-embase-"))
    assert registry.prisma_counts(run)["embase"]["identified"] == 4
