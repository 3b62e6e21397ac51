"""PubMed through NCBI E-utilities: complete PMID sets for a Create-Date window, and EFetch.

Why not simply ``Bio.Entrez.esearch``/``efetch``: Bio.Entrez hard-codes NCBI's URL (tests
and mirrors need ``LIVINGMETA_EUTILS_URL``), retries 429/5xx *immediately* without
honouring ``Retry-After``, and keeps its throttle in a function attribute. So requests go
through our :class:`~livingmeta.retrieval.http.HttpTransport` (base URL, rate limit, retry
policy and secret redaction are ours), and Biopython is used for what it is good at: the
E-utilities conventions (``tool``/``email``/``api_key`` parameters, 3 vs 10 requests/s,
POST for 200+ IDs) and parsing ESearch XML with :func:`Bio.Entrez.read`. The ESearch DTD
(``esearch 20060628``) is bundled with Biopython 1.88, so parsing works offline (checked:
no download is attempted for either ESearch fixture). EFetch XML is parsed by
:mod:`livingmeta.retrieval.pubmed_xml`, which needs no DTD.

Completeness rules (a living review must never mistake "fetch failed" for "nothing new"):

* The window goes into the term as ``(<query>) AND YYYY/MM/DD:YYYY/MM/DD[crdt]`` because
  the Create Date is never back-dated (EDAT is, for late additions).
* PubMed returns at most 9,999 IDs per search however you page. A window with a larger
  ``Count`` is halved recursively; a single day that is still too big is split by PMID
  ranges (``AND lo:hi[uid]``). The counts of the pieces must add up to the count of the
  piece they came from, and every leaf must return exactly ``Count`` IDs; otherwise the
  run fails with :class:`SourceError` (PubMed changed under us or answered partially --
  retry the run). An ``ErrorList`` (e.g. a phrase not found) also fails the run: the
  query did not mean what the protocol says.
* EFetch is POSTed in batches of 200 PMIDs. By default every requested PMID must come
  back (:class:`SourceError` otherwise). The watch-list refresh can pass
  ``allow_missing=True``: PubMed does delete and merge records, and the missing PMIDs are
  then *reported* in :attr:`EfetchResult.missing` so the caller can alert on them, never
  silently dropped.
"""

from __future__ import annotations

import io
import logging
import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from livingmeta.retrieval.http import HttpResponse, HttpTransport, RetryPolicy, SourceError
from livingmeta.retrieval.records import Record

log = logging.getLogger(__name__)

SOURCE = "pubmed"
DEFAULT_EUTILS_URL = "https://eutils.ncbi.nlm.nih.gov/entrez/eutils/"
EUTILS_URL_ENV = "LIVINGMETA_EUTILS_URL"
EMAIL_ENV = "LIVINGMETA_NCBI_EMAIL"
TOOL_ENV = "LIVINGMETA_NCBI_TOOL"
DEFAULT_API_KEY_ENV = "NCBI_API_KEY"
#: PubMed's hard cap on IDs from one search (retmax 10,000 is silently cut to 9,999).
ESEARCH_CAP = 9999
EFETCH_BATCH = 200
#: Upper bound for PMID range splitting; PMIDs are ~4.1e7 in 2025.
MAX_PMID = 99_999_999
#: Above this many characters of parameters, use POST (Biopython's rule, NCBI's advice).
_POST_THRESHOLD = 1000


@dataclass(frozen=True)
class EutilsConfig:
    """Where and as whom to talk to E-utilities.

    ``api_key`` is read from the environment variable named ``api_key_env`` (never from
    a config file that could be committed); NCBI allows 10 requests/s with a key and 3
    without, and the rate is chosen accordingly.
    """

    base_url: str = DEFAULT_EUTILS_URL
    tool: str = "livingmeta"
    email: str | None = None
    api_key: str | None = field(default=None, repr=False)
    timeout: tuple[float, float] = (10.0, 120.0)
    retry: RetryPolicy = field(default_factory=RetryPolicy)

    @property
    def rate_per_second(self) -> float:
        """NCBI's documented limit for this configuration."""
        return 10.0 if self.api_key else 3.0

    @classmethod
    def from_env(
        cls,
        *,
        email: str | None = None,
        tool: str | None = None,
        api_key_env: str = DEFAULT_API_KEY_ENV,
        base_url: str | None = None,
        environ: Mapping[str, str] | None = None,
        **kwargs: Any,
    ) -> EutilsConfig:
        """Build a config: explicit arguments win, then the environment, then defaults.

        Parameters
        ----------
        email, tool
            From the review config; fall back to ``LIVINGMETA_NCBI_EMAIL`` /
            ``LIVINGMETA_NCBI_TOOL``.
        api_key_env
            Name of the environment variable holding the key (configurable so that one
            machine can run reviews under different NCBI accounts).
        base_url
            Overrides ``LIVINGMETA_EUTILS_URL`` and the default.
        environ
            Environment mapping (tests pass a dict).
        """
        env = os.environ if environ is None else environ
        url = base_url or env.get(EUTILS_URL_ENV) or DEFAULT_EUTILS_URL
        return cls(
            base_url=url if url.endswith("/") else url + "/",
            tool=tool or env.get(TOOL_ENV) or "livingmeta",
            email=email or env.get(EMAIL_ENV) or None,
            api_key=env.get(api_key_env) or None,
            **kwargs,
        )


@dataclass(frozen=True)
class EsearchPage:
    """One ESearch response: what a snapshot needs to explain a result set later."""

    term: str
    count: int
    ids: tuple[str, ...]
    query_translation: str
    request: dict[str, Any]
    query_key: str | None = None
    webenv: str | None = None
    warnings: dict[str, list[str]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready metadata (IDs included; raw XML is not kept for ESearch)."""
        return {
            "term": self.term,
            "count": self.count,
            "ids": list(self.ids),
            "query_translation": self.query_translation,
            "request": self.request,
            "query_key": self.query_key,
            "webenv": self.webenv,
            "warnings": self.warnings,
        }


@dataclass(frozen=True)
class SearchResult:
    """The complete, de-duplicated PMID set of one query over one Create-Date window.

    ``count`` is PubMed's ``Count`` for the whole window (first request); ``pmids`` has
    exactly that many IDs. ``pieces`` are the leaf searches that produced them (more than
    one only when the window had to be split) and ``requests`` every request sent, in order.
    """

    query: str
    start: date
    end: date
    term: str
    count: int
    pmids: tuple[str, ...]
    query_translation: str
    pieces: tuple[EsearchPage, ...]
    requests: tuple[dict[str, Any], ...]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready metadata for the snapshot store."""
        return {
            "source": SOURCE,
            "query": self.query,
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "term": self.term,
            "count": self.count,
            "pmids": list(self.pmids),
            "query_translation": self.query_translation,
            "pieces": [
                {"term": p.term, "count": p.count, "query_translation": p.query_translation}
                for p in self.pieces
            ],
            "requests": list(self.requests),
        }


@dataclass(frozen=True)
class EfetchBatch:
    """One EFetch POST: the redacted request and the raw XML exactly as received."""

    pmids: tuple[str, ...]
    request: dict[str, Any]
    content: bytes


@dataclass(frozen=True)
class EfetchResult:
    """Parsed records plus the raw batches (for the snapshot), any PMIDs not returned, and
    any returned without being asked for (``unexpected``: reported, left out of ``records``).
    """

    records: tuple[Record, ...]
    batches: tuple[EfetchBatch, ...]
    requested: tuple[str, ...]
    missing: tuple[str, ...] = ()
    unexpected: tuple[str, ...] = ()


def crdt_term(query: str, start: date, end: date) -> str:
    """``(<query>) AND YYYY/MM/DD:YYYY/MM/DD[crdt]`` (both ends inclusive)."""
    if end < start:
        raise ValueError(f"window end {end} is before start {start}")
    return f"({query}) AND {start:%Y/%m/%d}:{end:%Y/%m/%d}[crdt]"


def parse_esearch(
    content: bytes, *, term: str = "", request: dict[str, Any] | None = None
) -> EsearchPage:
    """Parse ESearch XML with :func:`Bio.Entrez.read`; any error becomes :class:`SourceError`.

    Raises
    ------
    SourceError
        Malformed/truncated XML, an ``<ERROR>`` element, a non-empty ``ErrorList``, or a
        missing/non-numeric ``Count``.
    """
    from Bio import Entrez

    try:
        parsed = Entrez.read(io.BytesIO(content), validate=True)
    except Exception as exc:  # CorruptedXMLError, ValidationError, RuntimeError(<ERROR>)...
        raise SourceError(
            SOURCE, f"unreadable ESearch response for {term!r}: {type(exc).__name__}: {exc}"
        ) from None
    errors = {k: [str(v) for v in vals] for k, vals in (parsed.get("ErrorList") or {}).items()}
    errors = {k: v for k, v in errors.items() if v}
    if errors:
        raise SourceError(SOURCE, f"ESearch ErrorList for {term!r}: {errors}")
    try:
        count = int(parsed["Count"])
    except (KeyError, TypeError, ValueError):
        raise SourceError(SOURCE, f"ESearch response without a valid Count for {term!r}") from None
    warnings = {k: [str(v) for v in vals] for k, vals in (parsed.get("WarningList") or {}).items()}
    return EsearchPage(
        term=term,
        count=count,
        ids=tuple(str(i) for i in parsed.get("IdList", [])),
        query_translation=str(parsed.get("QueryTranslation", "")),
        request=request or {},
        query_key=str(parsed["QueryKey"]) if "QueryKey" in parsed else None,
        webenv=str(parsed["WebEnv"]) if "WebEnv" in parsed else None,
        warnings={k: v for k, v in warnings.items() if v},
    )


class EutilsClient:
    """E-utilities client for PubMed (ESearch and EFetch).

    Parameters
    ----------
    config
        :class:`EutilsConfig`; default :meth:`EutilsConfig.from_env`.
    transport
        Pre-built transport (tests inject tiny retry policies and a fake sleep). When not
        given, one is built with the config's rate, timeout and retry policy, and with the
        API key registered as a secret so it is masked everywhere.
    parser
        ``bytes -> list[Record]`` for EFetch XML; default
        :func:`livingmeta.retrieval.pubmed_xml.parse_pubmed_xml` (imported lazily).
    max_requests
        Safety bound on ESearch requests for one window (splitting cannot run away).
    """

    def __init__(
        self,
        config: EutilsConfig | None = None,
        *,
        transport: HttpTransport | None = None,
        parser: Callable[[bytes], list[Record]] | None = None,
        max_requests: int = 2000,
    ) -> None:
        self.config = config or EutilsConfig.from_env()
        secrets = [self.config.api_key] if self.config.api_key else []
        if transport is None:
            transport = HttpTransport(
                SOURCE,
                rate_per_second=self.config.rate_per_second,
                timeout=self.config.timeout,
                retry=self.config.retry,
                secrets=secrets,
            )
        else:
            transport.secrets = tuple({*transport.secrets, *secrets})
        self.transport = transport
        self._parser = parser
        self.max_requests = max_requests

    # -- ESearch ----------------------------------------------------------------------

    def esearch(
        self, term: str, *, retmax: int = ESEARCH_CAP, usehistory: bool = False
    ) -> EsearchPage:
        """One ESearch request (``db=pubmed``); see :func:`parse_esearch` for errors."""
        params: dict[str, Any] = {"db": "pubmed", "term": term, "retmax": retmax}
        if usehistory:
            params["usehistory"] = "y"
        response = self._call("esearch.fcgi", params)
        return parse_esearch(response.content, term=term, request=response.request)

    def search_window(self, query: str, start: date, end: date) -> SearchResult:
        """All PMIDs matching ``query`` created (``[crdt]``) from ``start`` to ``end``.

        Splits by halving date ranges, then PMID ranges, until every piece is within
        :data:`ESEARCH_CAP`; checks that the pieces' counts add up.

        Raises
        ------
        SourceError
            ErrorList, unreadable responses, inconsistent counts, a leaf returning fewer
            IDs than its Count, transport failure, or more than ``max_requests`` requests.
        """
        term = crdt_term(query, start, end)
        requests: list[dict[str, Any]] = []
        leaves: list[EsearchPage] = []

        def run(t: str) -> EsearchPage:
            if len(requests) >= self.max_requests:
                raise SourceError(
                    SOURCE, f"window {start}..{end} needs more than {self.max_requests} searches"
                )
            page = self.esearch(t, retmax=ESEARCH_CAP)
            requests.append(page.request)
            return page

        def collect(page: EsearchPage, lo: date, hi: date, uid: tuple[int, int] | None) -> None:
            if page.count <= ESEARCH_CAP:
                if len(set(page.ids)) != page.count:
                    raise SourceError(
                        SOURCE,
                        f"ESearch for {page.term!r} reported Count {page.count} but returned "
                        f"{len(set(page.ids))} distinct IDs",
                    )
                leaves.append(page)
                return
            children: list[tuple[EsearchPage, date, date, tuple[int, int] | None]] = []
            if uid is None and lo < hi:
                mid = lo + timedelta(days=(hi - lo).days // 2)
                for a, b in ((lo, mid), (mid + timedelta(days=1), hi)):
                    children.append((run(crdt_term(query, a, b)), a, b, None))
            else:
                ulo, uhi = uid or (1, MAX_PMID)
                if ulo >= uhi:
                    raise SourceError(SOURCE, f"cannot split {page.term!r} any further")
                umid = (ulo + uhi) // 2
                for a, b in ((ulo, umid), (umid + 1, uhi)):
                    child_term = f"{crdt_term(query, lo, hi)} AND {a}:{b}[uid]"
                    children.append((run(child_term), lo, hi, (a, b)))
            total = sum(child.count for child, *_ in children)
            if total != page.count:
                raise SourceError(
                    SOURCE,
                    f"split of {page.term!r} is inconsistent: pieces count {total}, "
                    f"whole counts {page.count} (PubMed changed during the run?)",
                )
            for child, a, b, u in children:
                collect(child, a, b, u)

        first = run(term)
        collect(first, start, end, None)
        pmids: set[str] = set()
        for leaf in leaves:
            pmids.update(leaf.ids)
        if len(pmids) != first.count:
            raise SourceError(
                SOURCE,
                f"collected {len(pmids)} distinct PMIDs for {term!r}, Count is {first.count}",
            )
        return SearchResult(
            query=query,
            start=start,
            end=end,
            term=term,
            count=first.count,
            pmids=tuple(sorted(pmids, key=int)),
            query_translation=first.query_translation,
            pieces=tuple(leaves),
            requests=tuple(requests),
        )

    # -- EFetch -----------------------------------------------------------------------

    def efetch(
        self,
        pmids: Iterable[str],
        *,
        batch_size: int = EFETCH_BATCH,
        allow_missing: bool = False,
    ) -> EfetchResult:
        """Fetch full PubMed XML for ``pmids`` in POST batches; parse into records.

        Parameters
        ----------
        pmids
            PMIDs (duplicates are dropped, order kept).
        batch_size
            IDs per POST; 200 is NCBI's and Biopython's threshold for POST.
        allow_missing
            If false (default), any PMID that does not come back fails the step. If true,
            they are listed in :attr:`EfetchResult.missing` (deleted or merged records
            are real events the watch-list refresh must report).

        Raises
        ------
        SourceError
            Transport failure, unparseable XML, non-numeric PMIDs, or missing PMIDs when
            ``allow_missing`` is false.
        """
        wanted = list(dict.fromkeys(str(p).strip() for p in pmids))
        bad = [p for p in wanted if not p.isdigit()]
        if bad:
            raise SourceError(SOURCE, f"not PMIDs: {bad[:5]}")
        if batch_size < 1:
            raise ValueError("batch_size must be >= 1")
        parse = self._parser or _default_parser()
        records: list[Record] = []
        batches: list[EfetchBatch] = []
        for i in range(0, len(wanted), batch_size):
            chunk = wanted[i : i + batch_size]
            response = self._call(
                "efetch.fcgi",
                {"db": "pubmed", "id": ",".join(chunk), "retmode": "xml"},
                force_post=True,
            )
            try:
                parsed = parse(response.content)
            except ValueError as exc:  # PubmedParseError is a ValueError
                raise SourceError(
                    SOURCE, f"unparseable EFetch XML for PMIDs {chunk[0]}..{chunk[-1]}: {exc}"
                ) from None
            batches.append(EfetchBatch(tuple(chunk), response.request, response.content))
            records.extend(parsed)
        returned = {r.pmid for r in records if r.pmid}
        missing = tuple(p for p in wanted if p not in returned)
        unexpected = tuple(sorted(returned - set(wanted), key=int))
        if unexpected:
            # Never queue what was not asked for: a confused or hostile server's extras.
            log.warning("EFetch returned PMIDs not requested, refused: %s", unexpected[:20])
            asked = set(wanted)
            records = [r for r in records if r.pmid in asked]
        if missing and not allow_missing:
            shown = ", ".join(missing[:20]) + (" ..." if len(missing) > 20 else "")
            raise SourceError(
                SOURCE, f"EFetch did not return {len(missing)} of {len(wanted)} PMIDs: {shown}"
            )
        return EfetchResult(
            records=tuple(records),
            batches=tuple(batches),
            requested=tuple(wanted),
            missing=missing,
            unexpected=unexpected,
        )

    # -- internals --------------------------------------------------------------------

    def _call(
        self, endpoint: str, params: Mapping[str, Any], *, force_post: bool = False
    ) -> HttpResponse:
        full = dict(params)
        full["tool"] = self.config.tool
        if self.config.email:
            full["email"] = self.config.email
        if self.config.api_key:
            full["api_key"] = self.config.api_key
        url = self.config.base_url + endpoint
        long = sum(len(str(k)) + len(str(v)) + 2 for k, v in full.items()) > _POST_THRESHOLD
        if force_post or long:
            return self.transport.post(url, data=full)
        return self.transport.get(url, params=full)


def _default_parser() -> Callable[[bytes], list[Record]]:
    # Imported lazily: pubmed_xml is a separate module (and engineer); ESearch-only users
    # should not pay for, or break on, the EFetch parser.
    from livingmeta.retrieval.pubmed_xml import parse_pubmed_xml

    return parse_pubmed_xml


__all__ = [
    "DEFAULT_API_KEY_ENV",
    "DEFAULT_EUTILS_URL",
    "EFETCH_BATCH",
    "ESEARCH_CAP",
    "EfetchBatch",
    "EfetchResult",
    "EsearchPage",
    "EutilsClient",
    "EutilsConfig",
    "SearchResult",
    "crdt_term",
    "parse_esearch",
]
