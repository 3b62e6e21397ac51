"""The one HTTP transport every online source goes through.

Why one transport: PubMed (E-utilities) and ClinicalTrials.gov have different etiquette
(3 or 10 requests/s for NCBI, about 1 request/s for ClinicalTrials.gov) but the same failure
modes (429 throttling, 5xx hiccups, read timeouts, bodies cut off mid-transfer). Handling them
once, here, means both clients get the same guarantees:

* **Politeness** -- a per-host minimum interval between requests (:class:`RateLimiter`),
  applied to *every* attempt, retries included, so a retry storm cannot exceed the limit.
* **Bounded, honest retries** (tenacity) -- 429 and 5xx are retried with exponential backoff
  plus jitter, or after exactly the ``Retry-After`` the server asked for; timeouts,
  connection errors and truncated bodies are retried the same way; any other 4xx fails at
  once because repeating a bad request cannot fix it. After the last attempt the run fails
  with :class:`SourceError` ("this source failed this run") rather than carrying on with a
  partial answer that would silently look like "nothing new".
* **No secret leaks** -- the NCBI ``api_key`` must never reach a log line, an exception or a
  stored snapshot. Everything that leaves this module goes through :func:`redact`, and
  exceptions are raised ``from None`` so that a chained ``requests`` error (whose message
  often embeds the full URL) cannot print the key in a traceback.

Sleeping and clocks are injectable so tests can assert the waits without waiting.
"""

from __future__ import annotations

import email.utils
import logging
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode, urljoin, urlsplit

import requests
import tenacity
import urllib3
from requests.structures import CaseInsensitiveDict

from livingmeta.retrieval.redaction import REDACTED, SECRET_PARAMS, redact

log = logging.getLogger(__name__)

#: Statuses that say "try again later" rather than "your request is wrong".
RETRYABLE_STATUSES: frozenset[int] = frozenset({429, *range(500, 600)})

Params = Mapping[str, Any] | Sequence[tuple[str, Any]]


class SourceError(RuntimeError):
    """A source (PubMed, ClinicalTrials.gov, ...) failed for this run.

    The workflow catches this per source: the run records the failure and keeps the
    previous snapshot instead of recording an empty (and therefore misleading) increment.
    The message is always redacted.

    Parameters
    ----------
    source
        Short source name, e.g. ``"pubmed"`` or ``"ctgov"``.
    message
        What went wrong; redacted again here as a last line of defence.
    status
        HTTP status of the final failed response, if there was one.
    """

    def __init__(self, source: str, message: str, *, status: int | None = None) -> None:
        self.source = source
        self.status = status
        self.detail = redact(message)
        super().__init__(f"{source}: {self.detail}")


class TruncatedBodyError(requests.exceptions.RequestException):
    """The body was shorter than the ``Content-Length`` the server announced."""


class DeadlineExceeded(requests.exceptions.Timeout):
    """The response did not complete within the attempt's overall deadline.

    A read timeout only bounds the silence between two packets; a server that sends one
    byte every few seconds never trips it. This bounds the whole attempt.
    """


class _RetryableStatus(Exception):
    """Internal: a 429/5xx response, carrying the server's ``Retry-After`` (seconds)."""

    def __init__(self, status: int, retry_after: float | None, snippet: str) -> None:
        self.status = status
        self.retry_after = retry_after
        self.snippet = snippet
        super().__init__(f"HTTP {status}")


_RETRYABLE_EXCEPTIONS: tuple[type[BaseException], ...] = (
    requests.exceptions.Timeout,
    requests.exceptions.ConnectionError,
    requests.exceptions.ChunkedEncodingError,
    requests.exceptions.ContentDecodingError,
    TruncatedBodyError,
    _RetryableStatus,
)


def _is_name_resolution_error(exc: BaseException) -> bool:
    """True if ``exc`` (a requests ConnectionError) was caused by a failed DNS lookup."""
    seen: BaseException | None = exc
    for _ in range(10):
        if seen is None:
            return False
        if isinstance(seen, urllib3.exceptions.NameResolutionError):
            return True
        reason = getattr(seen, "reason", None)
        args = getattr(seen, "args", ())
        seen = (
            reason
            if isinstance(reason, BaseException)
            else next(
                (a for a in args if isinstance(a, BaseException)),
                seen.__cause__ or seen.__context__,
            )
        )
    return False


def parse_retry_after(header: str | None, *, now: Callable[[], float] = time.time) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or HTTP-date).

    Returns ``None`` when the header is absent or unparseable (the caller then falls back to
    its own backoff), and ``0.0`` for a date in the past.
    """
    if header is None or not header.strip():
        return None
    header = header.strip()
    try:
        return max(0.0, float(header))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(header)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    return max(0.0, when.timestamp() - now())


class RateLimiter:
    """Keep at least ``1 / rate`` seconds between request starts to the same host.

    The interval is measured from the *scheduled* start of the previous request, so bursts
    are impossible even when callers arrive together. Thread-safe; one instance may be
    shared by several transports that talk to the same host. It does not coordinate
    between processes, so the workflow should run one fetch job per source at a time.

    Parameters
    ----------
    default_rate
        Requests per second for hosts not listed in ``rates``.
    rates
        Per-host overrides (host name without port, e.g. ``"eutils.ncbi.nlm.nih.gov"``).
    clock, sleep
        Monotonic clock and sleep function, injectable for tests.
    """

    def __init__(
        self,
        default_rate: float,
        rates: Mapping[str, float] | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if default_rate <= 0 or any(r <= 0 for r in (rates or {}).values()):
            raise ValueError("rates must be positive requests per second")
        self.default_rate = default_rate
        self.rates = dict(rates or {})
        self._clock = clock
        self._sleep = sleep
        self._next: dict[str, float] = {}
        self._lock = threading.Lock()

    def interval(self, host: str) -> float:
        """Minimum seconds between two requests to ``host``."""
        return 1.0 / self.rates.get(host, self.default_rate)

    def wait(self, host: str) -> float:
        """Block until a request to ``host`` is allowed; return the seconds slept."""
        with self._lock:
            now = self._clock()
            start = max(now, self._next.get(host, now))
            self._next[host] = start + self.interval(host)
        delay = start - now
        if delay > 0:
            self._sleep(delay)
        return delay


@dataclass(frozen=True)
class HttpResponse:
    """A successful response plus the redacted description of the request that produced it.

    ``request`` is what the snapshot store keeps (method, URL with query, form body): it
    lets anyone repeat the request, and it never contains the API key.
    """

    status_code: int
    content: bytes
    headers: Mapping[str, str]
    request: dict[str, Any]
    attempts: int = 1
    elapsed_s: float = 0.0

    def text(self, encoding: str = "utf-8") -> str:
        """Body decoded (UTF-8 unless told otherwise; both APIs send UTF-8)."""
        return self.content.decode(encoding, errors="replace")


@dataclass
class RetryPolicy:
    """How hard to try before declaring the source failed for this run.

    Defaults: 5 attempts, backoff 2 s, 4 s, 8 s ... capped at 60 s, plus up to 1 s of
    random jitter so that parallel clients do not retry in lockstep. A ``Retry-After``
    longer than ``max_retry_after`` is not waited out: the run fails now and the next
    scheduled run tries again, which is cheaper than blocking a workflow for an hour. One
    shorter than the backoff (``0``, or a date in the past) waits the backoff instead, so
    a server cannot turn the retries into a burst. Each attempt must complete within
    ``attempt_deadline`` seconds and all attempts within ``total_deadline``, so a server
    that trickles bytes cannot hold an unattended run for hours. At most
    ``max_redirects`` redirects are followed, and only within the request's origin.
    """

    max_attempts: int = 5
    initial: float = 2.0
    maximum: float = 60.0
    jitter: float = 1.0
    max_retry_after: float = 300.0
    attempt_deadline: float = 300.0
    total_deadline: float = 1200.0
    max_redirects: int = 5

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be >= 1")
        if self.attempt_deadline <= 0 or self.total_deadline <= 0:
            raise ValueError("deadlines must be positive seconds")


@dataclass
class _Wait:
    """tenacity wait strategy: the server's ``Retry-After`` if given, else exp. backoff."""

    policy: RetryPolicy
    fallback: Any = field(init=False)

    def __post_init__(self) -> None:
        self.fallback = tenacity.wait_exponential_jitter(
            multiplier=self.policy.initial, max=self.policy.maximum, jitter=self.policy.jitter
        )

    def __call__(self, retry_state: tenacity.RetryCallState) -> float:
        exc = retry_state.outcome.exception() if retry_state.outcome else None
        backoff = float(self.fallback(retry_state))
        if isinstance(exc, _RetryableStatus) and exc.retry_after is not None:
            return max(exc.retry_after, backoff)
        return backoff


class HttpTransport:
    """A ``requests.Session`` with rate limiting, timeouts, retries and redaction.

    Parameters
    ----------
    source
        Source name used in :class:`SourceError` and log lines.
    rate_per_second
        Default politeness limit per host (NCBI: 3 without key, 10 with; CT.gov: 1).
    timeout
        ``(connect, read)`` seconds; never ``None``, a hung server must not hang the run.
    retry
        :class:`RetryPolicy`; tests pass tiny values.
    session
        Optional pre-configured ``requests.Session``.
    rate_limiter
        Share one limiter between transports that hit the same host.
    sleep, clock, now
        Injectable sleep, monotonic clock (rate limiter) and wall clock (``Retry-After``
        HTTP-dates).
    secrets
        Literal secret values to mask in anything this transport reports.
    user_agent
        Sent on every request; identifies the tool to the API operators.
    """

    def __init__(
        self,
        source: str,
        *,
        rate_per_second: float = 1.0,
        timeout: tuple[float, float] = (10.0, 60.0),
        retry: RetryPolicy | None = None,
        session: requests.Session | None = None,
        rate_limiter: RateLimiter | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        now: Callable[[], float] = time.time,
        secrets: Iterable[str] = (),
        user_agent: str = "livingmeta (living systematic review workflow)",
    ) -> None:
        self.source = source
        self.timeout = timeout
        self.retry = retry or RetryPolicy()
        if session is None:
            session = requests.Session()
            session.headers["User-Agent"] = user_agent
        self.session = session
        self._sleep = sleep
        self._now = now
        self.rate_limiter = rate_limiter or RateLimiter(rate_per_second, clock=clock, sleep=sleep)
        self.secrets = tuple(s for s in secrets if s)

    # -- public API -------------------------------------------------------------------

    def get(self, url: str, params: Params | None = None) -> HttpResponse:
        """GET ``url`` with query ``params``; see :meth:`request`."""
        return self.request("GET", url, params=params)

    def post(
        self, url: str, data: Params | None = None, params: Params | None = None
    ) -> HttpResponse:
        """POST a form body (used for long queries and ID batches); see :meth:`request`."""
        return self.request("POST", url, params=params, data=data)

    def request(
        self,
        method: str,
        url: str,
        *,
        params: Params | None = None,
        data: Params | None = None,
    ) -> HttpResponse:
        """Send one logical request, retrying transient failures.

        Returns
        -------
        HttpResponse
            Status 2xx/3xx, complete body, and the redacted request description.

        Raises
        ------
        SourceError
            Non-retryable status (4xx other than 429), or retries exhausted, or a
            ``Retry-After`` longer than the policy allows. Never chained to the original
            exception (its text may contain the key); the redacted cause is in the message.
        """
        description = self.describe(method, url, params=params, data=data)
        host = urlsplit(url).hostname or ""
        started = time.monotonic()
        attempts = 0

        def attempt() -> requests.Response:
            nonlocal attempts
            attempts += 1
            self.rate_limiter.wait(host)
            return self._send_once(method, url, params=params, data=data)

        retrying = tenacity.Retrying(
            stop=(
                tenacity.stop_after_attempt(self.retry.max_attempts)
                | tenacity.stop_after_delay(self.retry.total_deadline)
            ),
            wait=_Wait(self.retry),
            retry=tenacity.retry_if_exception(self._should_retry),
            sleep=self._sleep,
            before_sleep=self._log_retry(description),
            reraise=True,
        )
        response: requests.Response | None = None
        failure: SourceError | None = None
        try:
            response = retrying(attempt)
        except _RetryableStatus as exc:
            failure = SourceError(
                self.source,
                f"{method} {description['url']} failed after {attempts} attempt(s): "
                f"HTTP {exc.status} {self._redact(exc.snippet)}".rstrip(),
                status=exc.status,
            )
        except SourceError as exc:
            failure = exc
        except requests.exceptions.RequestException as exc:
            kind = type(exc).__name__
            if isinstance(exc, TruncatedBodyError | requests.exceptions.ChunkedEncodingError):
                kind = f"truncated response body ({kind})"
            failure = SourceError(
                self.source,
                f"{method} {description['url']} failed after {attempts} attempt(s): "
                f"{kind}: {self._redact(str(exc))}",
            )
        if failure is not None or response is None:
            # Raised outside the ``except`` blocks and with the context cleared, so neither
            # a traceback nor ``__context__`` can carry the unredacted requests error.
            failure = failure or SourceError(self.source, "no response")
            failure.__context__ = None
            failure.__cause__ = None
            raise failure
        return HttpResponse(
            status_code=response.status_code,
            content=response.content,
            headers=CaseInsensitiveDict(response.headers),
            request=description,
            attempts=attempts,
            elapsed_s=time.monotonic() - started,
        )

    def describe(
        self, method: str, url: str, *, params: Params | None = None, data: Params | None = None
    ) -> dict[str, Any]:
        """Redacted, JSON-ready description of a request, for snapshots and messages."""
        full = url
        if params:
            full = f"{url}{'&' if '?' in url else '?'}{urlencode(_pairs(params))}"
        desc: dict[str, Any] = {"method": method.upper(), "url": self._redact(full)}
        if params:
            desc["params"] = _jsonable(redact(_pairs(params), self.secrets))
        if data is not None:
            desc["data"] = _jsonable(redact(_pairs(data), self.secrets))
        return desc

    def close(self) -> None:
        """Close the underlying session's connections."""
        self.session.close()

    def __enter__(self) -> HttpTransport:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- internals --------------------------------------------------------------------

    def _redact(self, text: str) -> str:
        return redact(text, self.secrets)

    def _send_once(
        self, method: str, url: str, *, params: Params | None, data: Params | None
    ) -> requests.Response:
        deadline = time.monotonic() + self.retry.attempt_deadline
        response = self._follow_redirects(method, url, params=params, data=data)
        body = _read_body(response, deadline, self.retry.attempt_deadline)
        response._content = body  # what ``response.content`` returns from now on
        # urllib3 raises on a short read, but check Content-Length ourselves too (it is
        # only meaningful without a Content-Encoding, since the body is decompressed).
        expected = response.headers.get("Content-Length")
        if (
            expected is not None
            and expected.isdigit()
            and not response.headers.get("Content-Encoding")
            and method.upper() != "HEAD"
            and int(expected) != len(body)
        ):
            raise TruncatedBodyError(
                f"received {len(body)} of {expected} bytes announced by Content-Length"
            )
        status = response.status_code
        if status in RETRYABLE_STATUSES:
            retry_after = parse_retry_after(response.headers.get("Retry-After"), now=self._now)
            snippet = body[:200].decode("utf-8", errors="replace").strip()
            if retry_after is not None and retry_after > self.retry.max_retry_after:
                raise SourceError(
                    self.source,
                    f"{method} {self._redact(response.url)}: HTTP {status} with Retry-After "
                    f"{retry_after:.0f} s (> {self.retry.max_retry_after:.0f} s allowed); "
                    "giving up for this run",
                    status=status,
                )
            raise _RetryableStatus(status, retry_after, snippet)
        if status >= 400:
            snippet = body[:300].decode("utf-8", errors="replace").strip()
            raise SourceError(
                self.source,
                f"{method} {self._redact(response.url)}: HTTP {status} (not retried): "
                f"{self._redact(snippet)}",
                status=status,
            )
        return response

    def _follow_redirects(
        self, method: str, url: str, *, params: Params | None, data: Params | None
    ) -> requests.Response:
        """Send the request, following redirects only within the URL's own origin.

        Another host's answer must never become this source's records, and the request
        (with the API key in its query or form body) must never be re-sent to it, so a
        redirect off the origin fails the source instead of being followed.
        """
        origin = _origin(url)
        for _ in range(self.retry.max_redirects + 1):
            response = self.session.request(
                method,
                url,
                params=params,
                data=data,
                timeout=self.timeout,
                allow_redirects=False,
                stream=True,
            )
            if not response.is_redirect:
                return response
            status = response.status_code
            target = urljoin(response.url, response.headers["Location"])
            response.close()
            if _origin(target) != origin:
                raise SourceError(
                    self.source,
                    f"{method} {self._redact(url)}: HTTP {status} redirect to "
                    f"{_origin_text(target)} refused (only {_origin_text(url)} is trusted)",
                    status=status,
                )
            if status in (301, 302, 303) and method.upper() != "HEAD":
                method, data = "GET", None  # as browsers and requests do
            url, params = target, None  # the Location carries its own query
        raise SourceError(self.source, f"more than {self.retry.max_redirects} redirects")

    @staticmethod
    def _should_retry(exc: BaseException) -> bool:
        # An unresolvable host name means no network (or a misspelt base URL): retrying
        # within seconds will not help, and an offline run must reach "stale" quickly.
        return isinstance(exc, _RETRYABLE_EXCEPTIONS) and not _is_name_resolution_error(exc)

    def _log_retry(
        self, description: Mapping[str, Any]
    ) -> Callable[[tenacity.RetryCallState], None]:
        def before_sleep(state: tenacity.RetryCallState) -> None:
            exc = state.outcome.exception() if state.outcome else None
            wait = state.next_action.sleep if state.next_action else 0.0
            log.warning(
                "%s: %s %s attempt %d failed (%s); retrying in %.1f s",
                self.source,
                description["method"],
                description["url"],
                state.attempt_number,
                self._redact(f"{type(exc).__name__}: {exc}"),
                wait,
            )

        return before_sleep


def _origin(url: str) -> tuple[str, str, int | None]:
    """Scheme, host and port (defaulted by scheme): what a redirect may not change."""
    parts = urlsplit(url)
    default = {"http": 80, "https": 443}.get(parts.scheme.lower())
    try:
        port = parts.port or default
    except ValueError:  # not a port at all: matches no origin
        port = -1
    return parts.scheme.lower(), (parts.hostname or "").lower(), port


def _origin_text(url: str) -> str:
    scheme, host, port = _origin(url)
    return f"{scheme}://{host}:{port}"


def _read_body(response: requests.Response, deadline: float, allowed: float) -> bytes:
    """The whole (decoded) body, reading whatever arrives so the deadline is checked
    between packets rather than after a buffer fills."""
    chunks: list[bytes] = []
    try:
        while chunk := response.raw.read1(64 * 1024, decode_content=True):
            chunks.append(chunk)
            if time.monotonic() > deadline:
                raise DeadlineExceeded(f"response not complete after {allowed:g} s")
    except urllib3.exceptions.ReadTimeoutError as exc:
        raise requests.exceptions.ReadTimeout(str(exc)) from None
    except urllib3.exceptions.DecodeError as exc:
        raise requests.exceptions.ContentDecodingError(str(exc)) from None
    except (urllib3.exceptions.ProtocolError, urllib3.exceptions.SSLError) as exc:
        raise requests.exceptions.ChunkedEncodingError(str(exc)) from None
    finally:
        response.close()
    return b"".join(chunks)


def _pairs(params: Params) -> list[tuple[str, Any]]:
    if isinstance(params, Mapping):
        return list(params.items())
    return list(params)


def _jsonable(pairs: list[tuple[str, Any]]) -> list[list[Any]]:
    # Pairs, not a dict: E-utilities parameters can repeat and order is part of "exact".
    return [[str(k), v if isinstance(v, int | float | bool) else str(v)] for k, v in pairs]


__all__ = [
    "REDACTED",
    "RETRYABLE_STATUSES",
    "SECRET_PARAMS",
    "DeadlineExceeded",
    "HttpResponse",
    "HttpTransport",
    "RateLimiter",
    "RetryPolicy",
    "SourceError",
    "TruncatedBodyError",
    "parse_retry_after",
    "redact",
]
