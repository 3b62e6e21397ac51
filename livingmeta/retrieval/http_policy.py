"""How the HTTP transport paces, retries and bounds its requests.

Why apart from the transport (:mod:`livingmeta.retrieval.http`): these are the rules a
source is held to -- a per-host minimum interval (:class:`RateLimiter`), which failures
are worth another attempt and how long to wait before it (:class:`RetryPolicy`,
``Retry-After``), and the overall deadline of an attempt, since a read timeout only bounds
the silence between two packets (:func:`read_body`). The transport applies them to a
``requests`` session; they can be read and tested without one.
"""

from __future__ import annotations

import email.utils
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import requests
import tenacity
import urllib3

#: Statuses that say "try again later" rather than "your request is wrong".
RETRYABLE_STATUSES: frozenset[int] = frozenset({429, *range(500, 600)})


class TruncatedBodyError(requests.exceptions.RequestException):
    """The body was shorter than the ``Content-Length`` the server announced."""


class DeadlineExceeded(requests.exceptions.Timeout):
    """The response did not complete within the attempt's overall deadline.

    A read timeout only bounds the silence between two packets; a server that sends one
    byte every few seconds never trips it. This bounds the whole attempt.
    """


class RetryableStatus(Exception):
    """A 429/5xx response (retried), carrying the server's ``Retry-After`` (seconds)."""

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
    RetryableStatus,
)


def should_retry(exc: BaseException) -> bool:
    """Whether a failed attempt is worth repeating (tenacity's retry predicate).

    An unresolvable host name means no network (or a misspelt base URL): retrying within
    seconds will not help, and an offline run must reach "stale" quickly.
    """
    return isinstance(exc, _RETRYABLE_EXCEPTIONS) and not _is_name_resolution_error(exc)


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
class RetryWait:
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
        if isinstance(exc, RetryableStatus) and exc.retry_after is not None:
            return max(exc.retry_after, backoff)
        return backoff


def read_body(response: requests.Response, deadline: float, allowed: float) -> bytes:
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
