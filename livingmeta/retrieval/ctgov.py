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

import json
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from livingmeta.retrieval.http import HttpTransport, RetryPolicy, SourceError
from livingmeta.retrieval.records import NCT_PATTERN, Record, TrialInfo

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
    design = _get(protocol, "designModule") or {}
    nct = _str(ident.get("nctId"))
    if not nct or not NCT_PATTERN.fullmatch(nct.upper()):
        raise ValueError(f"study without a valid nctId: {nct!r}")
    nct = nct.upper()

    aliases = [a.strip().upper() for a in _list(ident.get("nctIdAliases")) if isinstance(a, str)]
    nct_ids = tuple(dict.fromkeys([nct, *aliases]))
    other_ids = tuple(
        dict.fromkeys(
            sid
            for info in _list(ident.get("secondaryIdInfos"))
            if isinstance(info, Mapping) and (sid := format_secondary_id(info))
        )
    )

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

    enrollment_raw = _get(design, "enrollmentInfo", "count")
    try:
        enrollment = int(enrollment_raw) if enrollment_raw is not None else None
    except (TypeError, ValueError):
        enrollment = None

    first_posted = _str(_get(status, "studyFirstPostDateStruct", "date"))
    start_date = _str(_get(status, "startDateStruct", "date"))
    brief_title = _str(ident.get("briefTitle"))
    official_title = _str(ident.get("officialTitle"))
    summary = _str(_get(protocol, "descriptionModule", "briefSummary")) or ""
    title = brief_title or official_title or ""
    in_text = tuple(
        dict.fromkeys(
            m.upper()
            for m in NCT_PATTERN.findall(f"{title}\n{summary}")
            if m.upper() not in nct_ids
        )
    )

    trial = TrialInfo(
        overall_status=_str(status.get("overallStatus")),
        phases=tuple(p for p in _list(design.get("phases")) if isinstance(p, str)),
        study_type=_str(design.get("studyType")),
        enrollment=enrollment,
        conditions=tuple(
            c for c in _list(_get(protocol, "conditionsModule", "conditions")) if isinstance(c, str)
        ),
        interventions=tuple(
            dict.fromkeys(
                name
                for i in _list(_get(protocol, "armsInterventionsModule", "interventions"))
                if (name := _str(_get(i, "name")))
            )
        ),
        first_posted=first_posted,
        last_update_posted=_str(_get(status, "lastUpdatePostDateStruct", "date")),
        results_first_posted=_str(_get(status, "resultsFirstPostDateStruct", "date")),
        has_results=study.get("hasResults") is True,
        acronym=_str(ident.get("acronym")),
        official_title=official_title,
    )
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
        record_id=f"{source}:{nct}",
        source=source,
        title=title,
        abstract=summary,
        year=_year(start_date) or _year(first_posted),
        pub_date=first_posted,
        nct_ids=nct_ids,
        nct_ids_in_text=in_text,
        other_ids=other_ids,
        linked_pmids=tuple(dict.fromkeys(linked)),
        trial=trial,
        extra={k: v for k, v in extra.items() if v is not None},
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
        if not 1 <= page_size <= MAX_PAGE_SIZE:
            raise ValueError(f"page_size must be 1..{MAX_PAGE_SIZE}")
        params: dict[str, Any] = {"format": "json"}
        for name, value in (("query.cond", cond), ("query.intr", intr), ("query.term", term)):
            if value:
                params[name] = value
        filters = [f for f in (last_update_filter(since, until), advanced) if f]
        if filters:
            params["filter.advanced"] = " AND ".join(
                f"({f})" if len(filters) > 1 else f for f in filters
            )
        if fields:
            params["fields"] = "|".join(fields)
        params["pageSize"] = page_size

        pages: list[CtgovPage] = []
        records: list[Record] = []
        seen: dict[str, int] = {}
        total: int | None = None
        studies_seen = 0
        token: str | None = None
        used_tokens: set[str] = set()
        while True:
            if len(pages) >= max_pages:
                raise SourceError(SOURCE, f"more than {max_pages} pages; giving up")
            request_params = dict(params)
            if token is None:
                request_params["countTotal"] = "true"
            else:
                request_params["pageToken"] = token
            response = self.transport.get(self.base_url + "studies", params=request_params)
            page = parse_page(response.content)
            if token is None:
                total = _total_count(page)
            next_token = page.get("nextPageToken")
            if next_token is not None and (not isinstance(next_token, str) or not next_token):
                raise SourceError(SOURCE, f"invalid nextPageToken {next_token!r}")
            studies = page["studies"]
            pages.append(CtgovPage(response.request, response.content, len(studies), next_token))
            for study in studies:
                studies_seen += 1
                try:
                    record = parse_study(study)
                except _PARSE_ERRORS as exc:
                    raise SourceError(
                        SOURCE, f"unparseable study on page {len(pages)}: {_why(exc)}"
                    ) from None
                nct = record.record_id.partition(":")[2]
                if nct in seen:
                    raise SourceError(
                        SOURCE,
                        f"{nct} returned twice (pages {seen[nct]} and {len(pages)}): paging "
                        "is unstable, results may be incomplete",
                    )
                seen[nct] = len(pages)
                records.append(record)
            if next_token is None:
                break
            if next_token in used_tokens:
                raise SourceError(SOURCE, f"nextPageToken repeated on page {len(pages)}")
            used_tokens.add(next_token)
            token = next_token
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
