"""The GitHub workflows (valid, pinned, least privilege, no secret echoed) and the
Snakemake profiles the scheduled run uses."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from livingmeta.config import REPO_ROOT

WORKFLOWS = REPO_ROOT / ".github" / "workflows"


# -- GitHub workflows ---------------------------------------------------------------------


def load_workflow(name: str) -> dict[str, Any]:
    data = yaml.safe_load((WORKFLOWS / name).read_text())
    data["on"] = data.pop(True, data.get("on"))  # YAML 1.1 reads the key `on` as True
    return data


def all_steps(workflow: dict[str, Any]) -> list[dict[str, Any]]:
    return [step for job in workflow["jobs"].values() for step in job.get("steps", [])]


def test_workflows_are_valid_against_the_github_schema_offline():
    validator = Path(sys.executable).with_name("check-jsonschema")
    assert validator.exists(), "dev dependency missing: pip install check-jsonschema==0.39.0"
    files = sorted(map(str, WORKFLOWS.glob("*.yml")))
    assert len(files) >= 2
    proc = subprocess.run(
        [str(validator), "--builtin-schema", "vendor.github-workflows", *files],
        capture_output=True,
        text=True,
        check=False,
        timeout=900,
        env={**os.environ, "NO_COLOR": "1"},
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_validator_catches_a_broken_workflow(tmp_path):
    validator = Path(sys.executable).with_name("check-jsonschema")
    broken = (WORKFLOWS / "tests.yml").read_text().replace("runs-on:", "runs_on:")
    (tmp_path / "broken.yml").write_text(broken)
    proc = subprocess.run(
        [
            str(validator),
            "--builtin-schema",
            "vendor.github-workflows",
            str(tmp_path / "broken.yml"),
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=900,
    )
    assert proc.returncode == 1


@pytest.mark.parametrize("name", ["living-update.yml", "tests.yml"])
def test_every_action_is_pinned_to_a_full_sha_with_a_version_comment(name):
    text = (WORKFLOWS / name).read_text()
    uses = re.findall(r"uses:\s*(\S+)(.*)", text)
    assert uses
    for action, comment in uses:
        assert re.fullmatch(r"[\w.-]+/[\w./-]+@[0-9a-f]{40}", action), action
        assert re.search(r"#\s*v\d+\.\d+\.\d+", comment), f"{action}: no version comment"


def test_update_workflow_schedule_permissions_and_concurrency():
    workflow = load_workflow("living-update.yml")
    assert workflow["on"]["schedule"] == [{"cron": "0 6 * * 1"}]
    assert "workflow_dispatch" in workflow["on"]
    push = workflow["on"]["push"]
    assert push["branches"] == ["main"]
    assert set(push["paths"]) == {"reviews/**/extraction.csv", "reviews/**/studies.csv"}
    assert workflow["permissions"] == {}  # least privilege: jobs ask for their own
    assert workflow["concurrency"]["cancel-in-progress"] is False
    jobs = workflow["jobs"]
    assert jobs["update"]["permissions"] == {"contents": "write", "pull-requests": "write"}
    assert jobs["build-site"]["permissions"] == {"contents": "read"}
    assert jobs["deploy-site"]["permissions"] == {"pages": "write", "id-token": "write"}
    update_steps = jobs["update"]["steps"]
    setup = next(s for s in update_steps if "setup-python" in s.get("uses", ""))
    assert setup["with"]["python-version"] == "3.11"
    run = next(s for s in update_steps if s.get("id") == "run")
    assert run["env"]["NCBI_API_KEY"] == "${{ secrets.NCBI_API_KEY }}"
    assert run["env"]["LIVINGMETA_NCBI_EMAIL"].startswith("${{ vars.")
    assert "python scripts/scheduled_run.py" in run["run"]
    assert any("pip install -e ." in s.get("run", "") for s in update_steps)
    pr = next(s for s in update_steps if "gh pr create" in s.get("run", ""))
    assert pr["if"] == "steps.run.outputs.has_changes == 'true'"
    assert "scripts/pr_body.py" in pr["run"] and "living-update/${SCOPE}" in pr["run"]
    assert "gh pr edit" in pr["run"]  # one pull request, updated
    build = jobs["build-site"]["steps"]
    upload = next(s for s in build if "upload-pages-artifact" in s.get("uses", ""))
    assert upload["with"]["path"] == "results/site/"
    assert any("deploy-pages" in s.get("uses", "") for s in jobs["deploy-site"]["steps"])


@pytest.mark.parametrize("name", ["living-update.yml", "tests.yml"])
def test_no_secret_is_echoed_or_interpolated_into_scripts(name):
    for step in all_steps(load_workflow(name)):
        script = step.get("run", "")
        assert "${{" not in script, f"use env: for expressions, not inline: {script[:60]}"
        assert not re.search(r"(echo|printf|cat).*\$\{?(NCBI_API_KEY|GH_TOKEN|LIVINGMETA_)", script)
        assert "set -x" not in script
    text = (WORKFLOWS / name).read_text()
    for secret in re.findall(r"secrets\.(\w+)", text):
        assert re.search(rf"^\s+\w+: \$\{{\{{ secrets\.{secret} \}}\}}$", text, re.M), secret


def test_tests_workflow_runs_make_test_on_push_and_pull_request():
    workflow = load_workflow("tests.yml")
    assert set(workflow["on"]) == {"push", "pull_request"}
    assert workflow["permissions"] == {"contents": "read"}
    (job,) = workflow["jobs"].values()
    assert job["runs-on"] == "ubuntu-latest"
    setup = next(s for s in job["steps"] if "setup-python" in s.get("uses", ""))
    assert setup["with"]["python-version"] == "3.11"
    assert any(s.get("run", "").startswith("make test") for s in job["steps"])


# -- Snakemake profiles -------------------------------------------------------------------


def snakemake_options() -> set[str]:
    proc = subprocess.run(
        [sys.executable, "-m", "snakemake", "--help"], capture_output=True, text=True, check=True
    )
    return set(re.findall(r"--([a-z][a-z0-9-]*)", proc.stdout))


def test_default_profile_works_for_a_dry_run():
    profile = yaml.safe_load((REPO_ROOT / "workflow/profiles/default/config.yaml").read_text())
    assert profile == {
        "cores": 4,
        "keep-going": False,
        "rerun-incomplete": True,
        "printshellcmds": True,
        "latency-wait": 5,
    }
    proc = subprocess.run(
        [sys.executable, "-m", "snakemake", "--profile", "workflow/profiles/default", "-n"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=False,
        timeout=900,
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]


def test_slurm_profile_keys_are_snakemake_options():
    profile = yaml.safe_load((REPO_ROOT / "workflow/profiles/slurm/config.yaml").read_text())
    assert profile["executor"] == "slurm" and profile["jobs"] == 100
    assert profile["retries"] >= 1
    assert {"slurm_partition", "runtime", "mem_mb"} <= set(profile["default-resources"])
    unknown = set(profile) - snakemake_options()
    assert not unknown, f"not Snakemake options: {unknown}"
    text = (REPO_ROOT / "workflow/profiles/slurm/config.yaml").read_text()
    assert "localrules" in text  # network rules stay on the submit node
    assert "search_review" in (REPO_ROOT / "Snakefile").read_text().split("localrules:")[1]
