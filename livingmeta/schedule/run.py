"""One scheduled run: lock, log, Snakemake, decision, notification."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from contextlib import suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from livingmeta.schedule.decision import Decision, decide, summary_text, update_scope
from livingmeta.schedule.exit_codes import EXIT_ERROR, EXIT_LOCKED, EXIT_OK
from livingmeta.schedule.findings import read_review_changes, read_source_problems
from livingmeta.schedule.locks import LockedError, exclusive_lock
from livingmeta.schedule.notifications import NOTIFY_ENV, notify
from livingmeta.schedule.redaction import SECRET_ENV, Redactor
from livingmeta.schedule.run_log import new_log_path, utc_stamp
from livingmeta.schedule.snakemake_lock import clear_stale_lock, locked_by_another_run
from livingmeta.schedule.snakemake_log import (
    FailedJob,
    is_invalid_data,
    parse_failed_jobs,
    with_job_logs,
)

CRONTAB_LINE = (
    '0 6 * * 1  cd /path/to/livingmeta && . "$HOME/.config/livingmeta.env" && '
    ".venv/bin/python scripts/scheduled_run.py --quiet"
)


@dataclass
class RunOptions:
    """Options of one scheduled run (the CLI's arguments, see ``scripts/scheduled_run.py``)."""

    workdir: Path
    cores: int = 4
    profile: str | None = "workflow/profiles/default"
    configfile: str = "config/config.yaml"
    strict: bool = False
    snakemake: Sequence[str] = (sys.executable, "-m", "snakemake")
    extra_args: Sequence[str] = ()
    log_dir: str = "logs/scheduled"
    lock_file: str = "logs/scheduled/scheduled_run.lock"
    notify: bool = True
    quiet: bool = False
    validate: bool = True


def snakemake_command(options: RunOptions, overlay: Path | None = None) -> list[str]:
    """The Snakemake command line of a run (``--keep-going`` always: one review's bad data
    must not keep the rest of the portfolio from updating)."""
    command = [*options.snakemake, "--cores", str(options.cores)]
    if options.profile:
        command += ["--profile", options.profile]
    command.append("--keep-going")
    if overlay is not None or options.configfile != RunOptions.configfile:
        # --config cannot set a nested boolean (values are parsed as strings), so strict
        # runs add a second config file that Snakemake merges over the first.
        command += ["--configfiles", options.configfile]
        if overlay is not None:
            command.append(str(overlay))
    return command + list(options.extra_args)


def _child_env(environ: Mapping[str, str]) -> dict[str, str]:
    return {k: v for k, v in environ.items() if k not in NOTIFY_ENV}


def _livingmeta_validate(
    options: RunOptions, environ: Mapping[str, str], emit: Callable[[str], None]
) -> list[str]:
    """Run ``livingmeta validate --config FILE`` when this version of the CLI has it.

    Returns the problems (empty when valid or when the command does not exist: Snakemake's
    ``validate_outcome`` jobs still catch invalid data, with the same exit code).
    """
    exe = Path(sys.executable).with_name("livingmeta")
    if not exe.exists():
        return []
    env = _child_env(environ)
    probe = subprocess.run(
        [str(exe), "validate", "--help"],
        cwd=options.workdir, capture_output=True, text=True, env=env, check=False,
    )  # fmt: skip
    if probe.returncode != 0:
        emit("livingmeta validate is not available; relying on the workflow's validation")
        return []
    proc = subprocess.run(
        [str(exe), "validate", "--config", options.configfile],
        cwd=options.workdir, capture_output=True, text=True, env=env, check=False,
    )  # fmt: skip
    for line in (proc.stdout + proc.stderr).splitlines():
        emit(f"validate: {line}")
    if proc.returncode == 2:
        head = f"livingmeta validate: invalid config or review data ({options.configfile})"
        return [head, *validation_report_lines(proc.stderr)]
    if proc.returncode != 0:
        emit(f"livingmeta validate exited with {proc.returncode}; continuing")
    return []


#: Problems of a validation report carried into the summary and notification (the log
#: has them all).
MAX_REPORTED_PROBLEMS = 20


def validation_report_lines(report: str) -> list[str]:
    """The problems of ``livingmeta validate``'s report (``  - file, row, column: ...``
    or ``  config: key: ...``), so the notification says what to fix, not only where to
    look."""
    lines = [line.strip().removeprefix("- ") for line in report.splitlines()]
    problems = [line for line in lines[1:] if line] if len(lines) > 1 else lines
    if len(problems) > MAX_REPORTED_PROBLEMS:
        more = len(problems) - MAX_REPORTED_PROBLEMS
        problems = [*problems[:MAX_REPORTED_PROBLEMS], f"... and {more} more (see the log)"]
    return problems


def run_scheduled(
    options: RunOptions,
    environ: Mapping[str, str] | None = None,
    *,
    stdout: TextIO | None = None,
) -> int:
    """One scheduled run: lock, log, Snakemake, decision, notification. Returns the exit
    code (see :mod:`livingmeta.schedule`); never raises for expected failures."""
    environ = dict(os.environ if environ is None else environ)
    stdout = stdout or sys.stdout
    workdir = options.workdir.resolve()
    lock_path = workdir / options.lock_file
    try:
        with exclusive_lock(lock_path):
            return _run_locked(options, workdir, environ, stdout)
    except LockedError as exc:
        print(f"scheduled_run: {exc}; exiting with code {EXIT_LOCKED}", file=sys.stderr)
        return EXIT_LOCKED


class RunLog:
    """Each line of a run goes to its log file (secrets redacted) and, unless the run is
    quiet, to the console; ``always`` lines (the summary) are printed in any case."""

    def __init__(self, file: TextIO, stdout: TextIO, redact: Redactor, quiet: bool) -> None:
        self.file, self.stdout, self.redact, self.quiet = file, stdout, redact, quiet
        self.path = Path(file.name)

    def __call__(self, line: str, *, always: bool = False) -> None:
        clean = self.redact(line.rstrip("\n"))
        self.file.write(clean + "\n")
        self.file.flush()
        if always or not self.quiet:
            print(clean, file=self.stdout, flush=True)


def _run_locked(options: RunOptions, workdir: Path, environ: dict[str, str], stdout: TextIO) -> int:
    started = datetime.now(UTC)
    stamp = utc_stamp(started)
    log_path = new_log_path(workdir / options.log_dir, stamp)
    review_ids: list[str] = []
    with open(log_path, "w", encoding="utf-8") as log_file:
        log = RunLog(log_file, stdout, Redactor.from_env(environ), options.quiet)
        try:
            log(f"scheduled run {stamp} in {workdir}")
            review_ids, invalid = _check_config(options, workdir, environ, log)
            decision = _run_workflow(options, workdir, environ, log, review_ids, invalid)
        except Exception as exc:  # the run must end with a code, and the log must say why
            log(f"unexpected error: {type(exc).__name__}: {exc}")
            decision = Decision(EXIT_ERROR, [f"{type(exc).__name__}: {exc}"])
        summary = decision.to_dict() | {
            "run_id": stamp,
            "log": str(log_path.relative_to(workdir)),
            "scope": update_scope(review_ids) if review_ids else "all",
            "started_at": utc_stamp(started, pretty=True),
            "finished_at": utc_stamp(pretty=True),
        }
        _report(decision, summary, options, environ, log, log_path)
    return decision.code


def _check_config(
    options: RunOptions, workdir: Path, environ: Mapping[str, str], log: RunLog
) -> tuple[list[str], list[str]]:
    """The config's review ids and the problems found before Snakemake runs.

    The NCBI key's variable named in the config joins the secrets the log hides.
    """
    import livingmeta.config as lm_config

    try:
        config = lm_config.load_config(workdir / options.configfile)
    except lm_config.ConfigError as exc:
        for line in str(exc).splitlines():
            log(line)
        return [], [str(exc)]
    key_env = (config.get("retrieval") or {}).get("api_key_env")
    if key_env and key_env not in SECRET_ENV:
        log.redact = Redactor.from_env(environ, [key_env])
    invalid = _livingmeta_validate(options, environ, log) if options.validate else []
    return list(lm_config.reviews(config)), invalid


def _run_workflow(
    options: RunOptions,
    workdir: Path,
    environ: Mapping[str, str],
    log: RunLog,
    review_ids: Sequence[str],
    invalid: Sequence[str],
) -> Decision:
    """Run Snakemake (unless the config is invalid) and decide the exit code from what
    it did and what each review's reports say."""
    returncode, failed = 0, []
    since = time.time() - 1.0  # mtime granularity of some file systems
    if review_ids:
        try:
            clear_stale_lock(workdir, lambda: _unlock(options, workdir, environ, log), log)
            returncode, failed = _run_snakemake(options, workdir, environ, log)
        except LockedError as exc:
            log(f"{exc}; nothing was run")
            return Decision(EXIT_LOCKED, [str(exc)])
    found = (
        read_review_changes(workdir, review_id, since) or read_source_problems(workdir, review_id)
        for review_id in review_ids
    )
    reviews = [changes for changes in found if changes is not None]
    return decide(
        reviews,
        snakemake_returncode=returncode,
        failed_jobs=failed,
        invalid=invalid,
        strict=options.strict,
    )


def _run_snakemake(
    options: RunOptions, workdir: Path, environ: Mapping[str, str], log: RunLog
) -> tuple[int, list[FailedJob]]:
    """Snakemake's exit status and failed jobs (with validation reports echoed).

    Raises
    ------
    LockedError
        Another Snakemake run locked the folder just before this one started.
    """
    overlay = None
    if options.strict:
        overlay = workdir / options.log_dir / f"{log.path.stem}.strict.yaml"
        overlay.write_text("retrieval:\n  strict: true\n", encoding="utf-8")
    command = snakemake_command(options, overlay)
    log("$ " + shlex.join(command))
    returncode, output = _run_streaming(command, workdir, _child_env(environ), log)
    log(f"snakemake exited with status {returncode}")
    if returncode != 0 and locked_by_another_run(output):
        raise LockedError(f"another Snakemake run locked {workdir} as this one started")
    failed = with_job_logs(parse_failed_jobs(output), workdir)
    for job in failed:
        if is_invalid_data(job) and job.log:
            _echo_job_log(workdir / job.log, log)
    return returncode, failed


def _unlock(options: RunOptions, workdir: Path, environ: Mapping[str, str], log: RunLog) -> None:
    """``snakemake --unlock`` with the run's own options (Snakemake removes its lock)."""
    command = [*snakemake_command(options), "--unlock"]
    log("$ " + shlex.join(command))
    proc = subprocess.run(
        command, cwd=workdir, env=_child_env(environ), capture_output=True, text=True, check=False
    )
    for line in (proc.stdout + proc.stderr).splitlines():
        log(line)
    if proc.returncode != 0:
        raise RuntimeError(f"snakemake --unlock exited with status {proc.returncode}")


def _report(
    decision: Decision,
    summary: Mapping[str, Any],
    options: RunOptions,
    environ: Mapping[str, str],
    log: RunLog,
    log_path: Path,
) -> None:
    """Say what the run found: console and log, ``<log>.json``, GitHub outputs, people."""
    # --quiet (cron mails any output): silent when nothing is new, summary otherwise.
    loud = decision.code != EXIT_OK
    for line in summary_text(decision, run_id=summary["run_id"]).splitlines():
        log(line, always=loud)
    summary_path = log_path.with_suffix(".json")
    summary_path.write_text(log.redact(json.dumps(summary, indent=2)) + "\n", encoding="utf-8")
    _github_outputs(environ, decision, summary, summary_path)
    if options.notify:
        notify(decision, environ, redact=log.redact, run_id=summary["run_id"], log=log)
    log(f"log: {log_path}", always=loud)


def _run_streaming(
    command: Sequence[str], cwd: Path, env: Mapping[str, str], emit: Callable[[str], None]
) -> tuple[int, str]:
    """Run ``command``, sending each output line to ``emit`` as it comes (a long run
    shows progress in the log), and return its status and whole output."""
    lines: list[str] = []
    with subprocess.Popen(
        list(command),
        cwd=cwd,
        env=dict(env),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        errors="replace",
    ) as proc:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.append(line)
            emit(line)
        returncode = proc.wait()
    return returncode, "".join(lines)


def _echo_job_log(path: Path, emit: Callable[[str], None]) -> None:
    """Copy a failed validation job's report into the run log (one place to read)."""
    with suppress(OSError):
        for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
            if " ERROR " in line or line.startswith("  - "):
                emit(f"  {path.name}: {line}")


def _github_outputs(
    environ: Mapping[str, str], decision: Decision, summary: Mapping[str, Any], path: Path
) -> None:
    """Under GitHub Actions, expose the findings as step outputs, so the workflow can open
    the pull request (``has_changes``) even when a more urgent code is returned."""
    target = environ.get("GITHUB_OUTPUT")
    if not target:
        return
    with open(target, "a", encoding="utf-8") as handle:
        handle.write(f"exit_code={decision.code}\n")
        handle.write(f"has_changes={'true' if decision.has_changes else 'false'}\n")
        handle.write(f"scope={summary['scope']}\n")
        handle.write(f"summary={path}\n")
