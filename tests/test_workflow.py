"""The Snakemake workflow end to end, offline, on a copy of the repository's workflow.

Checks the issue's promises: the reference review is reproduced; a second run does
nothing; editing one outcome's rows reruns only that outcome; invalid data or config stops
with a report naming file, row and column (or key) and replaces no output; lint is clean.
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

from livingmeta.config import REPO_ROOT
from tests.fakeserver import (
    CtgovPages,
    FakeServer,
    PubmedCorpus,
    Reply,
    chain_pages,
    minimal_study,
    pubmed_article,
)
from tests.workflow_copy import copy_workflow

pytestmark = pytest.mark.slow

OUTCOMES = ("mrs0_2_90d", "mortality_90d", "sich")


@pytest.fixture(scope="module")
def sources():
    """Local fake PubMed and ClinicalTrials.gov: one new article and one trial."""
    with FakeServer() as server:
        corpus = PubmedCorpus(
            {"31000001": date(2024, 5, 2)},
            {"31000001": pubmed_article("31000001", "Rescue stenting after failed thrombectomy")},
        )
        corpus.install(server)
        server.route("/studies", CtgovPages(chain_pages([[minimal_study("NCT09999999")]])))
        server.route("/version", lambda r: Reply.json({"dataTimestamp": "2024-05-03T09:00:00"}))
        yield server


ENV: dict[str, str] = {}


def snakemake(workdir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "snakemake", "--cores", "2", *args],
        cwd=workdir,
        capture_output=True,
        text=True,
        check=False,
        timeout=1800,
        env={**os.environ, **ENV},
    )


def snapshot(results: Path) -> dict[str, bytes]:
    """Every published output (the hidden .validated/ scratch folder is internal)."""
    files = (p for p in sorted(results.rglob("*")) if p.is_file() and ".validated" not in p.parts)
    return {str(p.relative_to(results)): p.read_bytes() for p in files}


def mtimes(results: Path) -> dict[str, int]:
    return {
        str(p.relative_to(results)): p.stat().st_mtime_ns for p in results.rglob("*") if p.is_file()
    }


@pytest.fixture(scope="module")
def workdir(tmp_path_factory, sources):
    """A copy of the workflow (without local retrieval state), run once to completion
    with the searches pointed at the local fake servers."""
    ENV.update(LIVINGMETA_EUTILS_URL=sources.url, LIVINGMETA_CTGOV_URL=sources.url)
    root = copy_workflow(tmp_path_factory.mktemp("workflow"))
    proc = snakemake(root)
    assert proc.returncode == 0, proc.stderr[-4000:]
    return root


def test_reference_review_reproduced(workdir):
    results = workdir / "results" / "rescue_stenting"
    mortality = json.loads((results / "mortality_90d" / "pooled.json").read_text())["result"]
    assert round(mortality["estimate"], 6) == 0.385331
    assert (round(mortality["ci_low"], 6), round(mortality["ci_high"], 6)) == (0.158819, 0.934903)
    assert round(mortality["i2"], 2) == 43.34
    summary = (results / "summary.md").read_text()
    assert "OR 2.87 [1.77, 4.66]" in summary and "OR 0.39 [0.16, 0.93]" in summary
    assert "OR 0.68 [0.37, 1.27]" in summary
    for outcome in OUTCOMES:
        for kind in ("forest", "cumulative", "leave_one_out"):
            for ext in ("png", "svg", "pdf"):
                assert (results / outcome / f"{kind}.{ext}").stat().st_size > 1000
    tidy = (results / "pooled.csv").read_text().splitlines()
    assert len(tidy) == 1 + 2 * len(OUTCOMES)  # fixed and random per outcome


def test_searches_hand_new_records_to_screening(workdir, sources):
    retrieval = workdir / "results" / "rescue_stenting" / "retrieval"
    report = json.loads((retrieval / "report.json").read_text())
    assert [s["status"] for s in report["searches"]] == ["ok", "ok"]
    with open(retrieval / "candidates.csv", newline="") as handle:
        ids = {row["record_id"] for row in csv.DictReader(handle)}
    assert ids == {"pubmed:31000001", "ctgov:NCT09999999"}
    assert sources.requests_to("/esearch.fcgi"), "the workflow did not use the configured URL"
    state = workdir / "reviews" / "rescue_stenting" / "retrieval" / "state.json"
    assert set(json.loads(state.read_text())["searches"]) == {
        "pubmed_rescue_stenting",
        "ctgov_rescue_stenting",
    }


def test_second_run_does_nothing(workdir):
    proc = snakemake(workdir, "--dry-run")
    assert proc.returncode == 0
    assert "Nothing to be done" in proc.stdout + proc.stderr


def test_editing_one_outcome_reruns_only_that_outcome(workdir):
    results = workdir / "results" / "rescue_stenting"
    table = workdir / "reviews" / "rescue_stenting" / "extraction.csv"
    before = mtimes(results)
    original = table.read_text()
    try:
        table.write_text(
            original.replace(
                "peng2019,Peng 2019,2019,sich,9,66", "peng2019,Peng 2019,2019,sich,10,66"
            )
        )
        proc = snakemake(workdir)
        assert proc.returncode == 0, proc.stderr[-3000:]
        after = mtimes(results)
        changed = {name for name in after if after[name] != before.get(name)}
        assert "sich/pooled.json" in changed and "sich/forest.png" in changed
        assert "summary.md" in changed
        # The other outcomes' analysis outputs are untouched; review-level outputs (summary,
        # run report, history plots, PRISMA, site) are refreshed.
        analysis = ("pooled.json", "forest.", "cumulative.", "leave_one_out.")
        untouched = [
            name
            for name in changed
            if name.startswith(("mortality_90d/", "mrs0_2_90d/"))
            and name.split("/")[1].startswith(analysis)
        ]
        assert untouched == [], changed
    finally:
        table.write_text(original)
        assert snakemake(workdir).returncode == 0


def test_a_new_previous_version_count_redraws_prisma(workdir):
    """The previous version's counts come from the config: setting them (after
    ``livingmeta import --previous-version``) redraws the diagram and the report."""
    config = workdir / "config" / "config.yaml"
    original = config.read_text()
    try:
        edited = original.replace(
            "previous_version: {studies: 4, reports: 4}",
            "previous_version: {studies: 4, reports: 5}",
        )
        assert edited != original
        config.write_text(edited)
        planned = snakemake(workdir, "-n")
        assert planned.returncode == 0, planned.stderr[-3000:]
        plan = planned.stdout + planned.stderr
        assert "draw_prisma" in plan and "report_run" in plan
    finally:
        config.write_text(original)


def test_invalid_data_stops_with_full_report_and_replaces_nothing(workdir):
    results = workdir / "results" / "rescue_stenting"
    table = workdir / "reviews" / "rescue_stenting" / "extraction.csv"
    before = snapshot(results)
    original = table.read_text()
    try:
        broken = original.replace(
            "chang2018,Chang 2018,2018,mortality_90d,6,48",
            "chang2018,Chang 2018,2018,mortality_90d,60,48",
        )
        broken = broken.replace(
            "peng2019,Peng 2019,2019,sich,9,66", "peng2019,Peng 2019,2019,sich,nine,66"
        )
        table.write_text(broken)
        proc = snakemake(workdir, "--keep-going")
        assert proc.returncode != 0
        output = proc.stdout + proc.stderr
        assert (
            "reviews/rescue_stenting/extraction.csv, row 7, column 'events_treat': 60 events exceed"
            in output
        )
        assert "row 13, column 'events_treat': 'nine' is not a number" in output
        assert snapshot(results) == before
        again = snakemake(workdir, "--keep-going")  # the data are still invalid: refused again
        assert again.returncode != 0 and "Nothing to be done" not in again.stdout + again.stderr
        assert "'nine' is not a number" in again.stdout + again.stderr
        assert snapshot(results) == before
    finally:
        table.write_text(original)


def test_rebuilding_deleted_results_adds_no_run(workdir):
    import shutil

    review = workdir / "reviews" / "rescue_stenting"
    history = (review / "history.csv").read_text()
    runs = {row["run_id"] for row in csv.DictReader(history.splitlines())}
    assert [p.stem for p in sorted((review / "reports").glob("*.html"))] == sorted(runs)
    shutil.rmtree(workdir / "results")
    proc = snakemake(workdir)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert (review / "history.csv").read_text() == history
    assert {p.stem for p in (review / "reports").glob("*.html")} == runs


def test_invalid_config_names_the_key(workdir, tmp_path):
    bad = tmp_path / "bad.yaml"
    config = (
        (workdir / "config" / "config.yaml").read_text().replace("measure: OR", "measure: HR", 1)
    )
    bad.write_text(config)
    proc = snakemake(workdir, "--dry-run", "--configfile", str(bad))
    assert proc.returncode != 0
    expected = "reviews[rescue_stenting].outcomes[mrs0_2_90d].measure: 'HR' is not one of"
    assert expected in proc.stdout + proc.stderr


def test_lint_is_clean():
    proc = subprocess.run(
        [sys.executable, "-m", "snakemake", "--lint"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Congratulations" in proc.stdout + proc.stderr


def test_rules_are_snakefmt_formatted():
    snakefmt = Path(sys.executable).with_name("snakefmt")
    files = [
        str(REPO_ROOT / "Snakefile"),
        *map(str, sorted((REPO_ROOT / "workflow" / "rules").glob("*.smk"))),
    ]
    proc = subprocess.run(
        [str(snakefmt), "--check", *files], capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
