"""HTTP transport: retries, Retry-After, timeouts, truncation, rate limiting, redaction."""

from __future__ import annotations

import email.utils
import itertools
import logging
import socket
import string
from urllib.parse import urlencode

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from livingmeta.retrieval.http import (
    REDACTED,
    HttpTransport,
    RateLimiter,
    RetryPolicy,
    SourceError,
    parse_retry_after,
    redact,
)
from tests.fakeserver import FakeServer, Fault, Reply

SECRET = "s3cr3t-KEY-0123456789abcdef"


@pytest.fixture
def server():
    with FakeServer() as fake:
        fake.route("/ok", lambda req: Reply.json({"ok": True}))
        yield fake


class FakeClock:
    """Monotonic clock that only moves when something sleeps."""

    def __init__(self) -> None:
        self.now = 100.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def make_transport(
    sleeps: list[float], *, attempts: int = 4, read_timeout: float = 2.0, **kw
) -> HttpTransport:
    # The rate limiter gets its own no-op sleep so that ``sleeps`` holds only backoffs.
    return HttpTransport(
        "testsrc",
        timeout=(1.0, read_timeout),
        retry=RetryPolicy(max_attempts=attempts, initial=0.01, maximum=0.05, jitter=0.0),
        rate_limiter=RateLimiter(1e6, sleep=lambda s: None),
        sleep=sleeps.append,
        secrets=[SECRET],
        **kw,
    )


# -- redact ------------------------------------------------------------------------------


def test_redact_url_params_pairs_bytes_and_text():
    url = f"https://x/esearch.fcgi?db=pubmed&api_key={SECRET}&term=a"
    assert redact(url) == f"https://x/esearch.fcgi?db=pubmed&api_key={REDACTED}&term=a"
    assert redact({"api_key": SECRET, "db": "pubmed"}) == {"api_key": REDACTED, "db": "pubmed"}
    assert redact([("API_KEY", SECRET), ("id", "1")]) == [("API_KEY", REDACTED), ("id", "1")]
    assert SECRET.encode() not in redact(f"id=1&api_key={SECRET}".encode())
    # free text from an exception, and a JSON body echoing the key
    assert SECRET not in redact(f"Max retries exceeded with url: /e?api_key={SECRET} (Caused")
    assert SECRET not in redact(f'{{"error":"rate","api_key": "{SECRET}"}}')
    # a literal secret anywhere (e.g. echoed without the parameter name)
    assert redact(f"key was {SECRET}!", [SECRET]) == f"key was {REDACTED}!"
    assert redact(42) == 42


# -- Retry-After -------------------------------------------------------------------------


def test_parse_retry_after_seconds_date_and_garbage():
    assert parse_retry_after("7") == 7.0
    assert parse_retry_after(" 1.5 ") == 1.5
    assert parse_retry_after(None) is None
    assert parse_retry_after("soon") is None
    now = 1_700_000_000.0
    header = email.utils.formatdate(now + 30, usegmt=True)
    assert parse_retry_after(header, now=lambda: now) == pytest.approx(30.0)
    past = email.utils.formatdate(now - 30, usegmt=True)
    assert parse_retry_after(past, now=lambda: now) == 0.0


# -- rate limiter ------------------------------------------------------------------------


def test_rate_limiter_spaces_requests_per_host():
    clock = FakeClock()
    limiter = RateLimiter(3.0, {"fast.example": 10.0}, clock=clock, sleep=clock.sleep)
    starts = []
    for _ in range(4):
        limiter.wait("slow.example")
        starts.append(clock.now)
    gaps = [b - a for a, b in itertools.pairwise(starts)]
    assert gaps == pytest.approx([1 / 3] * 3)
    # another host has its own schedule and its own rate
    before = clock.now
    limiter.wait("fast.example")
    assert clock.now == before  # first request to a new host does not wait
    limiter.wait("fast.example")
    assert clock.now - before == pytest.approx(0.1)


def test_rate_limiter_does_not_sleep_when_caller_is_slow_anyway():
    clock = FakeClock()
    limiter = RateLimiter(1.0, clock=clock, sleep=clock.sleep)
    limiter.wait("h")
    clock.now += 5.0  # caller spent 5 s parsing
    assert limiter.wait("h") == 0.0
    assert clock.sleeps == []


def test_rate_limiter_rejects_nonpositive_rate():
    with pytest.raises(ValueError):
        RateLimiter(0)


def test_transport_applies_rate_limit_to_every_attempt(server):
    clock = FakeClock()
    backoffs: list[float] = []
    transport = HttpTransport(
        "testsrc",
        timeout=(1.0, 2.0),
        retry=RetryPolicy(max_attempts=3, initial=0.0, maximum=0.0, jitter=0.0),
        rate_limiter=RateLimiter(2.0, clock=clock, sleep=clock.sleep),
        sleep=backoffs.append,
    )
    server.add_faults("/ok", Fault.status(500))
    transport.get(server.url + "ok")
    transport.get(server.url + "ok")
    # 3 requests: the 2nd and 3rd each waited half a second for the limiter
    assert len(server.requests_to("/ok")) == 3
    assert clock.sleeps == pytest.approx([0.5, 0.5])


# -- retries -----------------------------------------------------------------------------


def test_429_retry_after_seconds_is_honoured(server):
    sleeps: list[float] = []
    server.add_faults("/ok", Fault.status(429, retry_after="7"))
    response = make_transport(sleeps).get(server.url + "ok")
    assert response.status_code == 200
    assert response.attempts == 2
    assert sleeps == [7.0]
    assert len(server.requests_to("/ok")) == 2


def test_503_retry_after_http_date_is_honoured(server):
    sleeps: list[float] = []
    now = 1_800_000_000.0
    server.add_faults(
        "/ok", Fault.status(503, retry_after=email.utils.formatdate(now + 12, usegmt=True))
    )
    make_transport(sleeps, now=lambda: now).get(server.url + "ok")
    assert sleeps == [pytest.approx(12.0)]


def test_5xx_then_success_uses_exponential_backoff(server):
    sleeps: list[float] = []
    server.add_faults("/ok", Fault.status(500), Fault.status(502), Fault.status(503))
    response = make_transport(sleeps).get(server.url + "ok")
    assert response.content == b'{"ok": true}'
    assert response.attempts == 4
    assert sleeps == pytest.approx([0.01, 0.02, 0.04])


def test_retry_after_longer_than_policy_fails_at_once(server):
    sleeps: list[float] = []
    server.add_faults("/ok", Fault.status(429, retry_after="3600"))
    with pytest.raises(SourceError, match="Retry-After 3600"):
        make_transport(sleeps).get(server.url + "ok")
    assert sleeps == []
    assert len(server.requests_to("/ok")) == 1


def test_bounded_failure_raises_source_error(server):
    sleeps: list[float] = []
    server.add_faults("/ok", *[Fault.status(503)] * 10)
    with pytest.raises(SourceError) as info:
        make_transport(sleeps, attempts=3).get(server.url + "ok", {"api_key": SECRET})
    assert info.value.source == "testsrc"
    assert info.value.status == 503
    assert "after 3 attempt(s)" in str(info.value)
    assert len(server.requests_to("/ok")) == 3
    assert len(sleeps) == 2
    assert SECRET not in str(info.value)


def test_other_4xx_fails_without_retry(server):
    sleeps: list[float] = []
    server.add_faults("/ok", Fault.status(400, body=f"bad api_key={SECRET}".encode()))
    with pytest.raises(SourceError) as info:
        make_transport(sleeps).get(server.url + "ok", {"api_key": SECRET})
    assert info.value.status == 400
    assert "not retried" in str(info.value)
    assert len(server.requests_to("/ok")) == 1
    assert sleeps == []
    assert SECRET not in str(info.value)


def test_timeout_then_success(server):
    sleeps: list[float] = []
    server.add_faults("/ok", Fault.delay(8.0))
    response = make_transport(sleeps, read_timeout=2.0).get(server.url + "ok")
    assert response.status_code == 200
    assert response.attempts == 2
    assert len(sleeps) == 1


def test_repeated_timeouts_raise_source_error(server):
    server.add_faults("/ok", Fault.delay(3.0), Fault.delay(3.0))
    with pytest.raises(SourceError, match="Timeout"):
        make_transport([], attempts=2, read_timeout=0.5).get(server.url + "ok")


def test_connection_error_is_retried_then_fails():
    with socket.socket() as sock:  # grab a free port, then close it: nothing listens there
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    sleeps: list[float] = []
    with pytest.raises(SourceError, match="ConnectionError") as info:
        make_transport(sleeps, attempts=3).get(f"http://127.0.0.1:{port}/x", {"api_key": SECRET})
    assert len(sleeps) == 2
    assert SECRET not in str(info.value)
    assert info.value.__context__ is None and info.value.__cause__ is None


def test_unresolvable_host_fails_at_once_without_retries():
    """Offline machines must reach 'source stale' quickly: DNS failures are not retried."""
    import requests
    import urllib3

    class NoDns(requests.adapters.HTTPAdapter):
        def send(self, request, **kwargs):
            cause = urllib3.exceptions.NameResolutionError(
                "example.invalid", None, OSError("no DNS")
            )
            raise requests.exceptions.ConnectionError(
                urllib3.exceptions.MaxRetryError(None, request.url, cause)
            )

    session = requests.Session()
    session.mount("http://", NoDns())
    sleeps: list[float] = []
    with pytest.raises(SourceError, match="1 attempt"):
        make_transport(sleeps, attempts=5, session=session).get("http://example.invalid/x", {})
    assert sleeps == []


def test_truncated_body_is_retried(server):
    sleeps: list[float] = []
    server.add_faults("/ok", Fault.truncate())
    response = make_transport(sleeps).get(server.url + "ok")
    assert response.content == b'{"ok": true}'
    assert response.attempts == 2


def test_truncated_body_every_time_gives_clear_error(server):
    server.add_faults("/ok", *[Fault.truncate(0.3)] * 3)
    with pytest.raises(SourceError, match="truncated response body"):
        make_transport([], attempts=3).get(server.url + "ok")


# -- secrets -----------------------------------------------------------------------------


def test_api_key_is_sent_but_never_returned_or_logged(server, caplog):
    caplog.set_level(logging.DEBUG)
    server.add_faults("/ok", Fault.status(500))
    transport = make_transport([])
    response = transport.post(server.url + "ok", data={"id": "1,2", "api_key": SECRET})
    # the server did get the key (NCBI needs it) ...
    assert server.requests_to("/ok")[-1].form["api_key"] == [SECRET]
    # ... but nothing we return or log has it
    assert SECRET not in repr(response.request)
    assert response.request["data"] == [["id", "1,2"], ["api_key", REDACTED]]
    assert SECRET not in caplog.text
    assert "attempt 1 failed" in caplog.text
    get = transport.get(server.url + "ok", params={"api_key": SECRET, "term": "a b"})
    assert get.request["url"].endswith(f"ok?api_key={REDACTED}&term=a+b")
    assert SECRET not in repr(get.request)


def test_source_error_redacts_its_message():
    err = SourceError("pubmed", f"GET https://x/?api_key={SECRET}")
    assert SECRET not in str(err)
    assert err.source == "pubmed"
    assert str(err).startswith("pubmed: ")


@settings(max_examples=200, deadline=None)
@given(
    key=st.text(alphabet=string.ascii_letters + string.digits + "-_", min_size=8, max_size=40),
    before=st.lists(st.tuples(st.sampled_from(["db", "term", "id"]), st.text(max_size=20))),
    after=st.lists(st.tuples(st.sampled_from(["retmax", "tool"]), st.text(max_size=20))),
)
def test_redact_never_leaks_the_key_property(key, before, after):
    assume(REDACTED not in key)
    pairs = [*before, ("api_key", key), *after]
    url = "https://eutils.example/esearch.fcgi?" + urlencode(pairs)
    # without knowing the key: by parameter name, in a URL, a pair list and a mapping
    assert f"api_key={key}" not in redact(url)
    assert ("api_key", key) not in redact(pairs)
    assert redact(dict(pairs))["api_key"] == REDACTED
    # knowing the key: it appears nowhere, whatever surrounds it
    assert key not in redact(f"{url} and again {key}", [key])


def test_user_agent_identifies_the_tool(server):
    make_transport([]).get(server.url + "ok")
    assert server.requests_to("/ok")[0].headers["User-Agent"].startswith("livingmeta")


# -- redirects, deadlines, hostile Retry-After ----------------------------------------------


def test_redirect_to_another_host_is_refused_and_the_key_stays_home(server):
    with FakeServer() as other:
        other.route("/ok", lambda req: Reply.json({"studies": ["someone else's"]}))
        for code in (302, 307):
            server.add_faults("/ok", Fault.redirect(other.url + "ok", code))
            with pytest.raises(SourceError, match=r"redirect to .* refused") as info:
                make_transport([]).post(server.url + "ok", data={"api_key": SECRET, "id": "1"})
            assert info.value.status == code
            assert SECRET not in str(info.value)
        server.add_faults("/ok", Fault.redirect(other.url + f"ok?api_key={SECRET}"))
        with pytest.raises(SourceError, match="refused"):
            make_transport([]).get(server.url + "ok", {"api_key": SECRET})
        assert other.requests == []  # nothing, least of all the key, reached the other host


def test_redirect_to_another_port_of_the_same_host_is_refused(server):
    port = int(server.url.rstrip("/").rsplit(":", 1)[1])
    elsewhere = f"http://127.0.0.1:{port + 1 if port < 65535 else port - 1}/ok"
    server.add_faults("/ok", Fault.redirect(elsewhere))
    with pytest.raises(SourceError, match="refused"):
        make_transport([]).get(server.url + "ok")


def test_redirect_within_the_origin_is_followed(server):
    server.route("/moved", lambda req: Reply.json({"moved": req.method}))
    server.add_faults("/ok", Fault.redirect("/moved", 307))
    response = make_transport([]).post(server.url + "ok", data={"id": "1"})
    assert response.content == b'{"moved": "POST"}'  # 307 keeps the method and body
    assert server.requests_to("/moved")[0].form == {"id": ["1"]}
    server.add_faults("/ok", Fault.redirect("/moved", 303))
    assert make_transport([]).post(server.url + "ok", data={"id": "1"}).content == (
        b'{"moved": "GET"}'
    )


def test_a_redirect_with_an_invalid_port_is_refused(server):
    server.add_faults("/ok", Fault.redirect("http://127.0.0.1:99999/ok"))
    with pytest.raises(SourceError, match="refused"):
        make_transport([]).get(server.url + "ok")


def test_endless_redirects_fail_the_source(server):
    server.add_faults("/ok", *[Fault.redirect("/ok")] * 10)
    with pytest.raises(SourceError, match="more than 5 redirects"):
        make_transport([]).get(server.url + "ok")


def test_a_trickling_server_cannot_hold_the_run(server):
    # One byte every 50 ms never trips the 2 s read timeout; the deadline stops it.
    server.add_faults("/ok", Fault.drip(0.05), Fault.drip(0.05))
    transport = make_transport([], attempts=2)
    transport.retry.attempt_deadline = 0.5
    with pytest.raises(SourceError, match="DeadlineExceeded"):
        transport.get(server.url + "ok")
    assert len(server.requests_to("/ok")) == 2


def test_total_deadline_bounds_all_attempts_together(server):
    server.add_faults("/ok", *[Fault.drip(0.05)] * 5)
    transport = make_transport([], attempts=5)
    transport.retry.attempt_deadline = 0.3
    transport.retry.total_deadline = 0.1  # already spent after the first attempt
    with pytest.raises(SourceError, match="after 1 attempt"):
        transport.get(server.url + "ok")


@pytest.mark.parametrize("header", ["0", "-5", "Thu, 01 Jan 1970 00:00:00 GMT"])
def test_zero_or_past_retry_after_waits_the_backoff(server, header):
    sleeps: list[float] = []
    server.add_faults("/ok", *[Fault.status(503, retry_after=header)] * 3)
    make_transport(sleeps).get(server.url + "ok")
    assert sleeps == pytest.approx([0.01, 0.02, 0.04])
