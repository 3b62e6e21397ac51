"""The update pull request's body: counts, records, escaping and the size limit."""

from __future__ import annotations

import shutil
import subprocess
import sys

from livingmeta.config import REPO_ROOT
from livingmeta.schedule.findings import from_changes_json, from_retrieval_report
from livingmeta.schedule.pr_body import PR_BODY_LIMIT, code_span, md_escape, pr_body
from tests.schedule_data import (
    changes_json,
    report_json,
    write_json,
)


def test_pr_body_from_changes_json_is_escaped():
    hostile = (
        "<script>alert(1)</script> [click](https://evil.example) ![x](https://evil/p.png) "
        "@octocat | a | b\n# heading <!-- hide -->"
    )
    data = changes_json(
        review="rescue_stenting",
        has_changes=True,
        new_candidates=[{"record_id": "pubmed:31000001", "title": hostile}],
        retractions=[{"record_id": "pubmed:2", "kind": "retracted", "before": False}],
        estimate_changes=[{"outcome": "mortality_90d", "before": 0.39, "after": 0.41}],
    )
    body = pr_body([from_changes_json(data)], run_id="20261123T060000Z", exit_code=10)
    assert "<script" not in body and "<!--" not in body and "<img" not in body
    assert "](https://evil" not in body and "](" not in body.replace("\\](", "")
    assert "@octocat" not in body and "&#64;octocat" in body
    assert "\n# heading" not in body  # a record cannot start a heading
    assert "| rescue\\_stenting | 1 | 1 | 1 |" in body  # table intact: pipes were escaped
    assert "- [ ] Screen 1 new candidate(s)" in body
    assert "exit code 10 (changes for reviewers)" in body
    row = next(line for line in body.splitlines() if "pubmed:31000001" in line)
    assert row.count("|") == row.count("\\|")  # every pipe in the record is escaped


def test_pr_body_fallback_report_and_size_limit():
    many = report_json(
        new_candidates=5,
        changes=[{"kind": "retracted", "record_id": f"pubmed:{i}"} for i in range(5000)],
    )
    body = pr_body([from_retrieval_report(many)])
    assert "| Review | New candidates | Retraction notices |" in body
    assert "… and 4950 more" in body and len(body) <= PR_BODY_LIMIT + 100


def test_pr_body_script_reads_changes_json_and_falls_back(tmp_path):
    (tmp_path / "config").mkdir()
    shutil.copy2(REPO_ROOT / "config" / "config.yaml", tmp_path / "config" / "config.yaml")
    script = [sys.executable, str(REPO_ROOT / "scripts" / "pr_body.py"), "--workdir", str(tmp_path)]
    write_json(
        tmp_path / "results/rescue_stenting/retrieval/report.json", report_json(new_candidates=2)
    )
    out = subprocess.run(script, capture_output=True, text=True, check=True).stdout
    assert "Screen 2 new candidate(s)" in out and "report.json" in out
    write_json(
        tmp_path / "results/rescue_stenting/report/changes.json",
        changes_json(has_changes=True, newly_included=[{"study_id": "x2026"}]),
    )
    out = subprocess.run(script, capture_output=True, text=True, check=True).stdout
    assert "Newly included" in out and "changes.json" in out


def test_md_escape_keeps_text_readable():
    assert md_escape("Peng 2019 (n=66)") == "Peng 2019 \\(n=66\\)"
    assert md_escape("a\nb") == "a b"
    assert code_span("a`b\nc") == "`a'b c`"
