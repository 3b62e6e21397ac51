"""A table fixed after a failed run is validated again: a failed validation leaves no
output that a later run could take for up to date.

Snakemake records the params of a failed job as if it had finished; an output kept
through the failure (``update()``) then looked current with the new params, and the
fixed table was never read (an approved study stayed out of the analysis).
"""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path

from tests.test_reference_outputs import closed_port
from tests.workflow_copy import copy_workflow

REVIEW = "rescue_stenting"
TARGETS = [f"results/{REVIEW}/.validated/{o}.csv" for o in ("mortality_90d", "sich")]


def validate(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run only the two outcomes' validation jobs (fast: nothing else is needed)."""
    offline = f"http://127.0.0.1:{closed_port()}"
    env = {**os.environ, "LIVINGMETA_EUTILS_URL": offline, "LIVINGMETA_CTGOV_URL": offline}
    return subprocess.run(
        [sys.executable, "-m", "snakemake", "--cores", "2", *args, *TARGETS],
        cwd=root, capture_output=True, text=True, check=False, timeout=600, env=env,
    )  # fmt: skip


def edit(table: Path, change) -> None:
    rows = list(csv.DictReader(table.open(newline="", encoding="utf-8")))
    for row in rows:
        change(row)
    with table.open("w", newline="", encoding="utf-8") as out:
        writer = csv.DictWriter(out, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def studies_in(root: Path, outcome: str) -> list[str]:
    path = root / "results" / REVIEW / ".validated" / f"{outcome}.csv"
    return [row["study_id"] for row in csv.DictReader(path.open(encoding="utf-8"))]


def test_a_table_fixed_after_a_failed_run_is_validated_again(tmp_path):
    root = copy_workflow(tmp_path)
    table = root / "reviews" / REVIEW / "extraction.csv"
    original = table.read_text(encoding="utf-8")

    def unapprove_peng_mortality(row):
        if row["study_id"] == "peng2019" and row["outcome"] == "mortality_90d":
            row["approved_by"] = row["approved_on"] = ""

    edit(table, unapprove_peng_mortality)
    assert validate(root).returncode == 0
    assert "peng2019" not in studies_in(root, "mortality_90d")

    # Approved again, in the same edit as a typo in another outcome: every outcome's
    # validation fails (the whole table is checked).
    table.write_text(original, encoding="utf-8")

    def typo_in_sich(row):
        if row["study_id"] == "peng2019" and row["outcome"] == "sich":
            row["events_treat"] = "nine"

    edit(table, typo_in_sich)
    failed = validate(root, "--keep-going")
    assert failed.returncode != 0 and "'nine' is not a number" in failed.stdout + failed.stderr
    assert not (root / TARGETS[0]).exists()  # nothing a later run could take for current

    table.write_text(original, encoding="utf-8")
    assert validate(root).returncode == 0
    assert "peng2019" in studies_in(root, "mortality_90d")
