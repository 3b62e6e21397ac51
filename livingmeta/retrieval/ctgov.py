"""ClinicalTrials.gov API v2: incremental ``/studies`` searches, ``/version``, and the parser.

Why the paging is so careful: the API documents that a page may have an *empty*
``studies`` array while more pages follow, that only a missing ``nextPageToken`` marks the
end, and that every later page must repeat the first page's parameters (except
``pageToken``, ``pageSize`` and ``countTotal``). ``totalCount`` arrives on the first page
only (with ``countTotal=true``), and the number of studies collected must equal it --
otherwise the run fails with :class:`SourceError` instead of recording an incomplete
increment as if it were the truth.

Increments use ``filter.advanced=AREA[LastUpdatePostDate]RANGE[since,MAX]``: the last-update
date moves on *any* change (first posting, status, results), so one filter catches new,
updated and newly-resulted trials. ``/version``'s ``dataTimestamp`` lets the caller skip
the source entirely when nothing was refreshed since the last run.

The parser (:func:`parse_study`) must cope with partial records: pages requested with
``fields=`` carry only the listed modules, so every module and key is optional.
"""

from __future__ import annotations

import itertools
import json
import os
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from livingmeta.retrieval.http import HttpResponse, HttpTransport, RetryPolicy, SourceError
from livingmeta.retrieval.records import NCT_PATTERN, Record, TrialInfo, nct_ids_in_text

SOURCE = "ctgov"
DEFAULT_CTGOV_URL = "https://clinicaltrials.gov/api/v2/"
CTGOV_URL_ENV = "LIVINGMETA_CTGOV_URL"
MAX_PAGE_SIZE = 1000
#: robots.txt asks for ``Crawl-delay: 1``; no official limit is published.
DEFAULT_RATE = 1.0

_EUDRACT = re.compile(r"^\d{4}-\d{6}-\d{2}$")
_ISRCTN = re.compile(r"^ISRCTN\d{8}$", re.IGNORECASE)
_SECONDARY_ID_LABELS = {
    "EUDRACT_NUMBER": "EudraCT",
    "CTIS": "CTIS",
    "NIH": "NIH",
    "FDA": "FDA",
    "VA": "VA",
    "CDC": "CDC",
    "AHRQ": "AHRQ",
    "SAMHSA": "SAMHSA",
    "OTHER_GRANT": "Grant",
    "REGISTRY": "Registry",
    "OTHER": "Other",
}


# -- parser -------------------------------------------------------------------------------


def _get(obj: Any, *path: str) -> Any:
    """``obj[path0][path1]...`` or ``None`` when any level is missing or not a dict."""
    for key in path:
        if not isinstance(obj, Mapping):
            return None
        obj = obj.get(key)
    return obj


def _list(obj: Any) -> list[Any]:
    return obj if isinstance(obj, list) else []


def _str(obj: Any) -> str | None:
    return (obj.strip() or None) if isinstance(obj, str) else None


def _year(partial_date: str | None) -> int | None:
    if partial_date and len(partial_date) >= 4 and partial_date[:4].isdigit():
        return int(partial_date[:4])
    return None


def format_secondary_id(info: Mapping[str, Any]) -> str | None:
    """One ``secondaryIdInfos`` entry as an ``other_ids`` string.

    EudraCT numbers become ``"EudraCT:2014-005181-30"`` (also when filed as ``OTHER``, which
    sponsors often do), ISRCTN numbers stay bare (``"ISRCTN12345678"``, as PubMed's
    DataBankList has them), everything else is ``"<Type>:<id>"`` so that deduplication can
    match registry IDs exactly without confusing a grant number with a registration.
    """
    ident = _str(info.get("id"))
    if not ident:
        return None
    kind = str(info.get("type") or "OTHER").upper()
    compact = ident.replace(" ", "")
    if _ISRCTN.match(compact):
        return compact.upper()
    if kind == "EUDRACT_NUMBER" or _EUDRACT.match(compact):
        return f"EudraCT:{compact}"
    return f"{_SECONDARY_ID_LABELS.get(kind, kind.title())}:{ident}"


def reference_pmids(record: Record) -> tuple[str, ...]:
    """Plain PMIDs from a CT.gov record's ``linked_pmids`` (``"RESULT:123"`` -> ``"123"``)."""
    return tuple(dict.fromkeys(item.rpartition(":")[2] for item in record.linked_pmids))


def parse_study(study: Mapping[str, Any], source: str = SOURCE) -> Record:
    """Normalise one ClinicalTrials.gov v2 study object into a :class:`Record`.

    Parameters
    ----------
    study
        One element of ``studies`` from ``/studies``, or the body of ``/studies/{nctId}``.
    source
        Source name used in ``record_id`` (``"<source>:NCT01234567"``).

    Returns
    -------
    Record
        ``trial`` carries the registry fields; ``linked_pmids`` holds ``"TYPE:PMID"``
        from ``referencesModule`` (BACKGROUND included: the type lets linking ignore it);
        ``extra`` keeps sponsor, start/completion dates, org study ID, retraction PMIDs
        and whether ``hasResults`` was present at all (it is not in ``fields=`` pages).

    Raises
    ------
    ValueError
        When the study has no NCT ID (nothing could identify it).
    """
    protocol = _get(study, "protocolSection") or {}
    ident = _get(protocol, "identificationModule") or {}
    status = _get(protocol, "statusModule") or {}
    nct_ids = _nct_ids(ident)
    linked, retractions = _references(protocol)
    first_posted = _str(_get(status, "studyFirstPostDateStruct", "date"))
    start_date = _str(_get(status, "startDateStruct", "date"))
    summary = _str(_get(protocol, "descriptionModule", "briefSummary")) or ""
    title = _str(ident.get("briefTitle")) or _str(ident.get("officialTitle")) or ""
    extra: dict[str, Any] = {
        "has_results_reported": "hasResults" in study,
        "start_date": start_date,
        "completion_date": _str(_get(status, "completionDateStruct", "date")),
        "lead_sponsor": _str(_get(protocol, "sponsorCollaboratorsModule", "leadSponsor", "name")),
        "org_study_id": _str(_get(ident, "orgStudyIdInfo", "id")),
        "reference_pmids": [p.rpartition(":")[2] for p in linked],
    }
    if retractions:
        extra["reference_retraction_pmids"] = retractions
    return Record(
        record_id=f"{source}:{nct_ids[0]}",
        source=source,
        title=title,
        abstract=summary,
        year=_year(start_date) or _year(first_posted),
        pub_date=first_posted,
        nct_ids=nct_ids,
        nct_ids_in_text=nct_ids_in_text((title, summary), nct_ids),
        other_ids=_secondary_ids(ident),
        linked_pmids=tuple(dict.fromkeys(linked)),
        trial=_trial_info(study, protocol),
        extra={k: v for k, v in extra.items() if v is not None},
    )


def _nct_ids(ident: Mapping[str, Any]) -> tuple[str, ...]:
    """The study's NCT id, then its aliases (``ValueError`` without a valid id)."""
    nct = _str(ident.get("nctId"))
    if not nct or not NCT_PATTERN.fullmatch(nct.upper()):
        raise ValueError(f"study without a valid nctId: {nct!r}")
    aliases = [a.strip().upper() for a in _list(ident.get("nctIdAliases")) if isinstance(a, str)]
    return tuple(dict.fromkeys([nct.upper(), *aliases]))


def _secondary_ids(ident: Mapping[str, Any]) -> tuple[str, ...]:
    """``secondaryIdInfos`` as ``other_ids`` (:func:`format_secondary_id`), once each."""
    return tuple(
        dict.fromkeys(
            sid
            for info in _list(ident.get("secondaryIdInfos"))
            if isinstance(info, Mapping) and (sid := format_secondary_id(info))
        )
    )


def _references(protocol: Mapping[str, Any]) -> tuple[list[str], list[str]]:
    """``"TYPE:PMID"`` of every reference with a PMID, and the PMIDs of their retractions."""
    linked: list[str] = []
    retractions: list[str] = []
    for ref in _list(_get(protocol, "referencesModule", "references")):
        if not isinstance(ref, Mapping):
            continue
        pmid = _str(ref.get("pmid"))
        if pmid and pmid.isdigit():
            linked.append(f"{_str(ref.get('type')) or 'UNKNOWN'}:{pmid}")
        for retraction in _list(ref.get("retractions")):
            rp = _str(_get(retraction, "pmid"))
            if rp:
                retractions.append(rp)
    return linked, retractions


def _trial_info(study: Mapping[str, Any], protocol: Mapping[str, Any]) -> TrialInfo:
    """The registry fields of a study (status, design, conditions, interventions, dates)."""
    ident = _get(protocol, "identificationModule") or {}
    status = _get(protocol, "statusModule") or {}
    design = _get(protocol, "designModule") or {}
    enrollment_raw = _get(design, "enrollmentInfo", "count")
    try:
        enrollment = int(enrollment_raw) if enrollment_raw is not None else None
    except (TypeError, ValueError):
        enrollment = None
    interventions = _list(_get(protocol, "armsInterventionsModule", "interventions"))
    return TrialInfo(
        overall_status=_str(status.get("overallStatus")),
        phases=tuple(p for p in _list(design.get("phases")) if isinstance(p, str)),
        study_type=_str(design.get("studyType")),
        enrollment=enrollment,
        conditions=tuple(
            c for c in _list(_get(protocol, "conditionsModule", "conditions")) if isinstance(c, str)
        ),
        interventions=tuple(
            dict.fromkeys(name for i in interventions if (name := _str(_get(i, "name"))))
        ),
        first_posted=_str(_get(status, "studyFirstPostDateStruct", "date")),
        last_update_posted=_str(_get(status, "lastUpdatePostDateStruct", "date")),
        results_first_posted=_str(_get(status, "resultsFirstPostDateStruct", "date")),
        has_results=study.get("hasResults") is True,
        acronym=_str(ident.get("acronym")),
        official_title=_str(ident.get("officialTitle")),
    )


#: What decoding an untrusted body can raise. RecursionError comes from JSON nested
#: thousands deep: a hostile or broken server's problem, so this source's failure.
_PARSE_ERRORS = (ValueError, TypeError, AttributeError, UnicodeDecodeError, RecursionError)


def _why(exc: BaseException) -> str:
    if isinstance(exc, RecursionError):
        return "nested too deeply to be a ClinicalTrials.gov response"
    return str(exc)[:300]


def parse_page(content: bytes | str | Mapping[str, Any]) -> dict[str, Any]:
    """Decode and validate one ``/studies`` page (a JSON object with a ``studies`` list).

    Raises
    ------
    SourceError
        Malformed JSON, a non-object, or no ``studies`` list.
    """
    if isinstance(content, Mapping):
        page: Any = content
    else:
        try:
            page = json.loads(content)
        except _PARSE_ERRORS as exc:
            raise SourceError(SOURCE, f"malformed JSON page: {_why(exc)}") from None
    if not isinstance(page, Mapping) or not isinstance(page.get("studies"), list):
        keys = sorted(page)[:10] if isinstance(page, Mapping) else type(page).__name__
        raise SourceError(SOURCE, f"page without a 'studies' list (got {keys})")
    return dict(page)


# -- client -------------------------------------------------------------------------------


def last_update_filter(since: date | None = None, until: date | None = None) -> str | None:
    """``AREA[LastUpdatePostDate]RANGE[since,until]`` with ``MIN``/``MAX`` for open ends."""
    if since is None and until is None:
        return None
    if since and until and until < since:
        raise ValueError(f"until {until} is before since {since}")
    lo = since.isoformat() if since else "MIN"
    hi = until.isoformat() if until else "MAX"
    return f"AREA[LastUpdatePostDate]RANGE[{lo},{hi}]"


@dataclass(frozen=True)
class CtgovPage:
    """One page as received: the redacted request and the raw body (for snapshots)."""

    request: dict[str, Any]
    content: bytes
    n_studies: int
    next_page_token: str | None


@dataclass(frozen=True)
class CtgovSearchResult:
    """Every study of one query/window, de-duplicated by NCT ID, plus the raw pages."""

    params: dict[str, Any]
    total_count: int | None
    records: tuple[Record, ...]
    pages: tuple[CtgovPage, ...]
    studies_seen: int

    @property
    def nct_ids(self) -> tuple[str, ...]:
        """NCT IDs of the records, in the order the API returned them."""
        return tuple(r.record_id.partition(":")[2] for r in self.records)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready metadata (records and raw pages are stored separately)."""
        return {
            "source": SOURCE,
            "params": self.params,
            "total_count": self.total_count,
            "studies_seen": self.studies_seen,
            "nct_ids": list(self.nct_ids),
            "requests": [p.request for p in self.pages],
        }


@dataclass(frozen=True)
class CtgovVersion:
    """``/version``: API version and the timestamp of the data refresh (UTC, no zone)."""

    api_version: str | None
    data_timestamp: str
    raw: dict[str, Any] = field(default_factory=dict)


class CtgovClient:
    """ClinicalTrials.gov API v2 client.

    Parameters
    ----------
    base_url
        Default ``LIVINGMETA_CTGOV_URL`` or :data:`DEFAULT_CTGOV_URL`.
    transport
        Pre-built transport (tests inject a tiny retry policy and fake sleep).
    rate_per_second, timeout, retry
        Used only when ``transport`` is not given.
    """

    def __init__(
        self,
        base_url: str | None = None,
        *,
        transport: HttpTransport | None = None,
        rate_per_second: float = DEFAULT_RATE,
        timeout: tuple[float, float] = (10.0, 120.0),
        retry: RetryPolicy | None = None,
    ) -> None:
        url = base_url or os.environ.get(CTGOV_URL_ENV) or DEFAULT_CTGOV_URL
        self.base_url = url if url.endswith("/") else url + "/"
        self.transport = transport or HttpTransport(
            SOURCE, rate_per_second=rate_per_second, timeout=timeout, retry=retry
        )

    def version(self) -> CtgovVersion:
        """``GET /version``; compare ``data_timestamp`` with the last run to skip the source.

        Raises
        ------
        SourceError
            Transport failure, malformed JSON or no ``dataTimestamp``.
        """
        response = self.transport.get(self.base_url + "version")
        try:
            body = json.loads(response.content)
        except _PARSE_ERRORS as exc:
            raise SourceError(SOURCE, f"malformed /version JSON: {_why(exc)}") from None
        stamp = body.get("dataTimestamp") if isinstance(body, Mapping) else None
        if not isinstance(stamp, str) or not stamp:
            raise SourceError(SOURCE, "/version response without dataTimestamp")
        api_version = body.get("apiVersion")
        return CtgovVersion(
            str(api_version) if api_version is not None else None, stamp, dict(body)
        )

    def search(
        self,
        *,
        cond: str | None = None,
        intr: str | None = None,
        term: str | None = None,
        since: date | None = None,
        until: date | None = None,
        advanced: str | None = None,
        fields: Iterable[str] | None = None,
        page_size: int = MAX_PAGE_SIZE,
        max_pages: int = 10_000,
        check_total: bool = True,
    ) -> CtgovSearchResult:
        """Run one saved search over a ``LastUpdatePostDate`` window, following all pages.

        Parameters
        ----------
        cond, intr, term
            ``query.cond`` / ``query.intr`` / ``query.term`` from the saved search.
        since, until
            Window on ``LastUpdatePostDate`` (inclusive; open ends are ``MIN``/``MAX``).
        advanced
            Extra Essie expression ANDed with the window filter.
        fields
            Optional ``fields=`` list (default: full records).
        page_size
            1..1000 (the API coerces larger values down to 1000).
        max_pages
            Runaway guard; exceeding it raises :class:`SourceError`.
        check_total
            Require ``studies collected == totalCount`` (disable only for deliberately
            partial sweeps).

        Raises
        ------
        SourceError
            Transport failure, malformed page, repeated token, too many pages, duplicate
            NCT IDs across pages, a study without NCT ID, or a count mismatch.
        """
        params = _search_params(
            {"query.cond": cond, "query.intr": intr, "query.term": term},
            (last_update_filter(since, until), advanced),
            fields,
            page_size,
        )
        pages: list[CtgovPage] = []
        records: list[Record] = []
        seen: dict[str, int] = {}
        total: int | None = None
        for response, studies, next_token, count in self._pages(params, max_pages):
            total = count if not pages else total
            pages.append(CtgovPage(response.request, response.content, len(studies), next_token))
            records += _page_records(studies, len(pages), seen)
        studies_seen = sum(page.n_studies for page in pages)
        if check_total and total is not None and studies_seen != total:
            raise SourceError(
                SOURCE,
                f"collected {studies_seen} studies but totalCount is {total} ({len(pages)} pages)",
            )
        return CtgovSearchResult(
            params=params,
            total_count=total,
            records=tuple(records),
            pages=tuple(pages),
            studies_seen=studies_seen,
        )

    def _pages(
        self, params: Mapping[str, Any], max_pages: int
    ) -> Iterator[tuple[HttpResponse, list[Any], str | None, int | None]]:
        """Every page of one search, following ``nextPageToken`` to the end: the response,
        its studies, the next token and (first page only) ``totalCount``."""
        token: str | None = None
        used_tokens: set[str] = set()
        for number in itertools.count(1):
            if number > max_pages:
                raise SourceError(SOURCE, f"more than {max_pages} pages; giving up")
            request_params = dict(params)
            if token is None:
                request_params["countTotal"] = "true"
            else:
                request_params["pageToken"] = token
            response = self.transport.get(self.base_url + "studies", params=request_params)
            page = parse_page(response.content)
            total = _total_count(page) if token is None else None
            next_token = page.get("nextPageToken")
            if next_token is not None and (not isinstance(next_token, str) or not next_token):
                raise SourceError(SOURCE, f"invalid nextPageToken {next_token!r}")
            yield response, page["studies"], next_token, total
            if next_token is None:
                return
            if next_token in used_tokens:
                raise SourceError(SOURCE, f"nextPageToken repeated on page {number}")
            used_tokens.add(next_token)
            token = next_token

    def fetch_study(self, nct_id: str) -> tuple[Record, bytes]:
        """``GET /studies/{nctId}`` (full record); returns the record and the raw JSON.

        Raises
        ------
        SourceError
            Transport failure (404 included), malformed JSON or an unparseable study.
        """
        nct = nct_id.strip().upper()
        if not NCT_PATTERN.fullmatch(nct):
            raise ValueError(f"not an NCT ID: {nct_id!r}")
        response = self.transport.get(self.base_url + f"studies/{nct}", params={"format": "json"})
        try:
            body = json.loads(response.content)
            return parse_study(body), response.content
        except _PARSE_ERRORS as exc:
            raise SourceError(SOURCE, f"unparseable study {nct}: {_why(exc)}") from None


def _search_params(
    queries: Mapping[str, str | None],
    filters: Iterable[str | None],
    fields: Iterable[str] | None,
    page_size: int,
) -> dict[str, Any]:
    """The ``/studies`` parameters of one search, which every page repeats: the
    ``query.*`` values given, the filters ANDed, ``fields`` and ``pageSize``."""
    if not 1 <= page_size <= MAX_PAGE_SIZE:
        raise ValueError(f"page_size must be 1..{MAX_PAGE_SIZE}")
    params: dict[str, Any] = {"format": "json"}
    params.update((name, value) for name, value in queries.items() if value)
    given = [f for f in filters if f]
    if given:
        params["filter.advanced"] = " AND ".join(f"({f})" if len(given) > 1 else f for f in given)
    if fields:
        params["fields"] = "|".join(fields)
    params["pageSize"] = page_size
    return params


def _page_records(studies: list[Any], page_number: int, seen: dict[str, int]) -> list[Record]:
    """The records of one page; ``seen`` (NCT id -> page) refuses a study paged twice."""
    records = []
    for study in studies:
        try:
            record = parse_study(study)
        except _PARSE_ERRORS as exc:
            raise SourceError(
                SOURCE, f"unparseable study on page {page_number}: {_why(exc)}"
            ) from None
        nct = record.record_id.partition(":")[2]
        if nct in seen:
            raise SourceError(
                SOURCE,
                f"{nct} returned twice (pages {seen[nct]} and {page_number}): paging "
                "is unstable, results may be incomplete",
            )
        seen[nct] = page_number
        records.append(record)
    return records


def _total_count(page: Mapping[str, Any]) -> int:
    value = page.get("totalCount")
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise SourceError(
            SOURCE, f"first page lacks a valid totalCount (countTotal=true sent): {value!r}"
        )
    return value


__all__ = [
    "DEFAULT_CTGOV_URL",
    "CtgovClient",
    "CtgovPage",
    "CtgovSearchResult",
    "CtgovVersion",
    "format_secondary_id",
    "last_update_filter",
    "parse_page",
    "parse_study",
    "reference_pmids",
]
