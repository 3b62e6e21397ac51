"""A new review's whole life, as its reviewers live it (issue 15's "Done means").

On one copy of the workflow, offline: ``new-review`` -> an outcome and a roster in the
config -> ``validate`` -> ``import`` of an RIS export -> a scheduled run that queues the
records and says "no approved data yet" (not invalid) -> two reviewers screen (one
undo, one conflict settled with ``resolve``, a typo'd name refused) -> full text -> the
included studies' data, one not reporting the outcome, another removed by a recorded
decision -> approved -> published, every output checked -> a rebuild does not grow the
history.
"""

from __future__ import annotations

import csv
import json
import re
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest

from livingmeta.config import REPO_ROOT
from tests.test_new_review_workflow import SCHEDULED_RUN, offline, run, snakemake
from tests.workflow_copy import copy_workflow

pytestmark = pytest.mark.slow

REVIEW = "tnk_stroke"
TODAY = "2026-03-04"
OUTCOME = """\
    outcomes:
      - name: mortality_90d
        label: Mortality at 90 days
        type: dichotomous
        measure: OR
        method: MH
        model: random
        direction: higher_is_worse
        groups: {treat: Tenecteplase, ctrl: Alteplase}
"""
#: Five trials: the reviewers disagree on the last one they are shown, and exclude it.
TRIALS = [
    ("Tenecteplase versus alteplase before thrombectomy", "Campbell", 2018),
    ("Tenecteplase in minor ischaemic stroke", "Logallo", 2017),
    ("Tenecteplase or alteplase within 4.5 hours of stroke onset", "Menon", 2022),
    ("Intravenous tenecteplase compared with alteplase", "Wang", 2023),
    ("Thrombolysis registry of a single centre", "Kvistad", 2019),
]


def ris(trials: list[tuple[str, str, int]]) -> str:
    """An RIS export of ``trials`` (title, first author, year)."""
    return "".join(
        f"TY  - JOUR\nTI  - {title}\nAU  - {author}, A\nPY  - {year}\nJO  - Stroke\n"
        f"DO  - 10.1000/tnk.{n}\nER  - \n\n"
        for n, (title, author, year) in enumerate(trials, 1)
    )


#: The commands run so far, as a user types them (compared with the README's).
TYPED: list[str] = []


def readme_steps() -> list[str]:
    """The commands of the README's walk-through from the first record to the figure."""
    text = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("From the first record to the published figure", 1)[1]
    block = re.search(r"```sh\n(.*?)```", section, re.S)
    assert block, "the README walk-through has no ```sh block"
    return [line.strip() for line in block[1].splitlines() if line.strip()]


def livingmeta(root: Path, *args: str, keys: str | None = None) -> subprocess.CompletedProcess:
    """``livingmeta`` as a user types it; ``keys``: the lines typed at its prompts."""
    TYPED.append(shlex.join(["livingmeta", *args]))
    if keys is None:
        return run(root, ["livingmeta", *args])
    from tests.test_new_review_workflow import COMMANDS

    return subprocess.run(
        [*COMMANDS["livingmeta"], *args],
        cwd=root,
        input=keys,
        capture_output=True,
        text=True,
        check=False,
        timeout=1200,
    )


def workflow(root: Path) -> str:
    """``snakemake --cores 4`` (2 on a shared test machine), which must succeed."""
    TYPED.append("snakemake --cores 4")
    return ok(snakemake(root))


def ok(proc: subprocess.CompletedProcess) -> str:
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc.stdout


def rows(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def write_rows(path: Path, table: list[dict[str, str]]) -> None:
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(table[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(table)


def declare_outcome_and_roster(root: Path) -> None:
    """The new review's outcome and roster; the reference review is left out of the
    config (a run then builds the new review only, and commands pick it themselves)."""
    config = root / "config" / "config.yaml"
    text = config.read_text(encoding="utf-8")
    head, entry = text.split(f"  - id: {REVIEW}\n", 1)
    head = head[: head.index("\nreviews:\n")] + "\nreviews:\n"
    assert "\n  formats: [png, svg, pdf]\n" in entry
    entry = entry.replace("\n  formats: [png, svg, pdf]\n", "\n  formats: [png]\n")  # quicker
    assert "    outcomes: []\n" in entry and "      reviewers_required: 2\n" in entry
    entry = entry.replace("    outcomes: []\n", OUTCOME, 1).replace(
        "      reviewers_required: 2\n",
        "      reviewers: [alice, bob]\n      reviewers_required: 2\n",
    )
    config.write_text(f"{head}  - id: {REVIEW}\n{entry}", encoding="utf-8")


def extraction_rows(studies: list[dict[str, str]]) -> list[dict[str, str]]:
    """Approved data of the four included trials; the third did not report mortality."""
    numbers = [
        ("8", "100", "12", "100"),
        ("5", "50", "9", "52"),
        ("", "", "", ""),
        ("4", "60", "11", "58"),
    ]
    out = []
    for study, (et, nt, ec, nc) in zip(studies, numbers, strict=True):
        reported = "no" if not et else ""
        out.append(
            {
                "study_id": study["study_id"], "study_label": study["study_label"],
                "year": study["year"], "outcome": "mortality_90d",
                "events_treat": et, "total_treat": nt, "events_ctrl": ec, "total_ctrl": nc,
                "subgroup": "", "source": "supplement table 2" if reported else "table 2",
                "extractor": "bob", "second_extractor": "alice", "approved_by": "Alice",
                "approved_on": TODAY, "notes": "", "reported": reported,
            }
        )  # fmt: skip
    return out


@pytest.fixture(scope="module")
def review(tmp_path_factory) -> Path:
    root = copy_workflow(tmp_path_factory.mktemp("new_review_scenario"))
    offline(root)
    ok(livingmeta(root, "new-review", REVIEW, "--title", "Tenecteplase versus alteplase"))
    declare_outcome_and_roster(root)
    return root


def test_a_new_review_from_its_first_record_to_its_published_figure(review):
    root, folder, results = review, review / "reviews" / REVIEW, review / "results" / REVIEW
    ok(livingmeta(root, "validate"))
    (root / "embase.ris").write_text(ris(TRIALS), encoding="utf-8")
    ok(livingmeta(root, "import", "embase.ris", "--source", "embase", "--review", REVIEW))

    # The scheduled run queues the records. The outcome has no approved data yet: every
    # output says so, and nothing is invalid.
    TYPED.append("snakemake --cores 4")
    scheduled = subprocess.run(
        SCHEDULED_RUN, cwd=root, capture_output=True, text=True, check=False, timeout=900
    )
    assert scheduled.returncode in (0, 10), scheduled.stdout[-3000:] + scheduled.stderr[-3000:]
    assert "No studies yet: no approved data yet" in (results / "summary.md").read_text()
    assert "- Mortality at 90 days: no approved data yet" in (results / "summary.md").read_text()
    assert json.loads((results / "mortality_90d" / "pooled.json").read_text())["result"] is None
    changes = json.loads((results / "report" / "changes.json").read_text())
    assert changes["outcomes_without_data"] == ["mortality_90d"] and not changes["invalid_data"]
    assert (results / "mortality_90d" / "forest.png").is_file()

    assert len(rows(folder / "screening" / "queue.csv")) == 5

    # Dual screening.

    refused = livingmeta(root, "screen", "--review", REVIEW, "--reviewer", "alcie", keys="q\n")
    assert refused.returncode == 2
    assert "not a reviewer of this review; the roster is: alice, bob" in refused.stderr
    ok(livingmeta(root, "screen", "--review", REVIEW, "--reviewer", "alice", keys="i\n" * 5))
    # Bob excludes the first by mistake, undoes it, and disagrees with Alice on the last.
    bob = ok(
        livingmeta(
            root, "screen", "--review", REVIEW, "--reviewer", "bob",
            keys="e\n0\nu\ni\ni\ni\ni\ne\n0\n",
        )
    )  # fmt: skip
    assert "Withdrawn: exclude of" in bob and "livingmeta resolve --review tnk_stroke" in bob
    settled = ok(
        livingmeta(root, "resolve", "--review", REVIEW, "--reviewer", "alice", keys="e\n0\n")
    )
    assert "1 consensus decision(s) saved" in settled
    for who in ("alice", "bob"):
        ok(
            livingmeta(
                root, "screen", "--review", REVIEW, "--reviewer", who, "--stage", "full_text",
                keys="i\n" * 4,
            )
        )  # fmt: skip
    decisions = rows(folder / "screening" / "decisions.csv")
    assert [d["decision"] for d in decisions].count("withdraw") == 1

    workflow(root)
    studies = rows(folder / "studies.csv")
    assert len(studies) == 4
    status = ok(livingmeta(root, "status", "--review", REVIEW))
    assert REVIEW in status
    # No approved data yet, even with four included studies.
    assert "No studies yet: no approved data yet" in (results / "summary.md").read_text()

    # Data: one trial did not report mortality; another is removed by a recorded decision.
    write_rows(folder / "extraction.csv", extraction_rows(studies))
    removed = studies[3]
    removed["exclude_retracted"], removed["notes"] = "yes", "retracted 2026"
    write_rows(folder / "studies.csv", studies)
    ok(livingmeta(root, "validate"))
    workflow(root)

    pooled = json.loads((results / "mortality_90d" / "pooled.json").read_text())
    assert pooled["result"]["k"] == 2
    absent, gone = studies[2]["study_label"], removed["study_label"]
    assert pooled["left_out"] == [
        {"study": absent, "reason": "not reported"},
        {"study": gone, "reason": "retracted, decision recorded in studies.csv"},
    ]
    summary = (results / "summary.md").read_text()
    assert f"Not reported by: {absent}." in summary and f"Removed: {gone}, retracted" in summary
    report = (results / "report" / "latest.html").read_text()
    assert f"removed: {gone}, retracted, decision recorded in studies.csv" in report
    prisma = json.loads((results / "prisma.json").read_text())
    assert prisma["identified"] == {"Embase": 5} and prisma["screened"] == 5
    assert prisma["excluded_screening"] == 1 and prisma["total_studies"] == 3
    assert prisma["excluded_full_text"] == {"retracted": 1}  # removed, counted with why
    site = (root / "results" / "site" / REVIEW / "index.html").read_text()
    assert "Mortality at 90 days" in site and "No approved data yet" not in site

    # A rebuild is not a run: the review's history does not grow.
    history = (folder / "history.csv").read_text()
    shutil.rmtree(results)
    workflow(root)
    assert (folder / "history.csv").read_text() == history


def test_the_readme_walk_through_is_what_the_scenario_runs(review):
    """The README's steps, in order, are among the commands the scenario ran."""
    if not TYPED:
        pytest.skip("the scenario did not run")
    typed = iter(TYPED)
    missing = [step for step in readme_steps() if step not in typed]
    assert missing == [], f"README steps the scenario does not run (in this order): {missing}"
