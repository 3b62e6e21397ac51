"""The one HTTP transport every online source goes through.

Why one transport: PubMed (E-utilities) and ClinicalTrials.gov have different etiquette
(3 or 10 requests/s for NCBI, about 1 request/s for ClinicalTrials.gov) but the same failure
modes (429 throttling, 5xx hiccups, read timeouts, bodies cut off mid-transfer). Handling them
once, here, means both clients get the same guarantees:

The rules it applies (pacing, retries, deadlines) live in
:mod:`livingmeta.retrieval.http_policy`; this module sends, follows redirects and redacts.

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

import logging
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urljoin, urlsplit

import requests
import tenacity
from requests.structures import CaseInsensitiveDict

from livingmeta.retrieval.http_policy import (
    RETRYABLE_STATUSES,
    DeadlineExceeded,
    RateLimiter,
    RetryableStatus,
    RetryPolicy,
    RetryWait,
    TruncatedBodyError,
    parse_retry_after,
    read_body,
    should_retry,
)
from livingmeta.retrieval.redaction import REDACTED, SECRET_PARAMS, redact

log = logging.getLogger(__name__)

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
            wait=RetryWait(self.retry),
            retry=tenacity.retry_if_exception(should_retry),
            sleep=self._sleep,
            before_sleep=self._log_retry(description),
            reraise=True,
        )
        response: requests.Response | None = None
        failure: SourceError | None = None
        try:
            response = retrying(attempt)
        except (SourceError, RetryableStatus, requests.exceptions.RequestException) as exc:
            failure = self._failure(exc, method, description["url"], attempts)
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

    def _failure(self, exc: BaseException, method: str, url: str, attempts: int) -> SourceError:
        """The :class:`SourceError` a request that failed for good raises, redacted."""
        if isinstance(exc, SourceError):
            return exc
        if isinstance(exc, RetryableStatus):
            return SourceError(
                self.source,
                f"{method} {url} failed after {attempts} attempt(s): "
                f"HTTP {exc.status} {self._redact(exc.snippet)}".rstrip(),
                status=exc.status,
            )
        kind = type(exc).__name__
        if isinstance(exc, TruncatedBodyError | requests.exceptions.ChunkedEncodingError):
            kind = f"truncated response body ({kind})"
        return SourceError(
            self.source,
            f"{method} {url} failed after {attempts} attempt(s): {kind}: {self._redact(str(exc))}",
        )

    def _send_once(
        self, method: str, url: str, *, params: Params | None, data: Params | None
    ) -> requests.Response:
        deadline = time.monotonic() + self.retry.attempt_deadline
        response = self._follow_redirects(method, url, params=params, data=data)
        body = read_body(response, deadline, self.retry.attempt_deadline)
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
            raise RetryableStatus(status, retry_after, snippet)
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
