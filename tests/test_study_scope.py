"""Only what should be pooled is pooled: extraction rows of studies that are not included
are errors; outcomes a study did not report are valid and named; rows still to extract
are work to do; removed studies and shared control groups are named under the plot."""

from __future__ import annotations

import csv

import pytest

from livingmeta.extraction import load_extraction, outcome_data, row_kinds, shared_controls
from livingmeta.outcome_analysis import OutcomeAnalysis
from livingmeta.outcomes import Outcome
from livingmeta.review_check import review_problems
from livingmeta.validation import InputError
from livingmeta.workflow.extraction import check_extraction, validate_outcome
from livingmeta.workflow.plot import plot_outcome
from livingmeta.workflow.pool import analyse_outcome
from livingmeta.workflow.summary import summarise_review

DEATH = Outcome("death", "Death")
HEADER = "study_id,study_label,year,outcome,events_treat,total_treat,events_ctrl,total_ctrl"


def rewrite(path, change):
    """Apply ``change`` to every row (dicts) of a CSV file and write it back."""
    with open(path, newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        fields, rows = list(reader.fieldnames), list(reader)
    rows, fields = change(rows, fields)
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields)
        writer.writeheader()
        writer.writerows(rows)


def messages(review):
    return [(p.row, p.column, p.message) for p in review_problems(review)]


def test_row_of_a_study_excluded_at_full_text_is_an_error(review, tmp_path):
    files = review.files
    with open(files.queue, "a", encoding="utf-8") as handle:
        handle.write("pubmed:1,new,pubmed:1,pubmed,Rescue stenting,,2017,J,Logallo N; X Y\n")
    with open(files.decisions, "a", encoding="utf-8") as handle:
        for reviewer in ("reviewer_1", "reviewer_2"):
            handle.write(f"pubmed:1,title_abstract,{reviewer},include,,2026-11-01,,\n")
            handle.write(f"pubmed:1,full_text,{reviewer},exclude,no control group,2026-11-02,,\n")

    def add_row(rows, fields):
        extra = dict(rows[0], study_id="logallo2017", study_label="Logallo 2017")
        return [*rows, extra], fields

    rewrite(files.extraction, add_row)
    found = messages(review)
    assert found == [
        (
            14,
            "study_id",
            "study 'logallo2017' is not included (excluded at full_text by reviewer_1, "
            "reviewer_2: no control group)",
        )
    ]
    with pytest.raises(InputError, match="logallo2017"):
        check_extraction(review, extraction=files.extraction, marker=tmp_path / "m.json")


def test_typo_in_a_study_id_is_an_error_with_a_suggestion(review):
    def typo(rows, fields):
        rows[2]["study_id"] = "cornelisen2019"
        return rows, fields

    rewrite(review.files.extraction, typo)
    assert messages(review) == [
        (
            4,
            "study_id",
            "study 'cornelisen2019' is not an included study in studies.csv; "
            "did you mean 'cornelissen2019'?",
        )
    ]


def chang_did_not_report_sich(approved: bool = True):
    """A :func:`rewrite` change: Chang 2018's sICH row marked ``reported: no`` (its
    approval kept, or cleared)."""

    def change(rows, fields):
        for row in rows:
            if row["study_id"] == "chang2018" and row["outcome"] == "sich":
                row.update(events_treat="", total_treat="", events_ctrl="", total_ctrl="")
                row.update(reported="no", source="full text and supplement, checked twice")
                if not approved:
                    row.update(approved_by="", approved_on="")
        return rows, [*fields, "reported"]

    return change


def test_not_reported_rows_are_valid_and_named_in_the_analysis(review, tmp_path):
    files = review.files
    rewrite(files.extraction, chang_did_not_report_sich())
    assert review_problems(review) == []
    outcome = review.outcome("sich")
    data = tmp_path / "sich.csv"
    validate_outcome(review, outcome, extraction=files.extraction, studies=files.studies, data=data)
    analysis = analyse_outcome(review, outcome, data)
    assert analysis.result.k == 3
    assert "Chang 2018" not in [s.study for s in analysis.result.studies]
    assert analysis.footnotes() == ["Not reported by: Chang 2018."]
    written = tmp_path / "pooled.json"
    analysis.write(written)
    assert OutcomeAnalysis.read(written).left_out == (
        {"study": "Chang 2018", "reason": "not reported"},
    )
    summarise_review(
        review,
        pooled=[written],
        csv=tmp_path / "s.csv",
        markdown=tmp_path / "s.md",
        tidy=tmp_path / "t.csv",
    )
    assert f"- {outcome.label}: Not reported by: Chang 2018." in (tmp_path / "s.md").read_text()
    figure = tmp_path / "forest.svg"
    plot_outcome(outcome, pooled=written, figures=[figure])
    assert "Not reported by: Chang 2018." in figure.read_text(encoding="utf-8")


def test_removed_study_is_named_with_its_decision(review, tmp_path):
    files = review.files

    def retract(rows, fields):
        rows[3]["exclude_retracted"] = "yes"
        rows[3]["decided_on"] = "2026-11-30"
        return rows, [*fields, "decided_on"]

    rewrite(files.studies, retract)
    outcome = review.outcome("sich")
    data = tmp_path / "sich.csv"
    validate_outcome(review, outcome, extraction=files.extraction, studies=files.studies, data=data)
    analysis = analyse_outcome(review, outcome, data)
    assert analysis.result.k == 3
    (removed,) = analysis.left_out
    assert removed["reason"] == "retracted, decision recorded on 2026-11-30"
    assert analysis.footnotes() == [
        f"Removed: {removed['study']}, retracted, decision recorded on 2026-11-30."
    ]


def extraction_file(tmp_path, body, header=HEADER):
    path = tmp_path / "extraction.csv"
    path.write_text(f"{header}\n{body}", encoding="utf-8")
    return path


def problems_of(path, outcomes):
    with pytest.raises(InputError) as caught:
        load_extraction(path, outcomes)
    return [(p.row, p.column, p.message) for p in caught.value.problems]


def test_reported_no_needs_empty_numbers_and_a_source(tmp_path):
    header = f"{HEADER},reported,source"
    path = extraction_file(
        tmp_path,
        "a,A,2001,death,,,,,no,Table 2\n"  # row 2: fine
        "b,B,2002,death,3,20,,,no,Table 1\n"  # row 3: numbers given
        "c,C,2003,death,,,,,no,\n"  # row 4: no source
        "d,D,2004,death,,,,,maybe,x\n",  # row 5: not yes/no
        header,
    )
    found = problems_of(path, {"death": DEATH})
    assert (3, "events_treat", "'3' given, but reported is 'no' (empty it or set 'yes')") in found
    assert (3, "total_treat", "'20' given, but reported is 'no' (empty it or set 'yes')") in found
    assert any(row == 4 and col == "source" for row, col, _ in found)
    assert any(row == 5 and col == "reported" for row, col, _ in found)
    assert not any(row == 2 for row, _, _ in found)


def test_rows_still_to_extract_are_work_not_errors_unless_approved(tmp_path):
    header = f"{HEADER},approved_by,approved_on"
    path = extraction_file(
        tmp_path,
        "a,A,2001,death,3,20,6,21,,\nb,B,2002,death,,,,,,\n",
        header,
    )
    frame = load_extraction(path, {"death": DEATH})
    assert row_kinds(frame, {"death": DEATH}).tolist() == ["data", "to_extract"]
    assert outcome_data(frame, DEATH).study == ("A",)
    approved = extraction_file(tmp_path, "b,B,2002,death,,,,,alice,2026-11-01\n", header)
    (problem,) = problems_of(approved, {"death": DEATH})
    assert problem[:2] == (2, "events_treat") and "approved" in problem[2]


def test_comparison_column_tells_multi_arm_rows_apart(tmp_path):
    header = f"{HEADER},comparison"
    path = extraction_file(
        tmp_path,
        "piper,Piper 2009,2009,death,10,50,8,60,gum\n"
        "piper,Piper 2009,2009,death,12,50,8,60,patch\n"
        "smith,Smith 2010,2010,death,4,30,6,30,\n",
        header,
    )
    frame = load_extraction(path, {"death": DEATH})
    data = outcome_data(frame, DEATH)
    assert data.study == ("Piper 2009 (gum)", "Piper 2009 (patch)", "Smith 2010")
    (note,) = shared_controls(frame, DEATH)
    assert note.startswith("Piper 2009: the control group is shared by 2 comparisons")
    split = extraction_file(
        tmp_path,
        "piper,Piper 2009,2009,death,10,50,4,30,gum,split\n"
        "piper,Piper 2009,2009,death,12,50,4,30,patch,split\n",
        f"{header},shared_control",
    )
    assert shared_controls(load_extraction(split, {"death": DEATH}), DEATH) == []
    distinct = extraction_file(
        tmp_path,
        "piper,Piper 2009,2009,death,10,50,4,30,gum\npiper,Piper 2009,2009,death,12,50,5,31,patch\n",
        header,
    )
    assert shared_controls(load_extraction(distinct, {"death": DEATH}), DEATH) == []


def test_repeated_study_without_comparison_points_to_the_column(tmp_path):
    path = extraction_file(tmp_path, "a,A,2001,death,3,20,6,21\na,A,2001,death,4,20,6,21\n")
    (problem,) = problems_of(path, {"death": DEATH})
    assert problem[0] == 3 and "'comparison'" in problem[2]


def test_rows_still_to_extract_are_listed_as_work_not_invalid_data(review):
    from livingmeta.blockers import analysis_blockers, blocker_lines

    def blank(rows, fields):
        for row in rows:
            if row["study_id"] == "peng2019" and row["outcome"] == "sich":
                row.update(events_treat="", total_treat="", events_ctrl="", total_ctrl="")
                row.update(approved_by="", approved_on="")
        return rows, fields

    rewrite(review.files.extraction, blank)
    blockers = analysis_blockers(review)
    assert blockers["invalid"] == []
    assert {"study_id": "peng2019", "outcome": "sich"} in blockers["missing_rows"]
    assert {"study_id": "peng2019", "outcome": "sich"} not in blockers["unapproved_rows"]
    assert "to extract: peng2019 x sich" in blocker_lines(blockers)


def test_status_reports_a_row_of_a_study_not_included_as_invalid(review):
    from livingmeta.blockers import analysis_blockers

    def typo(rows, fields):
        rows[0]["study_id"] = "baracchini2071"
        return rows, fields

    rewrite(review.files.extraction, typo)
    (problem,) = analysis_blockers(review)["invalid"]
    assert "study 'baracchini2071' is not an included study" in problem


def characteristics_texts(review, folder):
    """The characteristics tables (md, csv, html) the workflow's step makes from the
    review's own files, written in ``folder``."""
    from livingmeta.workflow.characteristics import tabulate_characteristics

    files = review.files
    out = {name: folder / f"characteristics.{name}" for name in ("md", "csv", "html")}
    tabulate_characteristics(
        review,
        characteristics=[files.characteristics],
        studies=files.studies,
        extraction=files.extraction,
        queue=files.queue,
        decisions=files.decisions,
        markdown=out["md"],
        csv=out["csv"],
        html=out["html"],
        descriptive=folder / "descriptive.json",
    )
    return {name: path.read_text(encoding="utf-8") for name, path in out.items()}


@pytest.mark.parametrize("approved", [True, False])
def test_not_reported_outcomes_are_named_under_the_characteristics(review, tmp_path, approved):
    """Approved ``reported: no`` rows name the study under the characteristics tables
    (md, html, csv); a row nobody approved yet names nothing."""
    rewrite(review.files.extraction, chang_did_not_report_sich(approved))
    texts = characteristics_texts(review, tmp_path)
    note = "Symptomatic intracranial haemorrhage: Not reported by: Chang 2018."
    row = "Chang 2018,Symptomatic intracranial haemorrhage,,NR,outcome not reported"
    if approved:
        assert f"\n{note}  \n" in texts["md"]
        assert f"<li>{note}</li>" in texts["html"]
        assert row in texts["csv"]
        assert texts["md"].count("Not reported by") == 1  # under the first table only
    else:
        assert all("Not reported by" not in text for text in texts.values())
        assert "outcome not reported" not in texts["csv"]


def test_characteristics_name_a_study_as_its_forest_plots_do(review, tmp_path):
    """A study relabelled in the extraction table only (an import proposes ``Peng Y.
    2019``) is printed with that label in the tables, as in the forest plots."""

    def relabel(rows, fields):
        for row in rows:
            if row["study_id"] == "peng2019":
                row["study_label"] = "Peng Y. 2019"
        return rows, fields

    rewrite(review.files.extraction, relabel)
    texts = characteristics_texts(review, tmp_path)
    assert all("Peng Y. 2019" in text for text in texts.values())
    assert all("Peng 2019" not in text for text in texts.values())
