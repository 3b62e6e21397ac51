"""Scheduled runs: one entry point for cron and GitHub Actions that runs the workflow and
says, with its exit code, whether anybody needs to look.

A living review is only alive if somebody notices when it changes. Cron and CI only read
an exit code, so a run ends with one of these **documented, distinct codes**:

====  ==========================================================================
code  meaning
====  ==========================================================================
0     nothing new: every review is up to date and every source answered
10    changes for reviewers: new candidates, retraction notices, trial status
      changes, changed pooled estimates, newly included studies, conflicts
20    a source failed or is stale: some searches did not run; results may miss
      new records (``retrieval.strict`` / ``--strict`` also fails the search job);
      every run says so until a search of the source succeeds
30    invalid review data or config: a ``validate_outcome`` job (or
      ``livingmeta validate``) reported problems; that review's results were
      not updated
40    another run is in progress (a scheduled run, or Snakemake working in the
      same folder): this run did nothing; a lock left by a killed Snakemake
      is removed and the run goes on (``snakemake_lock``)
1     unexpected error: a job crashed or Snakemake itself failed
====  ==========================================================================

**Precedence** when several apply: ``40 > 1 > 30 > 20 > 10 > 0``. The code names the
*most urgent thing to fix*: a crash or invalid data means the results are not current at
all, a stale source means they may be incomplete, and only then do new records matter.
Nothing is lost by this: the run's summary (``logs/scheduled/<timestamp>.json``, the
notification and, under GitHub Actions, the step outputs ``has_changes`` and ``scope``)
always lists *every* finding, so a pull request for new candidates is still opened when
another review of the portfolio has invalid data.

Where the findings come from: :mod:`~livingmeta.schedule.findings`.

Secrets (the NCBI API key, the webhook URL, the SMTP password) are never written to the
log, the console, notifications or pull request bodies: every line goes through
:class:`Redactor`, and notification settings are removed from the environment Snakemake
runs in.

Modules, one job each: ``exit_codes`` (the codes above), ``findings`` (what each review's
run found), ``snakemake_log`` (failed jobs from Snakemake's output), ``decision`` (the
code from the findings), ``pr_body`` (the pull request text), ``redaction``,
``notifications``, ``locks``, ``run_log`` and ``run`` (one scheduled run end to end).
"""

from __future__ import annotations

from livingmeta.report.run_report import CHANGE_KINDS, PROBLEM_KINDS
from livingmeta.schedule.decision import Decision, decide, summary_text, update_scope
from livingmeta.schedule.exit_codes import (
    EXIT_CHANGES,
    EXIT_ERROR,
    EXIT_INVALID,
    EXIT_LOCKED,
    EXIT_MEANINGS,
    EXIT_OK,
    EXIT_STALE,
    PRECEDENCE,
    ExitCode,
)
from livingmeta.schedule.findings import (
    KIND_LABELS,
    ReviewChanges,
    collect_for_pr,
    from_changes_json,
    from_retrieval_report,
    read_review_changes,
    read_source_problems,
)
from livingmeta.schedule.locks import LockedError, exclusive_lock
from livingmeta.schedule.notifications import NOTIFY_ENV, notify, send_mail, send_webhook
from livingmeta.schedule.pr_body import PR_BODY_LIMIT, code_span, md_escape, pr_body
from livingmeta.schedule.redaction import SECRET_ENV, Redactor
from livingmeta.schedule.run import CRONTAB_LINE, RunOptions, run_scheduled, snakemake_command
from livingmeta.schedule.snakemake_log import FailedJob, parse_failed_jobs, with_job_logs

__all__ = [
    "CHANGE_KINDS",
    "CRONTAB_LINE",
    "EXIT_CHANGES",
    "EXIT_ERROR",
    "EXIT_INVALID",
    "EXIT_LOCKED",
    "EXIT_MEANINGS",
    "EXIT_OK",
    "EXIT_STALE",
    "KIND_LABELS",
    "NOTIFY_ENV",
    "PRECEDENCE",
    "PROBLEM_KINDS",
    "PR_BODY_LIMIT",
    "SECRET_ENV",
    "Decision",
    "ExitCode",
    "FailedJob",
    "LockedError",
    "Redactor",
    "ReviewChanges",
    "RunOptions",
    "code_span",
    "collect_for_pr",
    "decide",
    "exclusive_lock",
    "from_changes_json",
    "from_retrieval_report",
    "md_escape",
    "notify",
    "parse_failed_jobs",
    "pr_body",
    "read_review_changes",
    "read_source_problems",
    "run_scheduled",
    "send_mail",
    "send_webhook",
    "snakemake_command",
    "summary_text",
    "update_scope",
    "with_job_logs",
]
