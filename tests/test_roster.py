"""The review's roster (``screening.reviewers``): every name in its files is checked
against it, ignoring case, by ``livingmeta validate`` and by the workflow's checks."""

from __future__ import annotations

import csv

import pytest

from livingmeta.app.workspace import open_workspace
from livingmeta.review_check import review_problems
from livingmeta.roster import on_roster, review_roster
from livingmeta.screening.decisions import load_decisions
from livingmeta.screening.settings import ScreeningSettings
from livingmeta.validation import InputError
from livingmeta.workflow.extraction import check_extraction
from livingmeta.workflow.screening import check_screening
from tests.app_fixtures import make_repo
from tests.test_review_check import review  # noqa: F401  (the reference review, copied)

ROSTER = "reviewer_1, reviewer_2, seed, livingmeta"


def set_cell(path, row, column, value):
    """Set one cell of a CSV (``row`` as a spreadsheet numbers it: header = 1)."""
    with open(path, newline="") as handle:
        rows = list(csv.reader(handle))
    rows[row - 1][rows[0].index(column)] = value
    with open(path, "w", newline="") as handle:
        csv.writer(handle, lineterminator="\n").writerows(rows)


def test_the_reference_review_names_its_roster(review):  # noqa: F811
    assert review_roster(review) == ("reviewer_1", "reviewer_2", "seed", "livingmeta")
    assert ScreeningSettings.from_review(review).reviewers == review_roster(review)
    assert review_problems(review) == []


def test_who_reconciled_the_drafts_is_checked_against_the_roster(review):  # noqa: F811
    """The workspace writes ``reconciled_by``; a hand edit may misspell it."""
    path = review.files.extraction
    with open(path, newline="") as handle:
        rows = list(csv.reader(handle))
    rows = [[*rows[0], "reconciled_by"], *([*row, ""] for row in rows[1:])]
    rows[1][-1] = "reviewr_2"
    with open(path, "w", newline="") as handle:
        csv.writer(handle, lineterminator="\n").writerows(rows)
    (problem,) = review_problems(review)
    assert (problem.file, problem.row, problem.column) == (str(path), 2, "reconciled_by")
    assert problem.message.startswith("'reviewr_2' is not a reviewer")


def test_who_decided_a_doubtful_pair_is_checked_against_the_roster(review):  # noqa: F811
    path = review.files.registry / "doubtful.csv"
    path.write_text(
        "record_a,record_b,reason,score,decision,decided_by,decided_on\n"
        "embase:e1,pubmed:1,fuzzy_title_doubtful,0.9000,same,Reviewer_1,2026-12-01\n"
        "embase:e2,pubmed:2,fuzzy_title_doubtful,0.9000,different,alcie,2026-12-01\n"
        "embase:e3,pubmed:3,fuzzy_title_doubtful,0.9000,,,\n"
    )
    (problem,) = review_problems(review)
    assert (problem.file, problem.row, problem.column) == (str(path), 3, "decided_by")
    assert problem.message.startswith("'alcie' is not a reviewer")


def test_a_name_off_the_roster_is_an_error_in_every_file(review, tmp_path):  # noqa: F811
    files = review.files
    set_cell(files.decisions, 3, "reviewer", "reviewer_3")
    set_cell(files.decisions, 2, "reviewer", "REVIEWER_1")  # case is ignored
    set_cell(files.extraction, 2, "approved_by", "lvingmeta")
    set_cell(files.extraction, 3, "second_extractor", "Reviewer_1; bob")
    set_cell(files.characteristics, 3, "extractor", "sed")
    files.risk_of_bias.mkdir()
    (files.risk_of_bias / "mallory.csv").write_text("study_id,outcome,domain,question,answer\n")
    (files.risk_of_bias / "Reviewer_1.csv").write_text("study_id,outcome,domain,question,answer\n")
    (files.risk_of_bias / "consensus.csv").write_text(
        "study_id,agreed_by\nchang2018,reviewer_1; eve\n"
    )
    files.grade.write_text(
        "outcome,domain,decision,assessor,approved_by\nsich,imprecision,serious,seed,zed\n"
    )

    problems = review_problems(review)
    where = [(p.file, p.row, p.column) for p in problems]
    names = [
        (str(files.extraction), 2, "approved_by"),
        (str(files.extraction), 3, "second_extractor"),
        (str(files.decisions), 3, "reviewer"),
        (str(files.risk_of_bias / "consensus.csv"), 2, "agreed_by"),
        (str(files.risk_of_bias / "mallory.csv"), None, None),
        (str(files.grade), 2, "approved_by"),
        (str(files.characteristics), 3, "extractor"),
    ]
    # In reading order: by file, and within a file whole-file problems first, then by row.
    assert [w for w in where if w in names] == names
    order = list(dict.fromkeys(f for f, _, _ in where))
    assert where == sorted(where, key=lambda w: (order.index(w[0]), w[1] or -1))
    # Besides names, what the appraisal steps reject (the files' missing columns).
    appraisal = [w for w in where if w not in names]
    assert appraisal and {f for f, _, _ in appraisal} <= {
        str(files.risk_of_bias / name)
        for name in ("consensus.csv", "mallory.csv", "Reviewer_1.csv")
    } | {str(files.grade), str(files.characteristics)}, appraisal
    messages = [p.message for p in problems if (p.file, p.row, p.column) in names]
    assert messages[0] == (
        f"'lvingmeta' is not a reviewer of this review; the roster is: {ROSTER}; "
        "did you mean 'livingmeta'?"
    )
    assert messages[1].startswith("'bob' is not") and messages[2].startswith("'reviewer_3' is not")
    assert messages[3].startswith("'eve' is not")
    assert messages[4].startswith("assessor (the file's name): 'mallory' is not a reviewer")

    # The workflow's checks report the same problems as `livingmeta validate`.
    with pytest.raises(InputError) as screening:
        check_screening(
            review, queue=files.queue, decisions=files.decisions, studies=files.studies,
            marker=tmp_path / "screening.json",
        )  # fmt: skip
    with pytest.raises(InputError) as extraction:
        check_extraction(review, extraction=files.extraction, marker=tmp_path / "e.json")
    named = [p for p in problems if (p.file, p.row, p.column) in names]
    assert extraction.value.problems + screening.value.problems == named
    # ... and the appraisal steps the rest.
    workflow = {(p.file, p.row, p.column, p.message) for p in workflow_problems(review, tmp_path)}
    rest = {(p.file, p.row, p.column, p.message) for p in problems if p not in named}
    assert rest and rest <= workflow


def test_names_are_spelt_as_on_the_roster(review):  # noqa: F811
    files = review.files
    set_cell(files.decisions, 2, "reviewer", "Reviewer_1")
    settings = ScreeningSettings.from_review(review)
    frame = load_decisions(files.decisions, settings.exclusion_reasons, None, settings.reviewers)
    assert set(frame["reviewer"]) == {"reviewer_1", "reviewer_2"}
    assert on_roster(" REVIEWER_2 ", settings.reviewers) == "reviewer_2"
    with pytest.raises(
        ValueError, match=f"'alcie' is not a reviewer of this review; the roster is: {ROSTER}$"
    ):
        on_roster("alcie", settings.reviewers)


def test_a_roster_naming_someone_twice_is_refused(review):  # noqa: F811
    review.spec["screening"]["reviewers"] = ["Ann", "ann"]
    with pytest.raises(
        ValueError, match=r"reviews\[rescue_stenting\]\.screening\.reviewers: a name appears twice"
    ):
        ScreeningSettings.from_review(review)


def test_the_workspace_takes_its_roster_from_the_config(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    make_repo(tmp_path)
    config = tmp_path / "config" / "config.yaml"
    config.write_text(
        config.read_text().replace(
            "    screening:\n", "    screening:\n      reviewers: [Alice, bob]\n"
        )
    )
    ws = open_workspace("config/config.yaml", "demo", "ALICE")
    assert (ws.reviewer, ws.roster) == ("Alice", ("Alice", "bob"))
    decisions = tmp_path / "reviews/demo/screening/decisions.csv"
    decisions.write_text(
        "record_id,stage,reviewer,decision\npubmed:1,title_abstract,carol,include\n"
    )
    with pytest.raises(ValueError, match="'carol' is not a reviewer of this review"):
        open_workspace("config/config.yaml", "demo", "carol")  # names in the file do not count


def test_who_decided_on_a_retraction_is_on_the_roster(review):  # noqa: F811
    """``decided_by`` in studies.csv (the workspace signs a retraction decision) is a
    reviewer's name like any other."""
    studies = review.files.studies
    with open(studies, newline="") as handle:
        rows = list(csv.reader(handle))
    rows[0] += ["decided_on", "decided_by"]
    rows[1] += ["2026-11-30", "Reviewer_2"]  # case is ignored
    rows[2] += ["2026-11-30", "mallory"]
    rows[3:] = [[*row, "", ""] for row in rows[3:]]
    with open(studies, "w", newline="") as handle:
        csv.writer(handle, lineterminator="\n").writerows(rows)
    problems = review_problems(review)
    assert [(p.file, p.row, p.column) for p in problems] == [(str(studies), 3, "decided_by")]
    assert (
        problems[0].message
        == f"'mallory' is not a reviewer of this review; the roster is: {ROSTER}"
    )


#: A reviewer-signed cell -> the one problem it has everywhere (None: valid).
SIGNED = {
    "reviewer_1; reviewer_2": None,  # two reviewers who agreed
    "Reviewer_1;SEED": None,  # case is ignored
    "reviewer_1; eve": f"'eve' is not a reviewer of this review; the roster is: {ROSTER}",
    "reviewer_1, reviewer_2": f"'reviewer_1, reviewer_2' is not a reviewer of this review; "
    f"the roster is: {ROSTER}; separate several names with ';'",
    "reviewer_1; Reviewer_1": "'Reviewer_1' is named twice; each reviewer signs once",
}


def write_csv(path, rows):
    with open(path, "w", newline="") as handle:
        csv.writer(handle, lineterminator="\n").writerows(rows)


def workflow_problems(review, tmp_path):  # noqa: F811
    """What the workflow's steps reject: tabulate_characteristics and summarise_findings
    read the characteristics and GRADE ratings with these calls; settle_risk_of_bias is
    run as the rule runs it."""
    from livingmeta.characteristics.extraction import load_characteristics
    from livingmeta.grade.ratings import load_ratings
    from livingmeta.workflow.characteristics import characteristics_settings, included_studies
    from livingmeta.workflow.risk_of_bias import settle_risk_of_bias

    files, roster = review.files, review_roster(review)
    ids = [s for s, _ in included_studies(files.studies)]
    _, fields = characteristics_settings(review)
    found = []
    calls = [
        lambda: load_characteristics(files.characteristics, fields, studies=ids, roster=roster),
        lambda: load_ratings(files.grade, [o.name for o in review.outcomes], roster=roster),
        lambda: settle_risk_of_bias(
            review,
            assessments=sorted(files.risk_of_bias.glob("*.csv")),
            studies=files.studies,
            judgements=tmp_path / "judgements.json",
        ),
    ]
    for call in calls:
        try:
            call()
        except InputError as error:
            found += error.problems
    return found


@pytest.mark.parametrize("cell", list(SIGNED))
def test_a_signed_cell_has_one_verdict_in_validate_and_the_workflow(review, tmp_path, cell):  # noqa: F811
    """``livingmeta validate`` and the workflow's row checks apply one rule to a cell
    signed by reviewers (characteristics, GRADE, the risk-of-bias consensus)."""
    files = review.files
    set_cell(files.characteristics, 2, "approved_by", cell)
    write_csv(
        files.grade,
        [
            ["outcome", "domain", "decision", "assessor", "approved_by", "approved_on"],
            ["sich", "imprecision", "not serious", cell, "seed", "2026-12-01"],
        ],
    )
    files.risk_of_bias.mkdir()
    consensus = files.risk_of_bias / "consensus.csv"
    write_csv(
        consensus,
        [
            ["study_id", "outcome", "domain", "judgement", "agreed_by"],
            ["chang2018", "", "selection", "fair", cell],
        ],
    )
    message = SIGNED[cell]
    expected = (
        []
        if message is None
        else [
            (str(files.characteristics), 2, "approved_by", message),
            (str(files.grade), 2, "assessor", message),
            (str(consensus), 2, "agreed_by", message),
        ]
    )

    def where(problems):
        return sorted((p.file, p.row, p.column, p.message) for p in problems)

    assert where(review_problems(review)) == sorted(expected)
    assert where(workflow_problems(review, tmp_path)) == sorted(expected)


def test_the_consensus_keeps_the_names_as_the_roster_spells_them(review):  # noqa: F811
    from livingmeta.risk_of_bias.assessments import load_assessment
    from livingmeta.workflow.risk_of_bias import settings_of

    review.files.risk_of_bias.mkdir()
    consensus = review.files.risk_of_bias / "consensus.csv"
    write_csv(
        consensus,
        [
            ["study_id", "outcome", "domain", "judgement", "agreed_by"],
            ["chang2018", "", "selection", "fair", "Reviewer_1;SEED"],
        ],
    )
    read = load_assessment(consensus, settings_of(review), roster=review_roster(review))
    assert set(read.agreed_by.values()) == {("reviewer_1", "seed")}


def test_validate_reads_the_assessments_as_the_workflow_does(review, tmp_path):  # noqa: F811
    """An assessor's row the workflow's settle step would reject (a study not included,
    a domain the tool does not have) is reported by ``livingmeta validate`` too."""
    files = review.files
    files.risk_of_bias.mkdir()
    write_csv(
        files.risk_of_bias / "seed.csv",
        [
            ["study_id", "outcome", "domain", "question", "answer", "judgement"],
            ["nosuch2004", "", "selection", "", "", "good"],
            ["chang2018", "", "D9", "", "", "good"],
        ],
    )
    rejected = {(p.file, p.row, p.column) for p in workflow_problems(review, tmp_path)}
    assert {row for _, row, _ in rejected} == {2, 3}
    assert rejected <= {(p.file, p.row, p.column) for p in review_problems(review)}


def test_a_draft_named_after_someone_off_the_roster_is_an_error(review, tmp_path):  # noqa: F811
    drafts = review.files.drafts
    drafts.mkdir(exist_ok=True)
    (drafts / "seed.csv").write_text("study_id,outcome\n")
    (drafts / "sed.csv").write_text("study_id,outcome\n")
    found = [(p.file, p.message) for p in review_problems(review) if "draft" in p.message]
    assert found == [
        (
            str(drafts / "sed.csv"),
            f"extractor (the draft's name): 'sed' is not a reviewer of this review; the roster "
            f"is: {ROSTER}; did you mean 'seed'?",
        )
    ]
    # The workflow's extraction check, which declares the drafts, reports the same.
    with pytest.raises(InputError) as checked:
        check_extraction(
            review,
            extraction=review.files.extraction,
            marker=tmp_path / "e.json",
            drafts=sorted(drafts.glob("*.csv")),
        )
    assert [(p.file, p.message) for p in checked.value.problems] == found
