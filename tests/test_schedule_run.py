"""Scheduled runs end to end: the lock (from a second real process), the dated log and
summary, secrets kept out of both, and the real workflow against local fake sources."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml

from livingmeta.config import REPO_ROOT
from livingmeta.schedule.exit_codes import (
    EXIT_CHANGES,
    EXIT_ERROR,
    EXIT_INVALID,
    EXIT_LOCKED,
    EXIT_OK,
    EXIT_STALE,
)
from livingmeta.schedule.locks import exclusive_lock
from livingmeta.schedule.run import CRONTAB_LINE, RunOptions, run_scheduled
from tests.schedule_data import (
    NCBI_KEY,
    WEBHOOK_TOKEN,
    Recorder,
)
from tests.workflow_copy import WORKFLOW_FILES

# -- lock, log and the run ----------------------------------------------------------------

FAKE_SNAKEMAKE = textwrap.dedent(
    """\
    # A stand-in for Snakemake: prints its arguments, leaks a secret on purpose, writes a
    # retrieval report with new candidates, and sleeps if asked (lock tests).
    import json, os, pathlib, sys, time
    print("fake snakemake", " ".join(sys.argv[1:]))
    print("GET https://eutils/esearch.fcgi?db=pubmed&api_key=" + os.environ.get("NCBI_API_KEY", ""))
    print("webhook in child env:", "LIVINGMETA_WEBHOOK_URL" in os.environ)
    out = pathlib.Path("results/rescue_stenting/retrieval/report.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    new = int(os.environ.get("FAKE_NEW", "2"))
    stale = json.loads(os.environ.get("FAKE_STALE", "[]"))
    if new >= 0:  # FAKE_NEW=-1: the searches already ran today (nothing written)
        out.write_text(json.dumps({"review": "rescue_stenting", "new_candidates": new,
                                   "searches": [], "changes": [], "stale": stale}))
    time.sleep(float(os.environ.get("FAKE_SLEEP", "0")))
    sys.exit(int(os.environ.get("FAKE_EXIT", "0")))
    """
)


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    """A folder with the real config and a fake Snakemake (no workflow runs)."""
    (tmp_path / "config").mkdir()
    shutil.copy2(REPO_ROOT / "config" / "config.yaml", tmp_path / "config" / "config.yaml")
    (tmp_path / "fake_snakemake.py").write_text(FAKE_SNAKEMAKE)
    return tmp_path


def fake_options(workdir: Path, **kwargs: Any) -> RunOptions:
    return RunOptions(
        workdir=workdir,
        cores=1,
        snakemake=(sys.executable, str(workdir / "fake_snakemake.py")),
        validate=False,
        **kwargs,
    )


def test_run_writes_dated_log_and_summary_without_secrets(workdir, capsys):
    github_output = workdir / "github_output"
    env = {
        **os.environ,
        "NCBI_API_KEY": NCBI_KEY,
        "LIVINGMETA_WEBHOOK_URL": "http://127.0.0.1:9/" + WEBHOOK_TOKEN,
        "GITHUB_OUTPUT": str(github_output),
    }
    code = run_scheduled(fake_options(workdir, notify=False), env)
    assert code == EXIT_CHANGES
    logs = sorted((workdir / "logs" / "scheduled").glob("*.log"))
    assert len(logs) == 1 and re.fullmatch(r"\d{8}T\d{6}Z\.log", logs[0].name)
    text = logs[0].read_text()
    assert "fake snakemake --cores 1 --profile workflow/profiles/default --keep-going" in text
    assert "api_key=***" in text and NCBI_KEY not in text
    assert "webhook in child env: False" in text  # notification secrets stay out of jobs
    assert "changes for reviewers (exit code 10)" in text
    summary = json.loads(logs[0].with_suffix(".json").read_text())
    assert summary["exit_code"] == 10 and summary["has_changes"] is True
    assert summary["scope"] == "rescue_stenting"
    outputs = github_output.read_text()
    assert "has_changes=true" in outputs and "scope=rescue_stenting" in outputs
    printed = capsys.readouterr()
    assert NCBI_KEY not in printed.out + printed.err


def test_strict_run_passes_retrieval_strict_as_a_config_overlay(workdir):
    code = run_scheduled(fake_options(workdir, notify=False, strict=True), dict(os.environ))
    assert code == EXIT_CHANGES
    log = next((workdir / "logs" / "scheduled").glob("*.log")).read_text()
    overlay = re.search(r"--configfiles config/config\.yaml (\S+\.strict\.yaml)", log)
    assert overlay, log
    assert yaml.safe_load(Path(overlay[1]).read_text()) == {"retrieval": {"strict": True}}


def test_quiet_run_is_silent_when_nothing_is_new(workdir, capsys):
    env = {**os.environ, "FAKE_NEW": "0"}
    assert run_scheduled(fake_options(workdir, notify=False, quiet=True), env) == EXIT_OK
    assert capsys.readouterr().out == ""  # cron mails nothing
    env["FAKE_NEW"] = "1"
    assert run_scheduled(fake_options(workdir, notify=False, quiet=True), env) == EXIT_CHANGES
    out = capsys.readouterr().out
    assert "changes for reviewers (exit code 10)" in out and "fake snakemake" not in out


def test_a_second_run_the_same_day_still_reports_a_stale_source(workdir):
    """The second run searches nothing (once a day) and so writes no retrieval report,
    but the source the first one missed is still missing: 20 both times."""
    stale = [{"search_id": "pubmed_rescue_stenting", "since": "2026-12-01", "failing": 3}]
    env = {**os.environ, "FAKE_NEW": "0", "FAKE_STALE": json.dumps(stale)}
    assert run_scheduled(fake_options(workdir, notify=False), env) == EXIT_STALE
    report = workdir / "results/rescue_stenting/retrieval/report.json"
    os.utime(report, (time.time() - 3600, time.time() - 3600))  # written by the morning's run
    env["FAKE_NEW"] = "-1"
    assert run_scheduled(fake_options(workdir, notify=False), env) == EXIT_STALE
    summaries = list((workdir / "logs" / "scheduled").glob("*.json"))
    assert len(summaries) == 2
    for summary in summaries:
        assert "1 stale sources" in json.loads(summary.read_text())["reasons"][0]


def test_snakemake_failure_without_a_failed_job_is_1(workdir):
    env = {**os.environ, "FAKE_EXIT": "1"}
    assert run_scheduled(fake_options(workdir, notify=False), env) == EXIT_ERROR


def test_invalid_config_is_30_and_snakemake_never_starts(workdir):
    config = workdir / "config" / "config.yaml"
    config.write_text(config.read_text().replace("measure: OR", "measure: HR", 1))
    assert run_scheduled(fake_options(workdir, notify=False), dict(os.environ)) == EXIT_INVALID
    log = next((workdir / "logs" / "scheduled").glob("*.log")).read_text()
    assert "'HR' is not one of" in log and "fake snakemake" not in log


def test_lock_held_in_process_gives_40(workdir, capsys):
    with exclusive_lock(workdir / "logs" / "scheduled" / "scheduled_run.lock"):
        code = run_scheduled(fake_options(workdir), dict(os.environ))
    assert code == EXIT_LOCKED
    assert "another scheduled run holds" in capsys.readouterr().err
    assert not list((workdir / "logs" / "scheduled").glob("*.log"))  # nothing else was done


def test_second_concurrent_run_exits_40_at_once(workdir):
    script = REPO_ROOT / "scripts" / "scheduled_run.py"
    fake = f"{sys.executable} {workdir / 'fake_snakemake.py'}"
    command = [sys.executable, str(script), "--workdir", str(workdir), "--snakemake", fake]
    command += ["--no-notify", "--no-validate", "--cores", "1"]
    # The first run holds the lock far longer than a loaded machine needs to start the
    # second; it is killed at the end, never waited for.
    env = {**os.environ, "FAKE_SLEEP": "600"}
    first = subprocess.Popen(
        command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True
    )
    try:
        lock = workdir / "logs" / "scheduled" / "scheduled_run.lock"
        deadline = time.monotonic() + 300
        while not (lock.exists() and f"pid {first.pid}" in lock.read_text()):
            assert time.monotonic() < deadline, "first run never took the lock"
            time.sleep(0.05)
        started = time.monotonic()
        second = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)
        assert second.returncode == EXIT_LOCKED
        assert first.poll() is None  # it ended while the first run was still holding the lock
        assert time.monotonic() - started < 300  # at once, not after the first run (600 s)
        assert f"pid {first.pid}" in second.stderr and "exiting with code 40" in second.stderr
    finally:
        os.killpg(first.pid, signal.SIGKILL)  # the run and its fake Snakemake
        first.wait()


def test_help_documents_codes_and_crontab_line():
    script = REPO_ROOT / "scripts" / "scheduled_run.py"
    proc = subprocess.run(
        [sys.executable, str(script), "--help"], capture_output=True, text=True, check=True
    )
    assert CRONTAB_LINE in proc.stdout
    for code in ("0", "10", "20", "30", "40", "1"):
        assert re.search(rf"^\s+{code}\s+\w", proc.stdout, re.M), code


@pytest.fixture
def webhook() -> Iterator[Recorder]:
    recorder = Recorder()
    yield recorder
    recorder.close()


# -- end to end ---------------------------------------------------------------------------


@pytest.mark.slow
def test_scheduled_run_end_to_end(tmp_path, webhook):
    """The real workflow on a copy with local fake sources: a first run finds new records
    (10) and notifies, a second run finds nothing new (0), broken data gives 30."""
    from tests.fakeserver import (
        CtgovPages,
        FakeServer,
        PubmedCorpus,
        Reply,
        chain_pages,
        minimal_study,
        pubmed_article,
    )

    root = tmp_path / "wf"
    root.mkdir()
    for name in WORKFLOW_FILES:
        source = REPO_ROOT / name
        if source.is_dir():
            shutil.copytree(source, root / name, ignore=shutil.ignore_patterns("retrieval"))
        else:
            shutil.copy2(source, root / name)
    config = root / "config" / "config.yaml"
    config.write_text(config.read_text().replace("formats: [png, svg, pdf]", "formats: [png]"))
    hook = webhook.url + WEBHOOK_TOKEN
    with FakeServer() as sources:
        PubmedCorpus(
            {"31000001": date(2024, 5, 2)},
            {"31000001": pubmed_article("31000001", "Rescue stenting after failed thrombectomy")},
        ).install(sources)
        sources.route("/studies", CtgovPages(chain_pages([[minimal_study("NCT09999999")]])))
        sources.route("/version", lambda r: Reply.json({"dataTimestamp": "2024-05-03T09:00:00"}))
        env = {
            **os.environ,
            "LIVINGMETA_EUTILS_URL": sources.url,
            "LIVINGMETA_CTGOV_URL": sources.url,
            "NCBI_API_KEY": NCBI_KEY,
            "LIVINGMETA_WEBHOOK_URL": hook,
        }
        command = [sys.executable, str(root / "scripts" / "scheduled_run.py"), "--cores", "2"]

        def run() -> subprocess.CompletedProcess[str]:
            return subprocess.run(
                command, cwd=root, env=env, capture_output=True, text=True, timeout=1200
            )

        first = run()
        assert first.returncode == EXIT_CHANGES, first.stdout[-3000:] + first.stderr[-3000:]
        assert len(webhook.posts) == 1
        payload = json.loads(webhook.posts[0][2])
        assert payload["exit_code"] == EXIT_CHANGES and "2 new candidates" in payload["text"]

        second = run()
        assert second.returncode == EXIT_OK, second.stdout[-3000:]
        assert len(webhook.posts) == 1  # nothing new: nobody is disturbed

        table = root / "reviews" / "rescue_stenting" / "extraction.csv"
        table.write_text(
            table.read_text().replace(
                "peng2019,Peng 2019,2019,sich,9,66", "peng2019,Peng 2019,2019,sich,nine,66"
            )
        )
        third = run()
        assert third.returncode == EXIT_INVALID, third.stdout[-3000:]
        assert "'nine' is not a number" in third.stdout

    logs = sorted((root / "logs" / "scheduled").glob("*.log"))
    assert len(logs) == 3
    everything = "".join(p.read_text() for p in logs) + first.stdout + first.stderr
    assert NCBI_KEY not in everything and WEBHOOK_TOKEN not in everything
    assert "Nothing to be done" in logs[1].read_text()
