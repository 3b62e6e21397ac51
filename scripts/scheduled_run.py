"""Run the living review workflow on a schedule (cron or GitHub Actions) and say with the
exit code whether anybody needs to look. The logic lives in ``livingmeta.schedule``."""

from __future__ import annotations

import argparse
import shlex
import sys
from collections.abc import Sequence
from pathlib import Path

from livingmeta.schedule import CRONTAB_LINE, PRECEDENCE, ExitCode, RunOptions, run_scheduled

REPO_ROOT = Path(__file__).resolve().parents[1]

EPILOG = f"""\
exit codes (most urgent wins: {" > ".join(str(c) for c in (ExitCode.LOCKED, *PRECEDENCE))}):
{chr(10).join(f"  {code:>2}  {code.meaning}" for code in sorted(ExitCode))}

crontab line (weekly, Monday 06:00 in the machine's time zone; the env file exports
NCBI_API_KEY, LIVINGMETA_NCBI_EMAIL and the notification settings; chmod 600 it):
  {CRONTAB_LINE}

notifications (only when the exit code is not 0 or 40):
  LIVINGMETA_WEBHOOK_URL        POST a JSON summary (Slack/Mattermost-style "text" field)
  LIVINGMETA_SMTP_HOST, LIVINGMETA_MAIL_TO (comma-separated), optional
  LIVINGMETA_SMTP_PORT, LIVINGMETA_SMTP_SECURITY (starttls|ssl|none),
  LIVINGMETA_SMTP_USER, LIVINGMETA_SMTP_PASSWORD, LIVINGMETA_MAIL_FROM

Each run writes logs/scheduled/<UTC timestamp>.log (Snakemake's output, secrets
redacted) and a .json summary next to it. Extra Snakemake options go after `--`.
"""


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="scheduled_run.py",
        description=__doc__,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--workdir", type=Path, default=REPO_ROOT, help="workflow folder")
    parser.add_argument("--cores", type=int, default=4, help="Snakemake --cores (default 4)")
    parser.add_argument(
        "--profile", default="workflow/profiles/default", help="Snakemake profile ('' for none)"
    )
    parser.add_argument("--configfile", default="config/config.yaml")
    parser.add_argument(
        "--strict", action="store_true", help="a failing source fails the run (retrieval.strict)"
    )
    parser.add_argument(
        "--snakemake",
        default=f"{shlex.quote(sys.executable)} -m snakemake",
        help="command that runs Snakemake (default: this Python's snakemake module)",
    )
    parser.add_argument("--log-dir", default="logs/scheduled")
    parser.add_argument("--lock-file", default="logs/scheduled/scheduled_run.lock")
    parser.add_argument("--no-notify", action="store_true", help="send no notification")
    parser.add_argument("--no-validate", action="store_true", help="skip `livingmeta validate`")
    parser.add_argument("--quiet", action="store_true", help="print only the summary")
    parser.add_argument("extra", nargs="*", help="extra Snakemake options, after `--`")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    options = RunOptions(
        workdir=args.workdir,
        cores=args.cores,
        profile=args.profile or None,
        configfile=args.configfile,
        strict=args.strict,
        snakemake=shlex.split(args.snakemake),
        extra_args=args.extra,
        log_dir=args.log_dir,
        lock_file=args.lock_file,
        notify=not args.no_notify,
        quiet=args.quiet,
        validate=not args.no_validate,
    )
    return run_scheduled(options)


if __name__ == "__main__":
    sys.exit(main())
