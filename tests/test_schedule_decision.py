"""Scheduled runs: the exit code from the findings of a run.

The exit code is the whole interface between a scheduled run and the people it should
alert, so every code is tested from file fixtures (``changes.json`` and the fallback
``report.json``) and from Snakemake's output.
"""

from __future__ import annotations

import os
import re
import time
from typing import Any

import pytest

from livingmeta import schedule
from livingmeta.schedule.decision import decide
from livingmeta.schedule.exit_codes import (
    EXIT_CHANGES,
    EXIT_ERROR,
    EXIT_INVALID,
    EXIT_LOCKED,
    EXIT_OK,
    EXIT_STALE,
    PRECEDENCE,
)
from livingmeta.schedule.findings import (
    ReviewChanges,
    from_changes_json,
    from_retrieval_report,
    read_review_changes,
    read_source_problems,
)
from livingmeta.schedule.snakemake_log import FailedJob, parse_failed_jobs, with_job_logs
from tests.schedule_data import (
    FAILED_SEARCH,
    STALE,
    changes_json,
    report_json,
    write_json,
)


def code_of(*reviews: ReviewChanges, **kwargs: Any) -> int:
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
Command 'python plot_risk_of_bias.py' returned non-zero exit status 1.
Error in rule plot_risk_of_bias_my-review:
    jobid: 12
    log: logs/plot_risk_of_bias/my-review.log (check log file(s) for error details)
RuleException:
InputError in file "/w/workflow/rules/extraction.smk", line 11:
1 problem found:
  - reviews/r2/extraction.csv, row 3, column 'events_e': not a whole number
  File "/w/workflow/rules/extraction.smk", line 11, in __rule_check_extraction
[Wed Nov 25 09:26:29 2026]
Error in rule check_extraction:
    message: None
    jobid: 3
    log: logs/check_extraction/r2.log (check log file(s) for error details)
RuleException:
KeyError in file "/w/workflow/rules/pool.smk", line 16:
'estimate'
  File "/w/workflow/rules/pool.smk", line 16, in __rule_pool_outcome
Error in rule pool_outcome:
    jobid: 14
    log: logs/pool_outcome/r2/sich.log (check log file(s) for error details)
Exiting because a job execution failed. Look above for error messages
"""


def test_failed_jobs_are_parsed_from_snakemake_output():
    jobs = parse_failed_jobs(SNAKEMAKE_OUTPUT)
    assert jobs == [
        FailedJob("validate_outcome", "logs/validate_outcome/rescue_stenting/sich.log", 2),
        FailedJob("plot_outcome", "logs/plot_outcome/other_review/mortality.log", 1),
        # a rule defined per review is named after it, and review ids may hold a hyphen
        FailedJob("plot_risk_of_bias_my-review", "logs/plot_risk_of_bias/my-review.log", 1),
        # run in Snakemake's own process: invalid input raised, or a crash (no status)
        FailedJob("check_extraction", "logs/check_extraction/r2.log", 2),
        FailedJob("pool_outcome", "logs/pool_outcome/r2/sich.log", None),
    ]
    assert [j.review for j in jobs] == ["rescue_stenting", "other_review", "my-review", "r2", "r2"]


#: Two jobs run in Snakemake's process refusing the same studies.csv side by side: both
#: reports come before both ``Error in rule`` blocks (recorded from a real run).
INTERLEAVED_OUTPUT = """\
RuleException:
InputError in file "/w/workflow/rules/extraction.smk", line 45:
1 problem found:
  - reviews/r/studies.csv, row 2, column 'exclude_retracted': 'maybe' is not empty
  File "/w/workflow/rules/extraction.smk", line 45, in __rule_validate_outcome
RuleException:
InputError in file "/w/workflow/rules/screening.smk", line 17:
1 problem found:
  - reviews/r/studies.csv, row 2, column 'exclude_retracted': 'maybe' is not empty
  File "/w/workflow/rules/screening.smk", line 17, in __rule_check_screening
Error in rule settle_risk_of_bias:
    log: logs/settle_risk_of_bias/r.log (check log file(s) for error details)
Error in rule check_screening:
    log: logs/check_screening/r.log (check log file(s) for error details)
Error in rule pool_outcome:
    log: logs/pool_outcome/r/o.log (check log file(s) for error details)
"""


def test_each_failed_job_is_judged_by_its_own_log(tmp_path):
    """Console reports of jobs failing side by side can interleave (the status read there
    goes to the wrong job); each job's own log says whether it refused invalid input."""
    logs = {
        "settle_risk_of_bias/r.log": "2026-12-03 17:08:48,079 ERROR settle_risk_of_bias: "
        "invalid input: 1 problem found:\n  - reviews/r/studies.csv, row 2, ...\n",
        "check_screening/r.log": "2026-12-03 17:08:48,080 ERROR check_screening: "
        "invalid input: 1 problem found:\n  - reviews/r/studies.csv, row 2, ...\n",
        "pool_outcome/r/o.log": "2026-12-03 17:08:48,081 ERROR pool_outcome: failed\n"
        "Traceback (most recent call last):\nKeyError: 'estimate'\n",
    }
    for name, text in logs.items():
        (tmp_path / "logs" / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / "logs" / name).write_text(text)
    console = parse_failed_jobs(INTERLEAVED_OUTPUT)
    assert [j.exit_status for j in console] == [2, None, None]  # the console alone misleads
    jobs = with_job_logs(console, tmp_path)
    assert [j.invalid_input for j in jobs] == [True, True, False]
    assert code_of(snakemake_returncode=1, failed_jobs=jobs[:2]) == EXIT_INVALID
    assert code_of(snakemake_returncode=1, failed_jobs=jobs) == EXIT_ERROR
    # a job without a log keeps what the console said
    assert with_job_logs([FailedJob("draw_prisma", None, 2)], tmp_path)[0].invalid_input is None
    assert (
        code_of(snakemake_returncode=1, failed_jobs=[FailedJob("draw_prisma", None, 2)])
        == EXIT_INVALID
    )


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
    assert PRECEDENCE == (EXIT_ERROR, EXIT_INVALID, EXIT_STALE, EXIT_CHANGES, EXIT_OK)


def test_codes_are_distinct_and_documented():
    codes = [EXIT_OK, EXIT_ERROR, EXIT_CHANGES, EXIT_STALE, EXIT_INVALID, EXIT_LOCKED]
    assert len(set(codes)) == 6 and set(schedule.EXIT_MEANINGS) == set(codes)
    assert codes[1:] == [1, 10, 20, 30, 40]
    for code in codes:
        assert re.search(rf"^{code}\s+\S", schedule.__doc__ or "", re.M), code


# -- reading the files: changes.json first, report.json as fallback, only fresh ones -------


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


def test_failed_and_stale_sources_last_until_a_search_succeeds(tmp_path):
    """A second run the same day searches nothing: what the day's searches missed is
    still missing, so it is reported again (nothing else of the old report is)."""
    report = report_json(
        new_candidates=3, searches=[FAILED_SEARCH], stale=[STALE], changes=[{"kind": "errata"}]
    )
    old = write_json(tmp_path / "results/r1/retrieval/report.json", report)
    os.utime(old, (time.time() - 3600, time.time() - 3600))
    assert read_review_changes(tmp_path, "r1", since=time.time() - 60) is None
    found = read_source_problems(tmp_path, "r1")
    assert found is not None and found.review == "r1" and not found.has_changes
    assert found.counts["failed_sources"] == 1 and found.counts["stale_sources"] == 1
    assert found.counts["new_candidates"] == 0 and found.counts["retractions"] == 0
    assert decide([found]).code == EXIT_STALE
    write_json(old, report_json(new_candidates=3))  # the next day's searches succeeded
    assert read_source_problems(tmp_path, "r1") is None
    assert read_source_problems(tmp_path, "r2") is None  # no report yet


@pytest.mark.parametrize("text", ['{"searches": [', "[]", '{"changes": ["oops"]}'])
def test_an_unreadable_retrieval_report_is_a_failed_source_naming_it(tmp_path, text):
    path = tmp_path / "results/r1/retrieval/report.json"
    path.parent.mkdir(parents=True)
    path.write_text(text)
    found = read_source_problems(tmp_path, "r1")
    assert found is not None and found.counts["failed_sources"] == 1
    assert found.items["failed_sources"][0]["source"] == str(path)
    assert decide([found]).code == EXIT_STALE
