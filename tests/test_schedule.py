"""Scheduled runs: exit codes, lock, log, notifications, pull request body, CI workflows.

The exit code is the whole interface between a scheduled run and the people it should
alert, so every code is tested from file fixtures (``changes.json`` and the fallback
``report.json``), the lock from a second real process, and notifications against local
servers that record what they received (and that no secret was in it).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socketserver
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import yaml

from livingmeta import schedule
from livingmeta.config import REPO_ROOT
from livingmeta.schedule import (
    EXIT_CHANGES,
    EXIT_ERROR,
    EXIT_INVALID,
    EXIT_LOCKED,
    EXIT_OK,
    EXIT_STALE,
    Decision,
    FailedJob,
    Redactor,
    RunOptions,
    decide,
    exclusive_lock,
    from_changes_json,
    from_retrieval_report,
    md_escape,
    notify,
    parse_failed_jobs,
    pr_body,
    read_review_changes,
    run_scheduled,
)

WORKFLOWS = REPO_ROOT / ".github" / "workflows"
NCBI_KEY = "ncbi-secret-key-0123456789"
WEBHOOK_TOKEN = "T000/B000/hook-secret-token-xyz"

# -- fixtures -----------------------------------------------------------------------------


def changes_json(**overrides: Any) -> dict[str, Any]:
    """A run report (``results/<id>/report/changes.json``) with nothing in it."""
    data: dict[str, Any] = {
        "review": "rescue_stenting",
        "run_id": "2026-11-23T060000Z",
        "has_changes": False,
        "new_candidates": [],
        "conflicts": [],
        "newly_included": [],
        "retractions": [],
        "trial_changes": [],
        "estimate_changes": [],
        "stale_sources": [],
        "failed_sources": [],
        "invalid_data": [],
    }
    return data | overrides


def report_json(**overrides: Any) -> dict[str, Any]:
    """A retrieval report (``results/<id>/retrieval/report.json``) where all went well."""
    data: dict[str, Any] = {
        "review": "rescue_stenting",
        "run_id": "2026-11-23T060000Z",
        "started_at": "2026-11-23T06:00:00Z",
        "finished_at": "2026-11-23T06:00:09Z",
        "searches": [
            {"search_id": "pubmed_rescue_stenting", "source": "pubmed", "status": "ok"},
            {"search_id": "ctgov_rescue_stenting", "source": "ctgov", "status": "unchanged"},
        ],
        "new_candidates": 0,
        "linked_to_existing": 0,
        "changes": [],
        "stale": [],
        "prisma": {},
        "doubtful_pairs": 0,
    }
    return data | overrides


FAILED_SEARCH = {
    "search_id": "ctgov_rescue_stenting",
    "source": "ctgov",
    "status": "failed",
    "error": "HTTP 503 from https://clinicaltrials.gov/api/v2/studies",
}
STALE = {"search_id": "ctgov_rescue_stenting", "source": "ctgov", "since": None, "failing": True}


def code_of(*reviews: schedule.ReviewChanges, **kwargs: Any) -> int:
    return decide(list(reviews), **kwargs).code


# -- exit codes from changes.json ---------------------------------------------------------


def test_changes_json_nothing_new_is_0():
    assert code_of(from_changes_json(changes_json())) == EXIT_OK


@pytest.mark.parametrize(
    "field, value",
    [
        ("new_candidates", [{"record_id": "pubmed:1", "title": "A trial"}]),
        ("new_candidates", 3),
        ("retractions", [{"record_id": "pubmed:2", "kind": "retracted"}]),
        ("trial_changes", [{"record_id": "ctgov:NCT1", "kind": "overall_status"}]),
        ("estimate_changes", [{"outcome": "mortality_90d", "before": 0.39, "after": 0.41}]),
        ("newly_included", [{"study_id": "new2026"}]),
    ],
)
def test_changes_json_changes_for_reviewers_is_10(field, value):
    flagged = changes_json(**{field: value}, has_changes=True)
    assert code_of(from_changes_json(flagged)) == EXIT_CHANGES
    del flagged["has_changes"]  # without the flag, the listed changes decide
    review = from_changes_json(flagged)
    assert review.has_changes and review.counts[field] == (value if value == 3 else 1)
    assert code_of(review) == EXIT_CHANGES


def test_changes_json_has_changes_flag_wins():
    # The run report knows best what reviewers must see (e.g. a change it does not list).
    assert code_of(from_changes_json(changes_json(has_changes=True))) == EXIT_CHANGES
    listed = changes_json(has_changes=False, conflicts=[{"record_id": "x"}])
    assert code_of(from_changes_json(listed)) == EXIT_OK


@pytest.mark.parametrize("field", ["stale_sources", "failed_sources"])
def test_changes_json_failed_or_stale_source_is_20(field):
    review = from_changes_json(changes_json(**{field: [{"search_id": "ctgov_rescue_stenting"}]}))
    assert code_of(review) == EXIT_STALE


def test_changes_json_invalid_data_is_30():
    review = from_changes_json(changes_json(invalid_data=["row 7: 60 events exceed 48"]))
    assert code_of(review) == EXIT_INVALID


# -- exit codes from the fallback report.json ---------------------------------------------


def test_report_json_nothing_new_is_0():
    assert code_of(from_retrieval_report(report_json())) == EXIT_OK


def test_report_json_new_candidates_is_10():
    review = from_retrieval_report(report_json(new_candidates=2))
    assert review.counts["new_candidates"] == 2
    assert code_of(review) == EXIT_CHANGES


def test_report_json_watched_record_changes_are_sorted_and_10():
    changes = [
        {"kind": "retracted", "record_id": "pubmed:1", "before": False, "after": True},
        {"kind": "overall_status", "record_id": "ctgov:NCT1", "before": "RECRUITING"},
        {"kind": "missing_from_pubmed", "record_id": "pubmed:3"},
    ]
    review = from_retrieval_report(report_json(changes=changes))
    assert (review.counts["retractions"], review.counts["trial_changes"]) == (1, 1)
    assert review.counts["other_changes"] == 1
    assert code_of(review) == EXIT_CHANGES


def test_report_json_failed_search_is_20():
    searches = [report_json()["searches"][0], FAILED_SEARCH]
    review = from_retrieval_report(report_json(searches=searches, stale=[STALE]))
    assert review.counts["failed_sources"] == 1 and review.counts["stale_sources"] == 1
    assert code_of(review) == EXIT_STALE


def test_report_json_failed_watch_list_is_20():
    review = from_retrieval_report(
        report_json(changes=[{"kind": "watch_list_failed", "error": "timeout"}])
    )
    assert not review.has_changes
    assert code_of(review) == EXIT_STALE


# -- exit codes from Snakemake's outcome --------------------------------------------------

SNAKEMAKE_OUTPUT = """\
RuleException:
CalledProcessError in file "/w/workflow/rules/pool.smk", line 13:
Command 'set -euo pipefail;  python /w/.snakemake/scripts/tmp.validate_outcome.py' returned non-zero exit status 2.
[Wed Nov 25 09:26:27 2026]
Error in rule validate_outcome:
    message: None
    jobid: 8
    input: reviews/rescue_stenting/extraction.csv
    output: results/rescue_stenting/.validated/sich.csv
    log: logs/validate_outcome/rescue_stenting/sich.log (check log file(s) for error details)
Execute 1 jobs...
CalledProcessError in file "/w/workflow/rules/plot.smk", line 1:
Command 'python plot_outcome.py' returned non-zero exit status 1.
Error in rule plot_outcome:
    jobid: 9
    log: logs/plot_outcome/other_review/mortality.log (check log file(s) for error details)
Exiting because a job execution failed. Look above for error messages
"""


def test_failed_jobs_are_parsed_from_snakemake_output():
    jobs = parse_failed_jobs(SNAKEMAKE_OUTPUT)
    assert jobs == [
        FailedJob("validate_outcome", "logs/validate_outcome/rescue_stenting/sich.log", 2),
        FailedJob("plot_outcome", "logs/plot_outcome/other_review/mortality.log", 1),
    ]
    assert [j.review for j in jobs] == ["rescue_stenting", "other_review"]


def test_failed_validation_job_is_30():
    job = FailedJob("validate_outcome", "logs/validate_outcome/r/o.log", 2)
    assert code_of(snakemake_returncode=1, failed_jobs=[job]) == EXIT_INVALID


def test_invalid_config_found_before_snakemake_is_30():
    assert code_of(invalid=["config/config.yaml: reviews[0].id: ..."]) == EXIT_INVALID


def test_failed_search_job_is_20_only_in_strict_runs():
    job = FailedJob("search_review", "logs/search_review/r.log", 1)
    assert code_of(snakemake_returncode=1, failed_jobs=[job], strict=True) == EXIT_STALE
    assert code_of(snakemake_returncode=1, failed_jobs=[job], strict=False) == EXIT_ERROR


def test_crashed_job_or_snakemake_is_1():
    job = FailedJob("pool_outcome", "logs/pool_outcome/r/o.log", 1)
    assert code_of(snakemake_returncode=1, failed_jobs=[job]) == EXIT_ERROR
    assert code_of(snakemake_returncode=1) == EXIT_ERROR


def test_precedence_most_urgent_code_wins_and_every_reason_is_kept():
    changed = from_changes_json(changes_json(review="a", new_candidates=4, has_changes=True))
    stale = from_retrieval_report(report_json(review="b", stale=[STALE]))
    invalid = FailedJob("validate_outcome", "logs/validate_outcome/c/o.log", 2)
    crash = FailedJob("plot_outcome", "logs/plot_outcome/d/o.log", 1)
    assert code_of(changed) == EXIT_CHANGES
    assert code_of(changed, stale) == EXIT_STALE
    assert code_of(changed, stale, snakemake_returncode=1, failed_jobs=[invalid]) == EXIT_INVALID
    decision = decide(
        [changed, stale], snakemake_returncode=1, failed_jobs=[invalid, crash], strict=False
    )
    assert decision.code == EXIT_ERROR
    assert decision.has_changes and decision.changed_reviews == ["a"]
    text = "\n".join(decision.reasons)
    for expected in ("a: 4 new candidates", "b: 1 stale sources", "invalid data", "job failed"):
        assert expected in text
    assert schedule.PRECEDENCE == (EXIT_ERROR, EXIT_INVALID, EXIT_STALE, EXIT_CHANGES, EXIT_OK)


def test_codes_are_distinct_and_documented():
    codes = [EXIT_OK, EXIT_ERROR, EXIT_CHANGES, EXIT_STALE, EXIT_INVALID, EXIT_LOCKED]
    assert len(set(codes)) == 6 and set(schedule.EXIT_MEANINGS) == set(codes)
    assert codes[1:] == [1, 10, 20, 30, 40]
    for code in codes:
        assert re.search(rf"^{code}\s+\S", schedule.__doc__ or "", re.M), code


# -- reading the files: changes.json first, report.json as fallback, only fresh ones -------


def write_json(path: Path, data: Any) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data))
    return path


def test_changes_json_is_preferred_and_report_json_is_the_fallback(tmp_path):
    report = write_json(
        tmp_path / "results/r1/retrieval/report.json", report_json(new_candidates=1)
    )
    found = read_review_changes(tmp_path, "r1")
    assert found is not None and found.source == "report.json" and found.review == "r1"
    write_json(tmp_path / "results/r1/report/changes.json", changes_json(new_candidates=[]))
    found = read_review_changes(tmp_path, "r1")
    assert found is not None and found.source == "changes.json" and not found.has_changes
    assert report.exists()


def test_files_older_than_the_run_are_ignored(tmp_path):
    old = write_json(tmp_path / "results/r1/report/changes.json", changes_json(has_changes=True))
    os.utime(old, (time.time() - 3600, time.time() - 3600))
    assert read_review_changes(tmp_path, "r1", since=time.time() - 60) is None
    fresh = write_json(tmp_path / "results/r1/retrieval/report.json", report_json())
    found = read_review_changes(tmp_path, "r1", since=fresh.stat().st_mtime - 1)
    assert found is not None and found.source == "report.json"


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
    out.write_text(json.dumps({"review": "rescue_stenting", "new_candidates": new,
                               "searches": [], "changes": [], "stale": []}))
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
    env = {**os.environ, "FAKE_SLEEP": "20"}
    first = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        lock = workdir / "logs" / "scheduled" / "scheduled_run.lock"
        deadline = time.monotonic() + 20
        while not (lock.exists() and f"pid {first.pid}" in lock.read_text()):
            assert time.monotonic() < deadline, "first run never took the lock"
            time.sleep(0.05)
        started = time.monotonic()
        second = subprocess.run(command, env=env, capture_output=True, text=True, timeout=30)
        assert second.returncode == EXIT_LOCKED
        assert time.monotonic() - started < 10  # at once, not after the first run
        assert f"pid {first.pid}" in second.stderr and "exiting with code 40" in second.stderr
    finally:
        first.kill()
        first.wait()


def test_help_documents_codes_and_crontab_line():
    script = REPO_ROOT / "scripts" / "scheduled_run.py"
    proc = subprocess.run(
        [sys.executable, str(script), "--help"], capture_output=True, text=True, check=True
    )
    assert schedule.CRONTAB_LINE in proc.stdout
    for code in ("0", "10", "20", "30", "40", "1"):
        assert re.search(rf"^\s+{code}\s+\w", proc.stdout, re.M), code


# -- notifications ------------------------------------------------------------------------


class Recorder:
    """A local HTTP server on 127.0.0.1 that records POSTs (a stand-in webhook)."""

    def __init__(self, status: int = 200) -> None:
        self.posts: list[tuple[str, dict[str, str], bytes]] = []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                owner.posts.append((self.path, dict(self.headers.items()), body))
                self.send_response(status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def webhook() -> Iterator[Recorder]:
    recorder = Recorder()
    yield recorder
    recorder.close()


def sample_decision() -> Decision:
    failed = dict(FAILED_SEARCH, error=f"HTTP 500 for ...&api_key={NCBI_KEY}")
    reviews = [
        from_retrieval_report(report_json(new_candidates=3)),
        from_retrieval_report(report_json(review="other", searches=[failed])),
    ]
    return decide(reviews)


def test_webhook_receives_json_summary_without_secrets(webhook):
    url = webhook.url + WEBHOOK_TOKEN + "?token=query-secret-123"
    env = {"LIVINGMETA_WEBHOOK_URL": url, "NCBI_API_KEY": NCBI_KEY}
    messages: list[str] = []
    sent = notify(
        sample_decision(),
        env,
        redact=Redactor.from_env(env),
        run_id="20261123T060000Z",
        log=messages.append,
    )
    assert sent == ["webhook"]
    assert len(webhook.posts) == 1
    path, headers, body = webhook.posts[0]
    assert path.startswith("/" + WEBHOOK_TOKEN)  # it went to the configured URL...
    payload = json.loads(body)
    assert headers["Content-Type"] == "application/json"
    assert payload["exit_code"] == EXIT_STALE and payload["has_changes"] is True
    assert "3 new candidates" in payload["text"]
    raw = body.decode()
    for secret in (NCBI_KEY, WEBHOOK_TOKEN, "query-secret-123"):
        assert secret not in raw  # ...but says nothing of it, nor of the NCBI key
        assert secret not in "\n".join(messages)
    assert "http://127.0.0.1/..." in "\n".join(messages)


def test_nothing_is_sent_when_nothing_is_new(webhook):
    env = {"LIVINGMETA_WEBHOOK_URL": webhook.url}
    decision = decide([from_retrieval_report(report_json())])
    assert notify(decision, env, redact=Redactor(), run_id="r", log=print) == []
    assert webhook.posts == []


def test_failing_webhook_is_logged_not_raised():
    recorder = Recorder(status=500)
    try:
        env = {"LIVINGMETA_WEBHOOK_URL": recorder.url + WEBHOOK_TOKEN}
        messages: list[str] = []
        sent = notify(
            sample_decision(), env, redact=Redactor.from_env(env), run_id="r", log=messages.append
        )
    finally:
        recorder.close()
    assert sent == []
    assert "failed" in messages[-1] and WEBHOOK_TOKEN not in messages[-1]


class FakeSmtp(socketserver.ThreadingTCPServer):
    """Just enough SMTP (RFC 5321, no extensions) to receive one message in a test."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self) -> None:
        self.messages: list[dict[str, Any]] = []
        server = self

        class Handler(socketserver.StreamRequestHandler):
            def handle(self) -> None:
                def say(line: str) -> None:
                    self.wfile.write(line.encode() + b"\r\n")

                say("220 fake.smtp ready")
                envelope: dict[str, Any] = {"to": [], "data": ""}
                while line := self.rfile.readline().decode():
                    verb = line[:4].upper()
                    if verb in ("EHLO", "HELO"):
                        say("250 fake.smtp")
                    elif verb == "MAIL":
                        envelope["from"] = line[10:].strip()
                        say("250 ok")
                    elif verb == "RCPT":
                        envelope["to"].append(line[8:].strip())
                        say("250 ok")
                    elif verb == "DATA":
                        say("354 end with .")
                        lines = []
                        while (data := self.rfile.readline().decode()) not in (".\r\n", ""):
                            lines.append(data)
                        envelope["data"] = "".join(lines)
                        server.messages.append(envelope)
                        say("250 queued")
                    elif verb == "QUIT":
                        say("221 bye")
                        return
                    else:
                        say("250 ok")

        super().__init__(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.serve_forever, daemon=True).start()


def test_email_is_sent_by_smtp_without_secrets():
    smtp = FakeSmtp()
    try:
        env = {
            "LIVINGMETA_SMTP_HOST": "127.0.0.1",
            "LIVINGMETA_SMTP_PORT": str(smtp.server_address[1]),
            "LIVINGMETA_SMTP_SECURITY": "none",
            "LIVINGMETA_MAIL_TO": "team@example.org, lead@example.org",
            "LIVINGMETA_MAIL_FROM": "livingmeta@example.org",
            "NCBI_API_KEY": NCBI_KEY,
        }
        messages: list[str] = []
        sent = notify(
            sample_decision(), env, redact=Redactor.from_env(env), run_id="r", log=messages.append
        )
    finally:
        smtp.shutdown()
        smtp.server_close()
    assert sent == ["email"], messages
    (mail,) = smtp.messages
    assert mail["to"] == ["<team@example.org>", "<lead@example.org>"]
    assert "Subject: [livingmeta] a source failed or is stale (exit code 20)" in mail["data"]
    assert "3 new candidates" in mail["data"] and NCBI_KEY not in mail["data"]


def test_redactor_hides_values_url_parts_and_key_parameters():
    redact = Redactor([NCBI_KEY, "https://hooks.example.org/" + WEBHOOK_TOKEN, "abc"])
    text = redact(f"key {NCBI_KEY} at /{WEBHOOK_TOKEN} and ?api_key=other123&x=1 abc")
    assert NCBI_KEY not in text and WEBHOOK_TOKEN not in text and "other123" not in text
    assert text.endswith("abc")  # too short to be a secret: left alone


# -- the pull request body ----------------------------------------------------------------


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
    assert "… and 4950 more" in body and len(body) <= schedule.PR_BODY_LIMIT + 100


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
    assert schedule.code_span("a`b\nc") == "`a'b c`"


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
        timeout=60,
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
        timeout=60,
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
        timeout=120,
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


# -- end to end ---------------------------------------------------------------------------

WORKFLOW_FILES = ("Snakefile", "workflow", "scripts", "config", "reviews")


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
                command, cwd=root, env=env, capture_output=True, text=True, timeout=120
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
