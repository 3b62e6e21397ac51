"""Telling people about a run that needs attention: a webhook and/or an e-mail."""

from __future__ import annotations

import json
import smtplib
import socket
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from email.message import EmailMessage
from typing import Any

from livingmeta.schedule.decision import Decision, summary_text
from livingmeta.schedule.exit_codes import EXIT_LOCKED, EXIT_OK
from livingmeta.schedule.redaction import Redactor, safe_url

#: Notification settings Snakemake's jobs never need (removed from their environment).
NOTIFY_ENV: tuple[str, ...] = (
    "LIVINGMETA_WEBHOOK_URL",
    "LIVINGMETA_SMTP_HOST",
    "LIVINGMETA_SMTP_PORT",
    "LIVINGMETA_SMTP_USER",
    "LIVINGMETA_SMTP_PASSWORD",
    "LIVINGMETA_SMTP_SECURITY",
    "LIVINGMETA_MAIL_FROM",
    "LIVINGMETA_MAIL_TO",
)


def send_webhook(url: str, payload: Mapping[str, Any], *, timeout: float = 15.0) -> int:
    """POST ``payload`` as JSON to ``url``; returns the HTTP status.

    The payload has a ``text`` field, which Slack, Mattermost and Teams incoming webhooks
    show as the message. Raises ``urllib.error.URLError``/``OSError`` on failure.
    """
    data = json.dumps(payload).encode("utf-8")
    request = urllib.request.Request(
        url,
        data=data,
        method="POST",
        headers={"Content-Type": "application/json", "User-Agent": "livingmeta-scheduled-run"},
    )
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return int(response.status)


def send_mail(
    environ: Mapping[str, str], subject: str, body: str, *, timeout: float = 30.0
) -> None:
    """Send ``body`` by SMTP as configured in the environment.

    ``LIVINGMETA_SMTP_HOST``, ``LIVINGMETA_MAIL_TO`` (comma-separated) are required;
    ``LIVINGMETA_SMTP_PORT`` (default 587, or 465 with ``ssl``, 25 with ``none``),
    ``LIVINGMETA_SMTP_SECURITY`` (``starttls`` default, ``ssl`` or ``none``),
    ``LIVINGMETA_SMTP_USER`` and ``LIVINGMETA_SMTP_PASSWORD`` (login when both are set),
    ``LIVINGMETA_MAIL_FROM`` (default ``livingmeta@<hostname>``) are optional.
    """
    security = environ.get("LIVINGMETA_SMTP_SECURITY", "starttls").lower()
    if security not in ("starttls", "ssl", "none"):
        raise ValueError("LIVINGMETA_SMTP_SECURITY must be one of starttls, ssl, none")
    default_port = {"starttls": 587, "ssl": 465, "none": 25}[security]
    host = environ["LIVINGMETA_SMTP_HOST"]
    port = int(environ.get("LIVINGMETA_SMTP_PORT") or default_port)
    recipients = [a.strip() for a in environ["LIVINGMETA_MAIL_TO"].split(",") if a.strip()]
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = environ.get("LIVINGMETA_MAIL_FROM") or f"livingmeta@{socket.getfqdn()}"
    message["To"] = ", ".join(recipients)
    message.set_content(body)
    smtp_class = smtplib.SMTP_SSL if security == "ssl" else smtplib.SMTP
    with smtp_class(host, port, timeout=timeout) as smtp:
        if security == "starttls":
            smtp.starttls()
        user, password = (
            environ.get("LIVINGMETA_SMTP_USER"),
            environ.get("LIVINGMETA_SMTP_PASSWORD"),
        )
        if user and password:
            smtp.login(user, password)
        smtp.send_message(message, to_addrs=recipients)


def notify(
    decision: Decision,
    environ: Mapping[str, str],
    *,
    redact: Redactor,
    run_id: str,
    log: Callable[[str], None],
) -> list[str]:
    """Tell people about a run that needs attention (any code but 0 and 40).

    A failing notification is logged, never raised: it must not hide the run's own exit
    code. Returns the channels that succeeded (``webhook``, ``email``).
    """
    if decision.code in (EXIT_OK, EXIT_LOCKED):
        return []
    text = redact(summary_text(decision, run_id=run_id))
    sent: list[str] = []
    url = environ.get("LIVINGMETA_WEBHOOK_URL")
    if url:
        payload = {
            "text": text,
            "exit_code": decision.code,
            "meaning": decision.meaning,
            "run_id": run_id,
            "has_changes": decision.has_changes,
            "reviews": [
                {"review": r.review, "counts": {k: v for k, v in r.counts.items() if v}}
                for r in decision.reviews
            ],
        }
        payload = json.loads(redact(json.dumps(payload)))
        try:
            status = send_webhook(url, payload)
            log(f"notification: webhook {safe_url(url)} answered HTTP {status}")
            sent.append("webhook")
        except (OSError, ValueError) as exc:
            log(redact(f"notification: webhook {safe_url(url)} failed: {exc}"))
    if environ.get("LIVINGMETA_SMTP_HOST") and environ.get("LIVINGMETA_MAIL_TO"):
        subject = f"[livingmeta] {decision.meaning} (exit code {decision.code})"
        try:
            send_mail(environ, subject, text)
            log(f"notification: e-mail sent to {environ['LIVINGMETA_MAIL_TO']}")
            sent.append("email")
        except (OSError, ValueError, smtplib.SMTPException) as exc:
            log(redact(f"notification: e-mail failed: {exc}"))
    return sent
