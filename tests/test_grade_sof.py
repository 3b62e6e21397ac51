"""The summary-of-findings table: the reference review's, escaping, CSV, Word read back."""

from __future__ import annotations

import csv
import io
from dataclasses import replace
from pathlib import Path

import pytest

from livingmeta.formatting import pooled_effect
from livingmeta.grade.certainty import Certainty, Start
from livingmeta.grade.ratings import Rating
from livingmeta.grade.sof import (
    COLUMNS,
    build_summary,
    outcome_evidence,
    to_csv,
    to_html,
    to_markdown,
    write_summary,
)
from livingmeta.grade.sof_docx import summary_docx
from livingmeta.stats import BinaryData, ContinuousData, pool

OUTCOMES = {
    "mrs0_2_90d": "Functional independence (mRS 0-2) at 90 days",
    "mortality_90d": "Mortality at 90 days",
    "sich": "Symptomatic intracranial haemorrhage",
}
LOW = Start("low", "observational", "observational studies: start at low")


def seed_data(seed_dir: Path, outcome: str) -> BinaryData:
    rows = [r for r in csv.DictReader((seed_dir / "extracted_2x2.csv").open()) if r]
    rows = [r for r in rows if r["outcome"] == outcome]
    return BinaryData(
        tuple(f"{r['study']} {r['year']}" for r in rows),
        [float(r["events_pis"]) for r in rows],
        [float(r["total_pis"]) for r in rows],
        [float(r["events_ctrl"]) for r in rows],
        [float(r["total_ctrl"]) for r in rows],
    )


@pytest.fixture(scope="module")
def reference_summary(seed_dir: Path):
    evidence = []
    for name, label in OUTCOMES.items():
        data = seed_data(seed_dir, name)
        result = pool(data, "OR", method="MH", model="random")  # the paper's RevMan analysis
        evidence.append(outcome_evidence(label, data, result))
    return evidence, build_summary("Rescue stenting compared with medical care", evidence)


def test_reference_review_summary_of_findings(reference_summary) -> None:
    evidence, summary = reference_summary
    texts = summary.texts()
    assert [row[0] for row in texts] == list(OUTCOMES.values())
    # 23+48+12+66 stented and 23+100+14+66 control patients, 4 studies per outcome
    assert {row[1] for row in texts} == {"352 (4 studies)"}
    # relative effects as every other output prints them; the paper: 2.87 [1.77-4.66],
    # 0.39 [0.16-0.93], 0.68 [0.37-1.27]
    assert [row[2] for row in texts] == [f"OR {pooled_effect(e.result)}" for e in evidence]
    assert [row[2] for row in texts] == [
        "OR 2.87 [1.77, 4.66]",
        "OR 0.39 [0.16, 0.93]",
        "OR 0.68 [0.37, 1.27]",
    ]
    # control-arm risks: 42/203, 62/203, 36/203
    assert [row[3] for row in texts] == ["207 per 1,000", "305 per 1,000", "177 per 1,000"]
    assert texts[1][4] == "145 per 1,000 (65 to 291)"
    assert texts[1][5] == "161 fewer per 1,000 (from 240 fewer to 14 fewer)"
    assert texts[2][5] == "49 fewer per 1,000 (from 104 fewer to 37 more)"
    # nobody has rated the certainty: the table says so and invents nothing
    assert {row[6] for row in texts} == {"Not yet assessed"}
    assert [m for _, m in summary.footnotes] == [
        "Assumed risk: control-arm risk of the included studies (42/203).",
        "Assumed risk: control-arm risk of the included studies (62/203).",
        "Assumed risk: control-arm risk of the included studies (36/203).",
    ]
    assert [row[3].marks for row in summary.rows] == [("a",), ("b",), ("c",)]


def test_reference_review_table_in_every_format(reference_summary, tmp_path: Path) -> None:
    _, summary = reference_summary
    paths = write_summary(summary, str(tmp_path / "summary_of_findings"), ["md", "csv", "html"])
    assert [Path(p).name for p in paths] == [
        "summary_of_findings.md",
        "summary_of_findings.csv",
        "summary_of_findings.html",
    ]
    markdown = (tmp_path / "summary_of_findings.md").read_text(encoding="utf-8")
    assert "| Mortality at 90 days | 352 (4 studies) | OR 0.39 \\[0.16, 0.93\\] |" in markdown
    assert markdown.count("Not yet assessed") == 3
    table = list(csv.reader(io.StringIO(to_csv(summary))))
    assert table[0] == [*COLUMNS, "Footnotes"]
    assert table[2][:4] == ["Mortality at 90 days", "352 (4 studies)", "OR 0.39 [0.16, 0.93]",
                            "305 per 1,000"]  # fmt: skip
    assert table[2][7] == "(b) Assumed risk: control-arm risk of the included studies (62/203)."


def rated(outcome: str, level: str) -> Certainty:
    ratings = (
        Rating(outcome, "risk_of_bias", "serious", -1, "Two of four studies at high risk."),
        Rating(outcome, "large_effect", "large", 1, "OR < 0.5 in every study."),
    )
    return Certainty(outcome, LOW, level, ratings, (), stale=("imprecision",))


def test_certainty_symbols_reasons_and_stale_flag(seed_dir: Path) -> None:
    data = seed_data(seed_dir, "mortality_90d")
    result = pool(data, "OR", method="MH", model="random")
    evidence = outcome_evidence("Mortality", data, result, rated("mortality_90d", "low"))
    summary = build_summary("SoF", [evidence])
    certainty = summary.rows[0][6]
    assert certainty.text == "⊕⊕⊝⊝ Low"
    notes = dict(summary.footnotes)
    assert [notes[m] for m in certainty.marks] == [
        "Risk of bias: rated down one level (serious). Two of four studies at high risk.",
        "Large effect: rated up one level (large). OR < 0.5 in every study.",
        "Mortality: the data behind the rating of imprecision changed since it was recorded; "
        "re-assess.",
    ]


def test_configured_assumed_risk_and_continuous_outcomes() -> None:
    data = BinaryData(("A", "B"), [5, 8], [50, 60], [10, 12], [50, 60])
    result = pool(data, "RR", method="MH", model="fixed")
    evidence = outcome_evidence("Death", data, result, assumed_risk=0.05,
                                assumed_source="population risk (registry)")  # fmt: skip
    summary = build_summary("SoF", [evidence])
    row = summary.texts()[0]
    assert row[3] == "50 per 1,000"
    low, high = result.conf_int()
    estimate = result.display(result.estimate)
    by_hand = [round(50 * value) for value in (estimate, low, high)]  # 50 per 1,000 x RR
    assert row[4] == "{} per 1,000 ({} to {})".format(*by_hand)
    assert dict(summary.footnotes)["a"] == "Assumed risk: population risk (registry)."
    continuous = ContinuousData(("A", "B"), [5.0, 6.0], [2.0, 2.5], [30, 40],
                                [4.0, 4.5], [2.0, 2.0], [30, 40])  # fmt: skip
    md = pool(continuous, "MD")
    row = build_summary("SoF", [outcome_evidence("Score", continuous, md)]).texts()[0]
    assert row[1] == "140 (2 studies)"
    assert row[2:5] == ["—", "—", "—"]
    assert row[5] == f"MD {pooled_effect(md)}"


def test_untrusted_text_is_escaped(seed_dir: Path) -> None:
    data = seed_data(seed_dir, "sich")
    result = pool(data, "OR", method="MH", model="random")
    label = '<script>alert(1)</script> | *bold* =HYPERLINK("x")'
    summary = build_summary("A & B <i>", [outcome_evidence(label, data, result)])
    html = to_html(summary)
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "<caption>A &amp; B &lt;i&gt;</caption>" in html
    markdown = to_markdown(summary)
    assert "<script>" not in markdown and "\\|" in markdown and "\\*bold\\*" in markdown
    evil = build_summary("SoF", [outcome_evidence('=HYPERLINK("x")', data, result)])
    first = next(csv.reader(io.StringIO(to_csv(evil).splitlines()[1])))[0]
    assert first == '\'=HYPERLINK("x")'  # a spreadsheet shows it as text


def test_word_document_reads_back(reference_summary, tmp_path: Path) -> None:
    from docx import Document

    evidence, _ = reference_summary
    evidence = [evidence[0], replace(evidence[1], certainty=rated(evidence[1].label, "low"))]
    summary = build_summary("Rescue stenting compared with medical care", evidence)
    write_summary(summary, str(tmp_path / "sof"), ["docx"])
    document = Document(str(tmp_path / "sof.docx"))
    assert document.core_properties.title == summary.title
    assert summary.title in [p.text for p in document.paragraphs]
    (table,) = document.tables
    cells = [[cell.text for cell in row.cells] for row in table.rows]
    assert cells[0] == list(COLUMNS)
    marked = [[c.text + "".join(c.marks) for c in row] for row in summary.rows]
    assert cells[1:] == marked
    assert cells[2][6] == "⊕⊕⊝⊝ Lowcde"  # b marks the second row's assumed risk
    superscripts = [
        run.text for run in table.rows[2].cells[6].paragraphs[0].runs if run.font.superscript
    ]
    assert superscripts == ["c", "d", "e"]
    footnotes = [p.text for p in document.paragraphs[1:]]  # after the heading
    assert footnotes == [f"{m} {text}" for m, text in summary.footnotes]
    assert summary_docx(summary)[:2] == b"PK"  # a zip container, as Word expects


def test_word_document_is_reproducible(reference_summary) -> None:
    import zipfile

    _, summary = reference_summary
    data = summary_docx(summary)
    entries = zipfile.ZipFile(io.BytesIO(data)).infolist()
    assert {entry.date_time for entry in entries} == {(1980, 1, 1, 0, 0, 0)}
    assert summary_docx(summary) == data


def test_reference_review_from_its_own_files(reference_summary, tmp_path: Path) -> None:
    """The review folder's extraction and characteristics give the same table, every
    outcome not yet assessed (no grade.csv), starting low (observational studies)."""
    from livingmeta.characteristics.extraction import load_characteristics
    from livingmeta.extraction import load_extraction, outcome_data
    from livingmeta.grade.certainty import designs_from_characteristics, starting_certainty
    from livingmeta.grade.ratings import load_ratings
    from livingmeta.grade.review import assess_outcome
    from livingmeta.outcomes import Outcome
    from tests.test_characteristics import SETTINGS

    review = Path(__file__).resolve().parents[1] / "reviews" / "rescue_stenting"
    outcomes = {n: Outcome(n, label, measure="OR", method="MH") for n, label in OUTCOMES.items()}
    extraction = load_extraction(review / "extraction.csv", outcomes)
    designs = designs_from_characteristics(
        load_characteristics(review / "characteristics.csv", SETTINGS)
    )
    ratings = load_ratings(tmp_path / "grade.csv", list(outcomes))  # none recorded yet
    rows = []
    for outcome in outcomes.values():
        data = outcome_data(extraction, outcome)
        studies = list(extraction.loc[extraction["outcome"] == outcome.name, "study_id"])
        start = starting_certainty(designs, studies)
        assert start.level == "low"
        result = pool(data, **outcome.pool_options())
        assessed = assess_outcome(
            outcome.name, outcome.label, data, result, start=start, ratings=ratings
        )
        assert assessed.evidence.certainty.missing == (
            "risk_of_bias", "inconsistency", "indirectness", "imprecision", "publication_bias",
        )  # fmt: skip
        assert assessed.proposals["publication_bias"].values == {"k": 4, "assessed": False}
        rows.append(assessed.evidence)
    _, from_seed = reference_summary
    summary = build_summary(from_seed.title, rows)
    assert summary.texts() == from_seed.texts()
    assert {row[6] for row in summary.texts()} == {"Not yet assessed"}
