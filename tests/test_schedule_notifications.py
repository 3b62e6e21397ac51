"""Scheduled runs: notifications against local servers that record what they received
(and that no secret was in it), and the redaction of secrets."""

from __future__ import annotations

import json
import socketserver
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from livingmeta.schedule.decision import Decision, decide
from livingmeta.schedule.exit_codes import EXIT_STALE
from livingmeta.schedule.findings import from_retrieval_report
from livingmeta.schedule.notifications import notify
from livingmeta.schedule.redaction import Redactor
from tests.schedule_data import (
    FAILED_SEARCH,
    NCBI_KEY,
    WEBHOOK_TOKEN,
    Recorder,
    report_json,
)


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
