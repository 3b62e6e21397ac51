"""ClinicalTrials.gov v2: parser on every recorded fixture, paging, counts and failures."""

from __future__ import annotations

import gzip
import json
from datetime import date

import pytest

from livingmeta.retrieval.ctgov import (
    CtgovClient,
    format_secondary_id,
    last_update_filter,
    parse_page,
    parse_study,
    reference_pmids,
)
from livingmeta.retrieval.http import HttpTransport, RateLimiter, RetryPolicy, SourceError
from livingmeta.retrieval.records import Record
from tests.fakeserver import (
    CtgovPages,
    FakeServer,
    Fault,
    RecordedRequest,
    Reply,
    chain_pages,
    minimal_study,
)

PAGE1 = "ctgov/studies_page1_countTotal_nextPageToken.json"
PAGE2 = "ctgov/studies_page2_via_pageToken.json"
SINGLE = "ctgov/studies_single_page_no_nextPageToken.json"
FULL = "ctgov/study_NCT02513394_full_with_results.json.gz"
VERSION = "ctgov/version_TRANSCRIBED_not_recorded.json"


@pytest.fixture
def server():
    with FakeServer() as fake:
        yield fake


@pytest.fixture(scope="module")
def full_study(fixtures_dir) -> dict:
    with gzip.open(fixtures_dir / FULL, "rt", encoding="utf-8") as handle:
        return json.load(handle)


def make_client(server: FakeServer, sleeps: list[float] | None = None) -> CtgovClient:
    transport = HttpTransport(
        "ctgov",
        timeout=(1.0, 2.0),
        retry=RetryPolicy(max_attempts=3, initial=0.01, maximum=0.02, jitter=0.0),
        rate_limiter=RateLimiter(1e6, sleep=lambda s: None),
        sleep=(sleeps if sleeps is not None else []).append,
    )
    return CtgovClient(server.url, transport=transport)


def synthetic_studies(n: int, first: int = 90_000_000) -> list[dict]:
    """SYNTHETIC studies (not recordings) to complete fixture page chains."""
    return [minimal_study(f"NCT{first + i:08d}") for i in range(n)]


# -- parser: the full recorded study ------------------------------------------------------


def test_parse_full_study(full_study):
    record = parse_study(full_study)
    assert record.record_id == "ctgov:NCT02513394"
    assert record.source == "ctgov"
    assert record.title == "PALbociclib CoLlaborative Adjuvant Study"
    assert record.nct_ids == ("NCT02513394",)
    assert record.other_ids == (
        "Other:ABCSG 42",
        "Other:BIG 14-03",
        "EudraCT:2014-005181-30",
    )
    assert record.linked_pmids == (
        "DERIVED:34995105",
        "DERIVED:34874182",
        "DERIVED:33460574",
        "DERIVED:30032196",
    )
    assert reference_pmids(record) == ("34995105", "34874182", "33460574", "30032196")
    assert record.extra["reference_pmids"] == list(reference_pmids(record))
    assert record.year == 2015  # start date "2015-08"
    assert record.pub_date == "2015-07-31"
    assert record.abstract.startswith("This is a prospective, two arm, international")
    trial = record.trial
    assert trial.overall_status == "ACTIVE_NOT_RECRUITING"
    assert trial.phases == ("PHASE3",)
    assert trial.study_type == "INTERVENTIONAL"
    assert trial.enrollment == 5796
    assert trial.conditions == ("Breast Cancer",)
    assert trial.interventions == ("Palbociclib", "Standard Adjuvant Endocrine Therapy")
    assert trial.first_posted == "2015-07-31"
    assert trial.last_update_posted == "2023-06-15"
    assert trial.results_first_posted == "2022-04-13"
    assert trial.has_results is True
    assert trial.acronym == "PALLAS"
    assert trial.official_title.startswith("PALbociclib CoLlaborative Adjuvant Study: A Randomized")
    assert record.extra["org_study_id"] == "AFT-05"
    assert record.extra["has_results_reported"] is True
    assert Record.from_dict(json.loads(json.dumps(record.to_dict()))) == record


# -- parser: the `fields=` page fixtures (most modules absent) --------------------------------


@pytest.mark.parametrize(
    ("fixture", "expected"),
    [
        (
            PAGE1,
            [
                ("NCT02710084", "COMPLETED", ("PHASE2",), 18, 2016),
                ("NCT05105685", "COMPLETED", ("PHASE1", "PHASE2"), 6, 2020),
                ("NCT01525901", "COMPLETED", ("PHASE2",), 19, 2012),
                ("NCT03493607", "COMPLETED", ("PHASE2",), 6, 2018),
                ("NCT07119606", "NOT_YET_RECRUITING", ("NA",), 650, 2025),
            ],
        ),
        (
            PAGE2,
            [
                ("NCT05187377", "COMPLETED", ("PHASE2",), 32, 2022),
                ("NCT03836300", "ENROLLING_BY_INVITATION", ("NA",), 120, 2018),
                ("NCT07014020", "ACTIVE_NOT_RECRUITING", ("PHASE1",), 8, 2025),
                ("NCT05025241", "COMPLETED", ("PHASE2",), 18, 2022),
                ("NCT07281079", "RECRUITING", ("PHASE3",), 160, 2025),
            ],
        ),
        (
            SINGLE,
            [
                ("NCT06382129", "ACTIVE_NOT_RECRUITING", ("PHASE3",), 698, 2024),
                ("NCT06604689", "RECRUITING", (), 800, 2024),
            ],
        ),
    ],
)
def test_parse_page_fixture_studies(fixtures_dir, fixture, expected):
    page = parse_page((fixtures_dir / fixture).read_bytes())
    records = [parse_study(s) for s in page["studies"]]
    got = [
        (r.nct_ids[0], r.trial.overall_status, r.trial.phases, r.trial.enrollment, r.year)
        for r in records
    ]
    assert got == expected
    for record in records:
        assert record.record_id == f"ctgov:{record.nct_ids[0]}"
        assert record.title and record.abstract
        # fields= pages lack these modules: defaults, not crashes
        assert record.trial.has_results is False
        assert record.extra["has_results_reported"] is False
        assert record.trial.first_posted is None and record.trial.last_update_posted is None
        assert record.linked_pmids == () and record.other_ids == ()


def test_parse_page_fixture_details(fixtures_dir):
    page = parse_page((fixtures_dir / PAGE2).read_bytes())
    record = parse_study(page["studies"][0])
    assert record.trial.conditions == ("Phelan-McDermid Syndrome", "Autism Spectrum Disorder (ASD)")
    assert record.trial.interventions == ("Growth Hormone", "Saline")
    assert record.extra["lead_sponsor"] == "Icahn School of Medicine at Mount Sinai"
    assert record.extra["completion_date"] == "2025-02-05"


# -- parser: synthetic edge cases -----------------------------------------------------------


def test_parse_synthetic_aliases_ids_references_and_retractions():
    study = {  # SYNTHETIC
        "protocolSection": {
            "identificationModule": {
                "nctId": "NCT01234567",
                "nctIdAliases": ["NCT07654321"],
                "officialTitle": "Only an official title",
                "secondaryIdInfos": [
                    {"id": "ISRCTN12345678", "type": "REGISTRY"},
                    {"id": "2015-001234-56", "type": "OTHER"},
                    {"id": "R01 HL000000", "type": "NIH"},
                    {"type": "OTHER"},
                ],
            },
            "statusModule": {"studyFirstPostDateStruct": {"date": "2019-02-03"}},
            "descriptionModule": {"briefSummary": "Extension of NCT11111111."},
            "designModule": {"enrollmentInfo": {"count": "not a number"}},
            "referencesModule": {
                "references": [
                    {"pmid": "12345678", "type": "RESULT", "retractions": [{"pmid": "999"}]},
                    {"pmid": "23456789"},
                    {"citation": "no pmid here"},
                ]
            },
        },
        "hasResults": False,
    }
    record = parse_study(study)
    assert record.nct_ids == ("NCT01234567", "NCT07654321")
    assert record.nct_ids_in_text == ("NCT11111111",)
    assert record.title == "Only an official title"
    assert record.other_ids == ("ISRCTN12345678", "EudraCT:2015-001234-56", "NIH:R01 HL000000")
    assert record.linked_pmids == ("RESULT:12345678", "UNKNOWN:23456789")
    assert reference_pmids(record) == ("12345678", "23456789")
    assert record.extra["reference_retraction_pmids"] == ["999"]
    assert record.year == 2019  # no start date: first posted
    assert record.trial.enrollment is None
    assert record.extra["has_results_reported"] is True


def test_parse_minimal_and_invalid_studies():
    bare = parse_study({"protocolSection": {"identificationModule": {"nctId": "nct00000001"}}})
    assert bare.record_id == "ctgov:NCT00000001" and bare.title == "" and bare.year is None
    assert parse_study(minimal_study("NCT00000002"), source="ctgov_test").record_id == (
        "ctgov_test:NCT00000002"
    )
    for bad in ({}, {"protocolSection": None}, {"protocolSection": {"identificationModule": {}}}):
        with pytest.raises(ValueError, match="nctId"):
            parse_study(bad)


def test_format_secondary_id():
    assert format_secondary_id({"id": "2014-005181-30", "type": "EUDRACT_NUMBER"}) == (
        "EudraCT:2014-005181-30"
    )
    assert format_secondary_id({"id": "ABCSG 42", "type": "OTHER"}) == "Other:ABCSG 42"
    assert format_secondary_id({"id": " "}) is None


@pytest.mark.parametrize("body", [b"{not json", b"[]", b'{"totalCount": 3}', b'{"studies": {}}'])
def test_parse_page_rejects_malformed(body):
    with pytest.raises(SourceError):
        parse_page(body)


def test_last_update_filter():
    assert last_update_filter(date(2024, 1, 2)) == "AREA[LastUpdatePostDate]RANGE[2024-01-02,MAX]"
    assert last_update_filter(until=date(2024, 1, 2)) == (
        "AREA[LastUpdatePostDate]RANGE[MIN,2024-01-02]"
    )
    assert last_update_filter(date(2024, 1, 1), date(2024, 2, 1)) == (
        "AREA[LastUpdatePostDate]RANGE[2024-01-01,2024-02-01]"
    )
    assert last_update_filter() is None
    with pytest.raises(ValueError):
        last_update_filter(date(2024, 2, 1), date(2024, 1, 1))


# -- client: paging through the fake server ----------------------------------------------


def test_search_follows_recorded_tokens_and_checks_total(server, fixtures_dir):
    page1 = (fixtures_dir / PAGE1).read_bytes()
    page2 = (fixtures_dir / PAGE2).read_bytes()
    last = {"studies": synthetic_studies(11)}  # SYNTHETIC terminal page: 5 + 5 + 11 = 21
    server.route("/studies", CtgovPages([page1, page2, last]))
    result = make_client(server).search(
        cond="Phelan-McDermid syndrome", intr="oxytocin", term="child", since=date(2024, 1, 1)
    )
    assert result.total_count == 21
    assert result.studies_seen == 21 and len(result.records) == 21
    assert result.nct_ids[:2] == ("NCT02710084", "NCT05105685")
    assert result.nct_ids[5] == "NCT05187377"
    assert [p.content for p in result.pages[:2]] == [page1, page2]
    assert [p.n_studies for p in result.pages] == [5, 5, 11]

    sent = server.requests_to("/studies")
    assert len(sent) == 3
    first, second, third = (r.params for r in sent)
    assert first["countTotal"] == "true" and "pageToken" not in first
    assert second["pageToken"] == json.loads(page1)["nextPageToken"]
    assert third["pageToken"] == json.loads(page2)["nextPageToken"]
    assert "countTotal" not in second and "countTotal" not in third
    expected_common = {
        "format": "json",
        "query.cond": "Phelan-McDermid syndrome",
        "query.intr": "oxytocin",
        "query.term": "child",
        "filter.advanced": "AREA[LastUpdatePostDate]RANGE[2024-01-01,MAX]",
        "pageSize": "1000",
    }
    for params in (first, second, third):
        common = {k: v for k, v in params.items() if k not in ("countTotal", "pageToken")}
        assert common == expected_common
    assert result.to_dict()["requests"][1]["params"][-1] == [
        "pageToken",
        json.loads(page1)["nextPageToken"],
    ]


def test_search_count_mismatch_raises(server, fixtures_dir):
    pages = [(fixtures_dir / PAGE1).read_bytes(), (fixtures_dir / PAGE2).read_bytes()]
    server.route("/studies", CtgovPages([*pages, {"studies": synthetic_studies(5)}]))
    with pytest.raises(SourceError, match="collected 15 studies but totalCount is 21"):
        make_client(server).search(cond="Phelan-McDermid syndrome")


def test_search_single_recorded_page(server, fixtures_dir):
    server.route("/studies", CtgovPages([(fixtures_dir / SINGLE).read_bytes()]))
    result = make_client(server).search(term="EGFR L858R")
    assert result.total_count == 2
    assert result.nct_ids == ("NCT06382129", "NCT06604689")
    assert len(server.requests_to("/studies")) == 1


def test_empty_middle_page_is_not_the_end(server):
    a, b, c = synthetic_studies(3)
    server.route("/studies", CtgovPages(chain_pages([[a, b], [], [c]])))
    result = make_client(server).search(cond="x")
    assert [p.n_studies for p in result.pages] == [2, 0, 1]
    assert len(result.records) == 3
    assert len(server.requests_to("/studies")) == 3


def test_5xx_on_page_two_is_retried_with_same_token(server):
    sleeps: list[float] = []
    server.route(
        "/studies", CtgovPages(chain_pages([synthetic_studies(2), synthetic_studies(1, 7)]))
    )

    server.add_faults("/studies", Fault.delay(0))  # page 1 normal
    server.add_faults("/studies", Fault.status(503))  # page 2: first attempt fails
    result = make_client(server, sleeps).search(cond="x")
    assert len(result.records) == 3
    tokens = [r.params.get("pageToken") for r in server.requests_to("/studies")]
    assert tokens == [None, "t1", "t1"]
    assert sleeps == [0.01]


def test_malformed_json_page_raises(server):
    server.route(
        "/studies", CtgovPages(chain_pages([synthetic_studies(2), synthetic_studies(1, 7)]))
    )
    server.add_faults("/studies", Fault.passthrough(), Fault.body(b'{"studies": [', status=200))
    with pytest.raises(SourceError, match="malformed JSON"):
        make_client(server).search(cond="x")


def test_truncated_page_is_retried(server, fixtures_dir):
    server.route("/studies", CtgovPages([(fixtures_dir / SINGLE).read_bytes()]))
    server.add_faults("/studies", Fault.truncate())
    result = make_client(server).search(cond="x")
    assert result.nct_ids == ("NCT06382129", "NCT06604689")
    assert len(server.requests_to("/studies")) == 2


def test_missing_total_count_raises(server):
    server.route("/studies", lambda req: Reply.json({"studies": synthetic_studies(1)}))
    with pytest.raises(SourceError, match="totalCount"):
        make_client(server).search(cond="x")


def test_duplicate_study_across_pages_raises(server):
    (a,) = synthetic_studies(1)
    server.route("/studies", CtgovPages(chain_pages([[a], [a]], total=2)))
    with pytest.raises(SourceError, match="returned twice"):
        make_client(server).search(cond="x")


def test_repeated_token_raises(server):
    def loop(req: RecordedRequest) -> Reply:
        page = {"studies": [], "nextPageToken": "same"}
        if "pageToken" not in req.params:
            page["totalCount"] = 0
        return Reply.json(page)

    server.route("/studies", loop)
    with pytest.raises(SourceError, match="repeated"):
        make_client(server).search(cond="x")
    assert len(server.requests_to("/studies")) == 2


def test_fields_and_page_size_and_no_secret_params(server, fixtures_dir):
    server.route("/studies", CtgovPages([(fixtures_dir / SINGLE).read_bytes()]))
    make_client(server).search(
        term="x",
        until=date(2024, 6, 30),
        advanced="AREA[StudyType]INTERVENTIONAL",
        fields=["NCTId", "LastUpdatePostDate"],
        page_size=50,
    )
    (sent,) = server.requests_to("/studies")
    assert sent.params["fields"] == "NCTId|LastUpdatePostDate"
    assert sent.params["pageSize"] == "50"
    assert sent.params["filter.advanced"] == (
        "(AREA[LastUpdatePostDate]RANGE[MIN,2024-06-30]) AND (AREA[StudyType]INTERVENTIONAL)"
    )
    assert "api_key" not in sent.everything()
    with pytest.raises(ValueError):
        make_client(server).search(term="x", page_size=1001)


# -- /version and /studies/{id} ------------------------------------------------------------


def test_version(server, fixtures_dir):
    server.route("/version", lambda req: Reply.json((fixtures_dir / VERSION).read_bytes()))
    version = make_client(server).version()
    assert version.data_timestamp == "2026-09-04T09:00:06"
    assert version.api_version == "2.0.5"


@pytest.mark.parametrize("body", [b"not json", b'{"apiVersion": "2.0.5"}'])
def test_version_malformed(server, body):
    server.route("/version", lambda req: Reply.json(body))
    with pytest.raises(SourceError):
        make_client(server).version()


def test_fetch_study_and_env_override(server, fixtures_dir, monkeypatch):
    raw = gzip.decompress((fixtures_dir / FULL).read_bytes())
    server.route("/studies/NCT02513394", lambda req: Reply.json(raw))
    monkeypatch.setenv("LIVINGMETA_CTGOV_URL", server.url.rstrip("/"))
    client = CtgovClient(rate_per_second=1000.0, retry=RetryPolicy(max_attempts=1))
    assert client.base_url == server.url
    record, content = client.fetch_study("nct02513394")
    assert record.trial.has_results is True
    assert content == raw
    with pytest.raises(SourceError, match="404"):
        client.fetch_study("NCT00000000")


@pytest.mark.parametrize("path", ["/studies", "/version"])
def test_json_nested_thousands_deep_is_this_sources_failure(server, path):
    bomb = b'{"studies": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    server.add_faults(path, Fault.body(bomb, content_type="application/json"))
    client = make_client(server)
    with pytest.raises(SourceError, match="nested too deeply"):
        client.search(cond="x") if path == "/studies" else client.version()
