"""Characteristics of included studies: fields, extraction, the table, descriptive outcomes."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import replace
from pathlib import Path

import pytest
import yaml

from livingmeta.characteristics.descriptive import describe
from livingmeta.characteristics.extraction import (
    CHARACTERISTICS_COLUMNS,
    approved,
    load_characteristics,
)
from livingmeta.characteristics.fields import Field, settings_from_config
from livingmeta.characteristics.table import build_tables, to_csv, to_html, to_markdown
from livingmeta.characteristics.values import Value, format_value
from livingmeta.config import ConfigError
from livingmeta.validation import InputError

REPO = Path(__file__).resolve().parents[1]
REVIEW = REPO / "reviews" / "rescue_stenting"

# The reference review's `characteristics` config entry (to be placed under the review in
# config/config.yaml once the config restructuring lands).
REFERENCE_CONFIG = yaml.safe_load(
    """
arms:
  - {key: treat, label: PIS group}
  - {key: ctrl, label: Control group}
fields:
  - {name: country, label: Country, kind: text}
  - {name: period, label: Period of inclusion, kind: text}
  - {name: design, label: Study design, kind: text}
  - {name: patients, label: Number of patients, kind: number, level: arm}
  - {name: age, label: "Age, years, mean (SD)", kind: mean_sd, level: arm}
  - {name: nihss, label: "NIHSS score, median (IQR)", kind: median_iqr, level: arm}
  - {name: aspects, label: "ASPECT score, median (IQR)", kind: median_iqr, level: arm}
  - {name: infarct_volume, label: "Infarct volume, mL, mean (SD)", kind: mean_sd, level: arm}
  - {name: occlusion_site, label: Occlusion site, kind: text, level: arm}
  - {name: ivt, label: "IV-tPA, No. (%)", kind: n_of_N, level: arm}
  - name: interventions_before
    label: Additional interventions before stenting
    kind: text
    table: Additional interventions and antithrombotic protocols
  - name: antithrombotic_before
    label: Antithrombotic protocol before stenting
    kind: text
    table: Additional interventions and antithrombotic protocols
  - name: interventions_after
    label: Additional interventions after stenting
    kind: text
    table: Additional interventions and antithrombotic protocols
  - name: antithrombotic_after
    label: Antithrombotic regimen after stenting
    kind: text
    table: Additional interventions and antithrombotic protocols
"""
)
STUDIES = [
    ("baracchini2017", "Baracchini 2017"),
    ("chang2018", "Chang 2018"),
    ("cornelissen2019", "Cornelissen 2019"),
    ("peng2019", "Peng 2019"),
]
SETTINGS = settings_from_config(REFERENCE_CONFIG)


def write_rows(path: Path, rows: list[dict[str, str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(CHARACTERISTICS_COLUMNS), restval="")
        writer.writeheader()
        writer.writerows(rows)
    return path


APPROVED = {"source": "Table 1", "approved_by": "alice", "approved_on": "2026-12-01"}


# ---------------------------------------------------------------- formatting


@pytest.mark.parametrize(
    ("value", "printed"),
    [
        (Value("s", "f", "mean_sd", value="70", spread="16.9"), "70 (16.9)"),
        (Value("s", "f", "mean_sd", value="68.0", spread="12.1"), "68.0 (12.1)"),  # as printed
        (Value("s", "f", "median_range", value="16", low="4", high="26"), "16 (4-26)"),
        (Value("s", "f", "median_iqr", value="14", spread="8"), "14 (8)"),
        (Value("s", "f", "median_iqr", value="-1.5", low="-3", high="2"), "−1.5 (−3 to 2)"),
        (Value("s", "f", "n_of_N", value="4", total="23"), "4/23 (17.4%)"),
        (Value("s", "f", "n_of_N", value="46", total="100"), "46/100 (46.0%)"),
        (Value("s", "f", "n_of_N", value="3", total="12", percent="25"), "3/12 (25%)"),
        (Value("s", "f", "number", value="23"), "23"),
        (Value("s", "f", "text", text="Italy"), "Italy"),
    ],
)
def test_values_print_as_papers_print_them(value, printed):
    assert format_value(value) == printed


# ---------------------------------------------------------------- config and extraction


def test_config_errors_name_the_key():
    with pytest.raises(ConfigError, match=r"fields\[0\]\.kind: 'mean' is not one of"):
        settings_from_config({"fields": [{"name": "age", "label": "Age", "kind": "mean"}]})
    with pytest.raises(ConfigError, match=r"fields\[1\]\.name: 'age' is declared twice"):
        settings_from_config(
            {"fields": [{"name": "age", "label": "A", "kind": "text"}] * 2}, source="x"
        )
    with pytest.raises(ConfigError, match="a choice field needs its choices"):
        settings_from_config({"fields": [{"name": "d", "label": "D", "kind": "choice"}]})
    assert SETTINGS.arms[0].label == "PIS group"
    assert SETTINGS.tables == (
        "Characteristics of included studies",
        "Additional interventions and antithrombotic protocols",
    )


def test_every_problem_names_file_row_and_column(tmp_path):
    rows = [
        {"study_id": "logallo2017", "field": "country", "text": "Italy"} | APPROVED,
        {"study_id": "chang2018", "field": "weight", "value": "70"},
        {"study_id": "chang2018", "field": "age", "arm": "stent", "value": "70", "spread": "1"},
        {"study_id": "chang2018", "field": "country", "arm": "treat", "text": "Korea"},
        {"study_id": "chang2018", "field": "age", "arm": "treat", "value": "seventy"},
        {"study_id": "chang2018", "field": "ivt", "arm": "treat", "value": "30", "total": "20"},
        {"study_id": "chang2018", "field": "ivt", "arm": "ctrl", "value": "3", "total": "12"}
        | {"percent": "33"},
        {"study_id": "chang2018", "field": "aspects", "arm": "treat", "reported": "no"},
        {"study_id": "peng2019", "field": "period", "text": "2015"} | APPROVED | {"source": ""},
        {"study_id": "peng2019", "field": "design", "text": "cohort", "extractor": "dan"},
        {"study_id": "peng2019", "field": "nihss", "arm": "ctrl", "value": "9"},
        {"study_id": "peng2019", "field": "design", "text": "case-control"},
    ]
    path = write_rows(tmp_path / "characteristics.csv", rows)
    with pytest.raises(InputError) as caught:
        load_characteristics(
            path, SETTINGS, studies=[s for s, _ in STUDIES], roster=["alice", "bob"]
        )
    found = [(p.row, p.column) for p in caught.value.problems]
    assert found == [
        (2, "study_id"),
        (3, "field"),
        (4, "arm"),
        (5, "arm"),
        (6, "value"),
        (6, "spread"),
        (7, "value"),
        (8, "percent"),
        (9, "source"),
        (10, "source"),
        (11, "extractor"),
        (12, "low"),
        (13, "field"),
    ]
    assert all(p.file == str(path) for p in caught.value.problems)
    messages = {(p.row, p.column): p.message for p in caught.value.problems}
    assert "not an included study" in messages[(2, "study_id")]
    assert "33% does not match 3/12 = 25.0%" in messages[(8, "percent")]
    assert "second row for design of peng2019; first at row 11" in messages[(13, "field")]


def test_only_approved_rows_reach_the_table_and_empty_rows_are_work_to_do(tmp_path):
    rows = [
        {"study_id": "chang2018", "field": "country", "text": "South Korea"} | APPROVED,
        {"study_id": "peng2019", "field": "country", "text": "China", "source": "Table 1"},
        {"study_id": "cornelissen2019", "field": "country"},  # still to extract
    ]
    values = load_characteristics(write_rows(tmp_path / "c.csv", rows), SETTINGS)
    assert [v.extracted for v in values] == [True, True, False]
    assert [v.study_id for v in approved(values)] == ["chang2018"]
    (table, _) = build_tables(SETTINGS, values, STUDIES)
    assert table.cell("Chang 2018", "country").text == "South Korea"
    assert table.cell("Peng 2019", "country").text == ""  # not approved: not shown
    assert load_characteristics(tmp_path / "absent.csv", SETTINGS) == ()


# ---------------------------------------------------------------- the reference review


def reference_tables():
    values = load_characteristics(
        REVIEW / "characteristics.csv", SETTINGS, studies=[s for s, _ in STUDIES]
    )
    assert all(v.approved for v in values)
    return build_tables(SETTINGS, values, STUDIES)


PAPER_LABELS = {  # how Table 1 of the paper introduces each characteristic
    "Mean age, years (SD):": "age",
    "Median age, (IQR):": "age",
    "Median NIHSS score (range):": "nihss",
    "Median NIHSS score (IQR):": "nihss",
    "Median ASPECT score (+/-IQR):": "aspects",
    "Median ASPECT score (IQR):": "aspects",
    "Infarct volume, mL (SD):": "infarct_volume",
    "Occlusion site: No. (%):": "occlusion_site",
    "Occlusion site:": "occlusion_site",
    "IV-tPA, No. (%):": "ivt",
}
ARM_FIELDS = ("age", "nihss", "aspects", "infarct_volume", "occlusion_site", "ivt")


def paper_table_1(seed_text: str) -> dict[str, dict[tuple[str, str | None], str]]:
    """Table 1 of the paper, cell by cell: ``{author: {(field, arm): text}}``."""
    start = seed_text.index("Study\tCountry\tPeriod of inclusion")
    block = seed_text[start : seed_text.index("SD: standard deviation", start)]
    block = block[: block.rindex("\n")]  # drop the manuscript's line number of the legend
    block = re.sub(r"<[^>]+>", " ", block).replace("•", " ")
    rows = re.split(r"\n(?=[A-Z][a-z]+ et al\. \d{4}\t)", block)[1:]
    table = {}
    for row in rows:
        cells = [" ".join(c.split()) for c in row.split("\t") if c.strip()]
        author = cells[0].split()[0]
        found: dict[tuple[str, str | None], str] = {
            ("country", None): cells[1],
            ("period", None): cells[2],
            ("design", None): cells[3],
        }
        treat, ctrl = re.fullmatch(r"PIS group: (\d+) Control group: (\d+)", cells[4]).groups()
        found |= {("patients", "treat"): treat, ("patients", "ctrl"): ctrl}
        found |= _baseline(" ".join(cells[5:]))
        table[author] = found
    return table


def _baseline(text: str) -> dict[tuple[str, str | None], str]:
    labels = sorted(PAPER_LABELS, key=len, reverse=True)
    pattern = "(" + "|".join(re.escape(label) for label in labels) + ")"
    parts = re.split(pattern, text)[1:]
    found: dict[tuple[str, str | None], str] = {}
    for label, content in zip(parts[::2], parts[1::2], strict=True):
        field, content = PAPER_LABELS[label], content.strip()
        arms = re.fullmatch(r"PIS group: (.+?),? Control group: (.+)", content)
        if arms is None and " vs " in content:
            arms = re.fullmatch(r"(.+) vs (.+)", content)
        if arms is not None:
            found |= {(field, "treat"): arms[1].strip(), (field, "ctrl"): arms[2].strip()}
        else:
            found[(field, None)] = content
    return found


def test_reference_table_1_reproduces_the_paper_cell_by_cell(seed_dir):
    paper = paper_table_1(
        (seed_dir / "premat2020_rescue_stenting_meta_analysis.txt").read_text(encoding="utf-8")
    )
    table, _ = reference_tables()
    assert table.title == "Characteristics of included studies"
    checked = 0
    for study_id, label in STUDIES:
        expected = paper[label.split()[0]]
        for column in table.columns:
            field, arm = column.field.name, column.arm.key if column.arm else None
            cell = table.cell(label, field, arm)
            paper_text = expected.get((field, arm), expected.get((field, None)))
            if paper_text is None:  # the paper has nothing for this study: NR, footnoted
                assert cell.text == "NR" and cell.marks, (study_id, field, arm)
                continue
            # the paper prints some ranges with an en dash, the table always with a hyphen
            assert cell.text == paper_text.replace("–", "-"), (study_id, field, arm)
            checked += 1
    assert checked == 58  # every cell the paper prints for the four studies


def test_reference_table_footnotes_say_what_differs(seed_dir):
    table, interventions = reference_tables()
    notes = dict(table.footnotes)
    nihss = table.cell("Baracchini 2017", "nihss", "treat")
    assert [notes[m] for m in nihss.marks] == ["Reported as median (range)"]
    age = table.cell("Peng 2019", "age", "ctrl")
    assert [notes[m] for m in age.marks] == ["Reported as median (IQR)"]
    aspects = table.cell("Baracchini 2017", "aspects", "ctrl")
    assert notes[aspects.marks[0]].startswith("NR: not reported (checked: Premat 2020, Table 1")
    site = table.cell("Chang 2018", "occlusion_site", "ctrl")
    assert site.span == 2 and site.text == "intracranial ICA and/or MCA in all cases"
    chang = interventions.cell("Chang 2018", "interventions_before")
    assert "IA urokinase: 7/48 (14.6%)" in chang.text
    assert dict(interventions.footnotes)[chang.marks[0]] == (
        "Timing of additional interventions (before or after stenting) not disclosed"
    )
    assert interventions.cell("Cornelissen 2019", "antithrombotic_after").text == (
        "Dual antiplatelet therapy for 3–6 months then aspirin for life"
    )


def test_table_writers(seed_dir):
    tables = reference_tables()
    markdown = to_markdown(tables)
    assert "### Characteristics of included studies" in markdown
    header = markdown.splitlines()[2]
    assert "Age, years, mean (SD): PIS group | Age, years, mean (SD): Control group" in header
    assert "| Baracchini 2017 | Italy | 2014-2016 |" in markdown
    assert "16 (4-26)<sup>a</sup>" in markdown
    page = to_html(tables)
    assert '<th colspan="2" scope="colgroup">Age, years, mean (SD)</th>' in page
    assert '<td colspan="2">intracranial ICA and/or MCA in all cases</td>' in page
    assert "25 µg/kg" in page
    lines = list(csv.DictReader(io.StringIO(to_csv(tables))))
    age = [r for r in lines if r["study"] == "Peng 2019" and r["characteristic"].startswith("Age")]
    assert [(r["arm"], r["value"], r["footnotes"]) for r in age] == [
        ("PIS group", "66 (55-76)", "Reported as median (IQR)"),
        ("Control group", "67 (56-75)", "Reported as median (IQR)"),
    ]


def test_untrusted_text_is_escaped(tmp_path):
    rows = [
        {"study_id": "chang2018", "field": "country", "text": "<script>x</script> | *a*"} | APPROVED
    ]
    values = load_characteristics(write_rows(tmp_path / "c.csv", rows), SETTINGS)
    tables = build_tables(SETTINGS, values, STUDIES)
    assert "<script>" not in to_html(tables) and "&lt;script&gt;" in to_html(tables)
    assert "<script>" not in to_markdown(tables) and "\\| \\*a\\*" in to_markdown(tables)


# ---------------------------------------------------------------- descriptive outcomes


def test_descriptive_outcome_values_and_range():
    field = Field("reperfusion", "Successful reperfusion (mTICI 2b-3)", "n_of_N", level="arm")
    values = [
        Value("baracchini2017", "reperfusion", "n_of_N", arm="treat", value="22", total="23"),
        Value("chang2018", "reperfusion", "n_of_N", arm="treat", value="31", total="48"),
        Value("cornelissen2019", "reperfusion", "n_of_N", arm="treat", reported=False),
        Value("peng2019", "reperfusion", "n_of_N", arm="treat", value="55", total="66"),
    ]
    values = [replace(v, approved=True) for v in values]
    summary = describe(field, values, STUDIES, arm="treat")
    assert summary.per_study == (
        ("Baracchini 2017", "22/23 (95.7%)"),
        ("Chang 2018", "31/48 (64.6%)"),
        ("Cornelissen 2019", "NR"),
        ("Peng 2019", "55/66 (83.3%)"),
    )
    assert summary.range_text == "64.6% to 95.7%"
    assert summary.to_dict()["range"] == "64.6% to 95.7%"
    delays = Field("onset_to_puncture", "Onset to puncture, min", "mean_sd", level="arm")
    times = [
        Value("chang2018", delays.name, "mean_sd", value="289", spread="90.9", approved=True),
        Value("peng2019", delays.name, "mean_sd", value="196.1", spread="48.1", approved=True),
    ]
    assert describe(delays, times, STUDIES).range_text == "196.1 (48.1) to 289 (90.9)"
    assert describe(delays, times[:1], STUDIES).range_text is None


def test_write_tables_writes_the_three_formats(tmp_path):
    from livingmeta.characteristics.table import write_tables

    tables = reference_tables()
    paths = [tmp_path / f"characteristics.{ext}" for ext in ("md", "csv", "html")]
    write_tables(tables, *paths)
    assert paths[0].read_text(encoding="utf-8") == to_markdown(tables)
    assert paths[1].read_text(encoding="utf-8") == to_csv(tables)
    assert paths[2].read_text(encoding="utf-8").startswith('<table class="characteristics">')
