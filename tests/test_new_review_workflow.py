"""A review started from scratch runs end to end, and invalid data replaces nothing.

The README's "A new review from scratch" commands are run as written (on a copy of the
workflow, offline), then the checks a user relies on: every output of the new review says
there is nothing yet, the scheduled run does not call it invalid, invalid data leaves every
file under ``results/`` byte-identical and prints its report, and ``livingmeta validate``
and the workflow reject the same studies file with the same words.
"""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from livingmeta.config import REPO_ROOT
from tests.workflow_copy import copy_workflow

pytestmark = pytest.mark.slow

REVIEW = "tnk_stroke"
SCHEDULED_RUN = [sys.executable, "scripts/scheduled_run.py", "--cores", "2", "--no-notify"]
COMMANDS = {
    "livingmeta": [sys.executable, "-m", "livingmeta.cli"],
    "snakemake": [sys.executable, "-m", "snakemake"],
}


def readme_commands() -> list[list[str]]:
    """The shell commands of the README's "A new review from scratch" section."""
    text = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## A new review from scratch", 1)[1]
    block = re.search(r"```sh\n(.*?)```", section, re.S)
    assert block, "the README section has no ```sh block"
    return [shlex.split(line) for line in block[1].splitlines() if line.strip()]


def run(root: Path, argv: list[str]) -> subprocess.CompletedProcess[str]:
    """One command as a user types it; ``--cores 4`` becomes 2 (a shared test machine)."""
    argv = [*COMMANDS.get(argv[0], [argv[0]]), *argv[1:]]
    argv = ["2" if a == "4" and argv[i - 1] == "--cores" else a for i, a in enumerate(argv)]
    return subprocess.run(argv, cwd=root, capture_output=True, text=True, check=False, timeout=900)


def snakemake(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return run(root, ["snakemake", "--cores", "2", *args])


def offline(root: Path) -> None:
    """Searches off: the reference review's saved searches would go to the internet."""
    config = root / "config" / "config.yaml"
    text = config.read_text(encoding="utf-8")
    assert "\n  enabled: true\n" in text
    config.write_text(text.replace("\n  enabled: true\n", "\n  enabled: false\n", 1))


@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> Path:
    root = copy_workflow(tmp_path_factory.mktemp("new_review"))
    offline(root)
    for argv in readme_commands():
        proc = run(root, argv)
        assert proc.returncode == 0, (
            f"{shlex.join(argv)}:\n{proc.stdout[-2000:]}{proc.stderr[-4000:]}"
        )
    return root


def every_file(results: Path) -> dict[str, bytes]:
    """Every result file. A failed check's scratch file under ``.validated/`` is removed
    (so the next run checks again) and is the one file allowed to go."""
    files = (p for p in results.rglob("*") if p.is_file() and ".validated" not in p.parts)
    return {str(p.relative_to(results)): p.read_bytes() for p in files}


@contextmanager
def edited(path: Path, old: str, new: str) -> Iterator[None]:
    original = path.read_text(encoding="utf-8")
    assert old in original
    path.write_text(original.replace(old, new, 1), encoding="utf-8")
    try:
        yield
    finally:
        path.write_text(original, encoding="utf-8")


def test_every_output_of_the_new_review_says_there_is_nothing_yet(workdir):
    results = workdir / "results" / REVIEW
    summary = (results / "summary.md").read_text()
    assert "No studies yet: no approved data yet" in summary
    assert (results / "summary.csv").read_text().startswith("outcome,studies,")
    prisma = json.loads((results / "prisma.json").read_text())
    assert prisma["total_studies"] == 0 and sum(prisma["identified"].values()) == 0
    assert "No approved data yet" in (results / "report" / "latest.html").read_text()
    site = (workdir / "results" / "site" / REVIEW / "index.html").read_text()
    assert "No studies yet" in site
    assert json.loads((results / "report" / "changes.json").read_text())["invalid_data"] is False


def test_scheduled_run_does_not_call_the_new_review_invalid(workdir):
    proc = subprocess.run(
        SCHEDULED_RUN, cwd=workdir, capture_output=True, text=True, check=False, timeout=900
    )
    # Offline, the reference review's searches are stale (20, "rescue_stenting: 2 stale
    # sources"); the new review has no search and no data: nothing is said of it.
    assert proc.returncode in (0, 10, 20), proc.stdout[-3000:] + proc.stderr[-3000:]
    assert f"- {REVIEW}:" not in proc.stdout and "invalid" not in proc.stdout, proc.stdout


def test_invalid_data_replaces_no_file_under_results_and_prints_its_report(workdir):
    results = workdir / "results"
    before = every_file(results)
    table = workdir / "reviews" / "rescue_stenting" / "extraction.csv"
    with edited(
        table,
        "chang2018,Chang 2018,2018,mortality_90d,6,48",
        "chang2018,Chang 2018,2018,mortality_90d,60,48",
    ):
        proc = snakemake(workdir, "--keep-going")
    assert proc.returncode != 0
    report = "extraction.csv, row 7, column 'events_treat': 60 events exceed"
    assert report in proc.stdout + proc.stderr
    assert every_file(results) == before


def test_validate_and_the_workflow_reject_the_same_studies_file(workdir):
    studies = workdir / "reviews" / "rescue_stenting" / "studies.csv"
    before = every_file(workdir / "results")
    with edited(studies, "previous_version,,", "previous_version,maybe,"):
        validate = run(workdir, ["livingmeta", "validate"])
        workflow = snakemake(workdir, "--keep-going")
        scheduled = subprocess.run(
            [*SCHEDULED_RUN, "--quiet"], cwd=workdir, capture_output=True, text=True, check=False
        )
    message = "column 'exclude_retracted': 'maybe' is not empty, 'yes' or 'no'"
    assert validate.returncode == 2 and message in validate.stderr
    assert workflow.returncode != 0 and message in workflow.stdout + workflow.stderr
    # The scheduled run's summary (console, log, notification) names the problem itself.
    assert (
        scheduled.returncode == 30
        and f"- reviews/rescue_stenting/studies.csv, row 2, {message}" in scheduled.stdout
    )
    assert every_file(workdir / "results") == before


def test_yaml_syntax_error_names_line_and_column(workdir):
    config = workdir / "config" / "config.yaml"
    with edited(config, "    outcomes: []\n", "    outcomes: [\n"):
        validate = run(workdir, ["livingmeta", "validate"])
        workflow = snakemake(workdir, "--dry-run")
    pattern = r"config/config\.yaml, line \d+, column \d+: YAML syntax error"
    assert validate.returncode == 2 and re.search(pattern, validate.stderr)
    assert "Traceback" not in validate.stderr
    assert workflow.returncode != 0 and re.search(pattern, workflow.stdout + workflow.stderr)
