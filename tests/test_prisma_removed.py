"""Studies removed after inclusion (a retraction decision, an exclusion recorded after
inclusion) are counted in PRISMA 2020 with their reason and named in the analysis and the
run report: the numbers add up and no study disappears silently."""

from __future__ import annotations

import csv
import json

import pytest

from livingmeta.extraction import load_extraction
from livingmeta.report.prisma import assemble_counts, prisma_figure, validate_counts
from livingmeta.report.prisma_draw import figure_texts
from livingmeta.screening.decisions import load_decisions
from livingmeta.screening.queue import read_queue
from livingmeta.screening.settings import ScreeningSettings
from livingmeta.screening.status import screening_status
from livingmeta.screening.update import new_records_status
from livingmeta.study_scope import removed_from_files, removed_text
from livingmeta.workflow.extraction import validate_outcome
from livingmeta.workflow.grade import evidence_studies
from livingmeta.workflow.pool import analyse_outcome
from livingmeta.workflow.report import draw_prisma
from tests.test_study_scope import characteristics_texts

SCREENING = {
    "records_screened": 3,
    "records_excluded": 1,
    "reports_assessed": 2,
    "reports_excluded": 0,
    "reports_excluded_by_reason": {},
    "reports_included": 2,
}
PREVIOUS = {"studies": 4, "reports": 4}
FOUND = {"pubmed": {"identified": 3, "duplicates_removed": 0, "to_screen": 3}}


def edit_studies(path, change):
    """Apply ``change`` to the rows (dicts) of studies.csv, with a ``decided_on`` column."""
    with open(path, newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    fields = [*rows[0], "decided_on"]
    rows = change([dict(row, decided_on="") for row in rows])
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields)
        writer.writeheader()
        writer.writerows(rows)


def status_file(review, path):
    """What the screening step writes for PRISMA (``prisma_new``, ``included_reports``)."""
    settings = ScreeningSettings.from_review(review)
    status = screening_status(
        read_queue(settings.queue),
        load_decisions(settings.decisions, settings.exclusion_reasons),
        settings.reviewers_required,
        settings.stages,
        settings.exclusion_reasons,
    )
    state = status.to_dict() | {"prisma_new": new_records_status(review).prisma}
    path.write_text(json.dumps(state), encoding="utf-8")
    return path


def prisma(review, tmp_path):
    files = review.files
    return draw_prisma(
        review,
        status=status_file(review, tmp_path / "status.json"),
        registry=files.registry,
        studies=files.studies,
        queue=files.queue,
        decisions=files.decisions,
        counts=tmp_path / "prisma.json",
        figures=[tmp_path / "prisma.svg"],
    )


def adds_up(c):
    """The diagram's arithmetic, restated independently of validate_counts."""
    excluded = sum(c["excluded_full_text"].values())
    assert c["reports_assessed"] + c["reports_awaiting_assessment"] - excluded == c["new_reports"]
    base = c["previous"] or {"studies": 0, "reports": 0}
    gone = sum(c.get("removed_previous", {}).values())
    assert c["total_studies"] == base["studies"] - gone + c["new_studies"]
    assert (
        c["total_reports"]
        == base["reports"] - c.get("removed_previous_reports", 0) + (c["new_reports"])
    )


# ---------------------------------------------------------------------- the counts


def test_a_new_study_removed_moves_its_reports_to_reports_excluded():
    removed = [{"reason": "retracted", "previous": False, "reports": 1}]
    counts = assemble_counts(FOUND, SCREENING, previous=PREVIOUS, new_studies=1, removed=removed)
    assert counts["excluded_full_text"] == {"retracted": 1}
    assert (counts["new_studies"], counts["new_reports"]) == (1, 1)
    assert (counts["total_studies"], counts["total_reports"]) == (5, 5)
    assert "removed_previous" not in counts  # nothing removed from the previous version
    adds_up(counts)
    assert "retracted (n = 1)" in figure_texts(prisma_figure(counts))


def test_a_previous_study_removed_is_taken_off_the_total_with_its_reason():
    removed = [
        {"reason": "retracted", "previous": True, "reports": 2},
        {"reason": "no control group", "previous": True, "reports": 1},
    ]
    counts = assemble_counts(FOUND, SCREENING, previous=PREVIOUS, new_studies=2, removed=removed)
    assert counts["removed_previous"] == {"retracted": 1, "no control group": 1}
    assert counts["removed_previous_reports"] == 3
    assert (counts["total_studies"], counts["total_reports"]) == (4, 3)
    adds_up(counts)
    text = " ".join(figure_texts(prisma_figure(counts)))
    for line in (
        "Removed from the review in this update (n = 2):",
        "retracted (n = 1)",
        "no control group (n = 1)",
        "Reports of removed studies (n = 3)",
    ):
        assert line in text


@pytest.mark.parametrize(
    ("change", "fragment"),
    [
        ({"previous": None}, "without a previous version"),
        ({"removed_previous": {"retracted": 5}, "removed_previous_reports": 5}, "it had 4"),
        ({"removed_previous_reports": 0}, "every study has at least one report"),
        ({"total_studies": 7}, "previous (4) - removed (1) + new (2) = 5"),
    ],
)
def test_removed_previous_studies_must_add_up(change, fragment):
    counts = assemble_counts(FOUND, SCREENING, previous=PREVIOUS, new_studies=2)
    counts |= {"removed_previous": {"retracted": 1}, "removed_previous_reports": 1}
    counts.pop("total_studies"), counts.pop("total_reports")
    with pytest.raises(ValueError, match="inconsistent PRISMA counts") as raised:
        validate_counts(counts | change)
    assert fragment in str(raised.value)


# ---------------------------------------------------------------------- the review's files


def remove_peng_and_chang(files):
    """Peng 2019 retracted (a recorded decision), Chang 2018 excluded at full text by
    consensus after its inclusion."""

    def retract(rows):
        rows[3].update(exclude_retracted="yes", decided_on="2026-11-29")
        return rows

    edit_studies(files.studies, retract)
    with open(files.decisions, "a", encoding="utf-8") as handle:
        handle.write(
            "previous-version:chang2018,full_text,reviewer_1,exclude,no control group,"
            "2026-11-30,consensus,\n"
        )


def test_retracted_and_excluded_after_inclusion_previous_studies(review, tmp_path):
    """Peng 2019 retracted, Chang 2018 excluded by consensus after inclusion: counted
    in PRISMA, named in the run report's lines and left out of the analysis by name."""
    files = review.files
    remove_peng_and_chang(files)
    counts = prisma(review, tmp_path)
    assert counts["removed_previous"] == {"no control group": 1, "retracted": 1}
    assert counts["removed_previous_reports"] == 2
    assert (counts["total_studies"], counts["total_reports"]) == (2, 2)
    adds_up(counts)
    assert json.loads((tmp_path / "prisma.json").read_text()) == counts

    removed = removed_from_files(review, files.studies, files.queue, files.decisions)
    assert removed_text(removed) == [
        "removed: Chang 2018, excluded at full_text after inclusion: no control group, "
        "decision recorded on 2026-11-30",
        "removed: Peng 2019, retracted, decision recorded on 2026-11-29",
    ]
    outcome = review.outcome("sich")
    data = tmp_path / "sich.csv"
    validate_outcome(
        review,
        outcome,
        extraction=files.extraction,
        studies=files.studies,
        queue=files.queue,
        decisions=files.decisions,
        data=data,
    )
    analysis = analyse_outcome(review, outcome, data)
    assert analysis.result.k == 2
    assert [s["study"] for s in analysis.left_out] == ["Chang 2018", "Peng 2019"]
    # GRADE's starting level comes from the pooled studies only.
    frame = load_extraction(data, {outcome.name: outcome})
    assert "chang2018" in set(frame["study_id"]) and "peng2019" in set(frame["study_id"])
    assert evidence_studies(frame, outcome) == ["baracchini2017", "cornelissen2019"]


def test_new_studies_removed_after_inclusion(review, tmp_path, monkeypatch):
    """Two trials found by a new search and included: one retracted (its report moves to
    "Reports excluded: retracted"), one excluded by consensus later (the screening
    counts its report; the study leaves the new and total studies)."""
    files = review.files
    with open(files.queue, "a", encoding="utf-8") as handle:
        handle.write("pubmed:1,new,pubmed:1,pubmed,Rescue stenting,,2023,J,Wang A\n")
        handle.write("pubmed:2,new,pubmed:2,pubmed,Rescue stenting,,2024,J,Li B\n")
    with open(files.decisions, "a", encoding="utf-8") as handle:
        for record in ("pubmed:1", "pubmed:2"):
            for stage in ("title_abstract", "full_text"):
                for reviewer in ("reviewer_1", "reviewer_2"):
                    handle.write(f"{record},{stage},{reviewer},include,,2026-11-01,,\n")
        handle.write(
            "pubmed:2,full_text,reviewer_1,exclude,no control group,2026-11-30,consensus,\n"
        )

    def add(rows):
        new = {k: "" for k in rows[0]}
        return [
            *rows,
            new
            | {"study_id": "wang2023", "study_label": "Wang 2023", "record_ids": "pubmed:1"}
            | {"included_in": "2026-11-01", "exclude_retracted": "yes"},
            new
            | {"study_id": "li2024", "study_label": "Li 2024", "record_ids": "pubmed:2"}
            | {"included_in": "2026-11-01"},
        ]

    edit_studies(files.studies, add)

    class Registry:  # the two records, found by one PubMed search
        @staticmethod
        def load(path):
            return Registry()

        def identification_counts(self, sources, skip_run=None):
            return {"pubmed": {"identified": 2, "duplicates_removed": 0, "to_screen": 2}}

    monkeypatch.setattr("livingmeta.retrieval.registry.Registry", Registry)
    counts = prisma(review, tmp_path)
    assert counts["excluded_full_text"] == {"no control group": 1, "retracted": 1}
    assert (counts["new_studies"], counts["new_reports"]) == (0, 0)
    assert (counts["total_studies"], counts["total_reports"]) == (4, 4)
    adds_up(counts)
    removed = removed_from_files(review, files.studies, files.queue, files.decisions)
    assert removed_text(removed) == [
        "removed: Wang 2023, retracted, decision recorded in studies.csv",
        "removed: Li 2024, excluded at full_text after inclusion: no control group, "
        "decision recorded on 2026-11-30",
    ]


def test_a_study_removed_after_inclusion_is_not_left_to_extract(review):
    """Status, the workspace and the extraction template list work to do: a retracted
    study, or one excluded after inclusion, has none."""
    from livingmeta.blockers import analysis_blockers

    files = review.files
    with open(files.queue, "a", encoding="utf-8") as handle:
        handle.write("pubmed:2,new,pubmed:2,pubmed,Rescue stenting,,2024,J,Li B\n")
    with open(files.decisions, "a", encoding="utf-8") as handle:
        for stage in ("title_abstract", "full_text"):
            for reviewer in ("reviewer_1", "reviewer_2"):
                handle.write(f"pubmed:2,{stage},{reviewer},include,,2026-11-01,,\n")

    def add(retracted):
        def change(rows):
            new = {k: "" for k in rows[0]} | {"included_in": "2026-11-01"}
            wang = {"study_id": "wang2023", "study_label": "Wang 2023", "record_ids": ""}
            li = {"study_id": "li2024", "study_label": "Li 2024", "record_ids": "pubmed:2"}
            return [*rows, new | wang | {"exclude_retracted": retracted}, new | li]

        return change

    def to_extract():
        return {row["study_id"] for row in analysis_blockers(review)["missing_rows"]}

    studies = files.studies.read_text(encoding="utf-8")
    edit_studies(files.studies, add(retracted=""))
    assert to_extract() == {"wang2023", "li2024"}

    files.studies.write_text(studies, encoding="utf-8")
    edit_studies(files.studies, add(retracted="yes"))
    with open(files.decisions, "a", encoding="utf-8") as handle:
        handle.write(
            "pubmed:2,full_text,reviewer_1,exclude,no control group,2026-11-30,consensus,\n"
        )
    assert to_extract() == set()


def test_a_removed_study_leaves_the_characteristics_named_with_its_reason(review, tmp_path):
    """Peng 2019 retracted, Chang 2018 excluded after inclusion: no row in the
    characteristics tables (md, csv, html) nor a value of a descriptive outcome, and
    named under the first table, as they are left out of the analyses."""
    files = review.files
    remove_peng_and_chang(files)
    review.spec["outcomes"].append(
        {"name": "reperfusion", "label": "Reperfusion", "type": "descriptive"}
        | {"kind": "n_of_N", "arm": "treat"}
    )
    with open(files.characteristics, "a", encoding="utf-8") as handle:
        for study in ("baracchini2017", "chang2018"):
            handle.write(f"{study},reperfusion,treat,,20,,,,23,,,,,Table 2,seed,livingmeta,"
                         "2026-12-02,\n")  # fmt: skip
    texts = characteristics_texts(review, tmp_path)
    note = (
        "Removed from the review: Chang 2018 (excluded at full_text after inclusion: no "
        "control group, decision recorded on 2026-11-30); Peng 2019 (retracted, decision "
        "recorded on 2026-11-29)."
    )
    escaped = note.replace("_", "\\_")  # Markdown
    assert texts["md"].count(f"\n{escaped}  \n") == 1  # under the first table only
    assert texts["html"].count(f"<li>{note}</li>") == 1
    assert "| Baracchini 2017 |" in texts["md"] and "| Cornelissen 2019 |" in texts["md"]
    assert "| Chang 2018 |" not in texts["md"] and "| Peng 2019 |" not in texts["md"]
    assert '<th scope="row">Peng 2019</th>' not in texts["html"]
    rows = list(csv.DictReader(texts["csv"].splitlines()))
    removed = [r for r in rows if r["study"] in {"Chang 2018", "Peng 2019"}]
    assert [(r["study"], r["characteristic"], r["value"]) for r in removed] == [
        ("Chang 2018", "", ""),
        ("Peng 2019", "", ""),
    ]
    assert removed[1]["footnotes"] == (
        "removed from the review: retracted, decision recorded on 2026-11-29"
    )
    (described,) = json.loads((tmp_path / "descriptive.json").read_text())["outcomes"]
    assert [s["study"] for s in described["per_study"]] == ["Baracchini 2017"]
