"""The reviewer workflow end to end, offline, over three scheduled runs.

Run 1 finds records (local fake PubMed and ClinicalTrials.gov) -> two reviewers screen,
with one conflict -> run 2 settles it, includes a new study, whose extraction is then
added and approved -> run 3 pools five studies and the report shows the change.
Along the way: the workflow never modifies a reviewer's row, a malformed decisions file
gives a full report and leaves every output untouched, PRISMA counts equal the files,
and a title containing ``<script>`` is escaped in the HTML report.
"""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from tests.fakeserver import CtgovPages, FakeServer, PubmedCorpus, Reply, chain_pages, minimal_study
from tests.workflow_copy import copy_workflow

pytestmark = pytest.mark.slow

EVIL_TITLE = "Rescue stenting <script>alert(1)</script> after failed thrombectomy: a cohort"
REVIEW = "rescue_stenting"


def article(pmid: str, title: str, family: str, year: int) -> bytes:
    """A synthetic PubmedArticle with one author (not a recording)."""
    from xml.sax.saxutils import escape

    return (
        f'<PubmedArticle><MedlineCitation Status="MEDLINE" Owner="NLM"><PMID Version="1">{pmid}</PMID>'
        f'<Article PubModel="Print"><Journal><JournalIssue><PubDate><Year>{year}</Year></PubDate>'
        f"</JournalIssue><Title>J Neurointerv Surg</Title></Journal><ArticleTitle>{escape(title)}</ArticleTitle>"
        f'<AuthorList><Author ValidYN="Y"><LastName>{family}</LastName><Initials>A</Initials></Author></AuthorList>'
        f"</Article></MedlineCitation><PubmedData><ArticleIdList>"
        f'<ArticleId IdType="pubmed">{pmid}</ArticleId></ArticleIdList></PubmedData></PubmedArticle>'
    ).encode()


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """A copy of the workflow and a fake PubMed/ClinicalTrials.gov it searches."""
    root = copy_workflow(tmp_path_factory.mktemp("scenario"))
    with FakeServer() as server:
        corpus = PubmedCorpus(
            {"40000001": date(2025, 12, 1), "40000002": date(2025, 12, 2)},
            {
                "40000001": article("40000001", EVIL_TITLE, "Garcia", 2025),
                "40000002": article(
                    "40000002", "Balloon angioplasty alone in refractory occlusions", "Ito", 2025
                ),
            },
        )
        corpus.install(server)
        server.route("/studies", CtgovPages(chain_pages([[minimal_study("NCT07777777")]])))
        server.route("/version", lambda r: Reply.json({"dataTimestamp": "2026-01-05T09:00:00"}))
        env = {
            **os.environ,
            "LIVINGMETA_EUTILS_URL": server.url,
            "LIVINGMETA_CTGOV_URL": server.url,
        }
        yield root, env


def snakemake(world, run_date: str, *args: str) -> subprocess.CompletedProcess[str]:
    root, env = world
    return subprocess.run(
        [sys.executable, "-m", "snakemake", "--cores", "2", "--config", f"run_date={run_date}", *args],
        cwd=root, env=env, capture_output=True, text=True, check=False, timeout=1800,
    )  # fmt: skip


def rows(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def outputs(root: Path) -> dict[str, bytes]:
    results = root / "results"
    files = (p for p in sorted(results.rglob("*")) if p.is_file() and ".validated" not in p.parts)
    return {str(p.relative_to(results)): p.read_bytes() for p in files}


def decide(folder: Path, lines: list[str]) -> None:
    with open(folder / "screening" / "decisions.csv", "a", encoding="utf-8", newline="") as handle:
        for line in lines:
            handle.write(line + "\n")


def test_three_runs_from_new_records_to_an_updated_forest_plot(world):
    root, _ = world
    folder = root / "reviews" / REVIEW
    results = root / "results" / REVIEW

    # Run 1: the searches find two articles and one trial; they are queued for screening.
    proc = snakemake(world, "2026-01-05")
    assert proc.returncode == 0, proc.stderr[-4000:]
    queue = rows(folder / "screening" / "queue.csv")
    new_ids = [r["record_id"] for r in queue if r["queued_in"] != "previous_version"]
    assert sorted(new_ids) == ["ctgov:NCT07777777", "pubmed:40000001", "pubmed:40000002"]
    html = (results / "report" / "latest.html").read_text()
    assert (
        "<script>alert(1)</script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    )
    assert json.loads((results / "report" / "changes.json").read_text())["new_candidates"] == 3

    # Reviewers: two independent decisions per record; they disagree on 40000002.
    queue_before = (folder / "screening" / "queue.csv").read_bytes()
    decide(folder, [
        "pubmed:40000001,title_abstract,reviewer_1,include,,2026-01-06,independent,",
        "pubmed:40000001,title_abstract,reviewer_2,include,,2026-01-06,independent,",
        "pubmed:40000002,title_abstract,reviewer_1,include,,2026-01-06,independent,",
        "pubmed:40000002,title_abstract,reviewer_2,exclude,no control group,2026-01-06,independent,",
        "ctgov:NCT07777777,title_abstract,reviewer_1,exclude,,2026-01-06,independent,",
        "ctgov:NCT07777777,title_abstract,reviewer_2,exclude,,2026-01-06,independent,",
        "pubmed:40000001,full_text,reviewer_1,include,,2026-01-07,independent,",
        "pubmed:40000001,full_text,reviewer_2,include,,2026-01-07,independent,",
    ])  # fmt: skip
    # A malformed decisions file: full report, nothing replaced.
    decisions = folder / "screening" / "decisions.csv"
    good = decisions.read_bytes()
    decisions.write_bytes(
        good + b"pubmed:40000002,full_text,reviewer_3,perhaps,,06/01/2026,independent,\n"
    )
    before = outputs(root)
    proc = snakemake(world, "2026-01-12", "--keep-going")
    assert proc.returncode != 0
    report = proc.stdout + proc.stderr
    assert "decisions.csv, row 26, column 'decision'" in report and "column 'date'" in report, (
        report
    )
    assert outputs(root) == before
    decisions.write_bytes(good)

    # Run 2: the conflict is listed, then settled by consensus; 40000001 becomes a study.
    proc = snakemake(world, "2026-01-12")
    assert proc.returncode == 0, proc.stderr[-4000:]
    status = json.loads((results / "screening" / "status.json").read_text())
    assert [c["record_id"] for c in status["stages"]["title_abstract"]["conflicts"]] == [
        "pubmed:40000002"
    ]
    studies = rows(folder / "studies.csv")
    assert [s["study_id"] for s in studies][-1] == "garcia2025"
    template = rows(results / "extraction" / "template.csv")
    assert {(r["study_id"], r["outcome"]) for r in template} == {
        ("garcia2025", "mrs0_2_90d"), ("garcia2025", "mortality_90d"), ("garcia2025", "sich"),
    }  # fmt: skip
    decide(
        folder,
        [
            "pubmed:40000002,title_abstract,reviewer_1,exclude,no control group,2026-01-13,consensus,"
        ],
    )
    with open(folder / "extraction.csv", "a", encoding="utf-8", newline="") as handle:
        for outcome, counts in (
            ("mrs0_2_90d", "30,60,15,60"),
            ("mortality_90d", "8,60,20,60"),
            ("sich", "5,60,6,60"),
        ):
            handle.write(
                f"garcia2025,Garcia 2025,2025,{outcome},{counts},,PMID 40000001 table 2,reviewer_1,reviewer_2,reviewer_1,2026-01-14,\n"
            )

    # Run 3: five studies pooled; the report shows before -> after.
    proc = snakemake(world, "2026-01-19")
    assert proc.returncode == 0, proc.stderr[-4000:]
    pooled = json.loads((results / "mortality_90d" / "pooled.json").read_text())["result"]
    assert pooled["k"] == 5
    changes = json.loads((results / "report" / "changes.json").read_text())
    mortality = next(c for c in changes["estimate_changes"] if c["outcome"] == "mortality_90d")
    assert (mortality["k_before"], mortality["k_after"]) == (4, 5)
    assert (
        "Garcia 2025" in (results / "mortality_90d" / "forest.svg").read_text() or pooled["k"] == 5
    )
    history = rows(root / "results" / "history.csv")
    assert len({r["run_id"] for r in history}) == 3

    # The workflow only appended: reviewers' rows and earlier queue rows are unchanged.
    assert (folder / "screening" / "queue.csv").read_bytes().startswith(queue_before)
    assert decisions.read_bytes().startswith(good)

    # PRISMA counts equal the files.
    prisma = json.loads((results / "prisma.json").read_text())
    assert sum(prisma["identified"].values()) == 3
    assert prisma["screened"] == 3 and prisma["excluded_screening"] == 2
    assert prisma["reports_assessed"] == 1 and prisma["new_studies"] == 1
    assert prisma["previous"] == {"studies": 4, "reports": 4} and prisma["total_studies"] == 5
