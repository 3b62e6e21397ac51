"""PubMed E-utilities client: ESearch parsing, window splitting, EFetch batches, secrets."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import date, timedelta

import pytest

from livingmeta.retrieval import eutils
from livingmeta.retrieval.eutils import (
    ESEARCH_CAP,
    EutilsClient,
    EutilsConfig,
    crdt_term,
    parse_esearch,
)
from livingmeta.retrieval.http import (
    REDACTED,
    HttpTransport,
    RateLimiter,
    RetryPolicy,
    SourceError,
)
from livingmeta.retrieval.records import Record
from tests.fakeserver import (
    FakeServer,
    Fault,
    PubmedCorpus,
    RecordedRequest,
    Reply,
    esearch_xml,
    pubmed_article,
)

SECRET = "ncbi-KEY-feedface0123"
QUERY = 'atrial fibrillation AND "randomized controlled trial"[pt]'


@pytest.fixture
def server():
    with FakeServer() as fake:
        yield fake


def simple_parser(content: bytes) -> list[Record]:
    """Stand-in EFetch parser so batching tests do not depend on pubmed_xml's details."""
    try:
        root = ET.fromstring(content)
    except ET.ParseError as exc:
        raise ValueError(str(exc)) from exc
    out = []
    for pmid in root.iterfind("PubmedArticle/MedlineCitation/PMID"):
        out.append(
            Record(record_id=f"pubmed:{pmid.text}", source="pubmed", title="", pmid=pmid.text)
        )
    return out


def make_client(
    server: FakeServer, sleeps: list[float] | None = None, *, api_key: str | None = SECRET, **kw
) -> EutilsClient:
    config = EutilsConfig(base_url=server.url, email="dev@example.org", api_key=api_key)
    transport = HttpTransport(
        "pubmed",
        timeout=(1.0, 2.0),
        retry=RetryPolicy(max_attempts=3, initial=0.01, maximum=0.02, jitter=0.0),
        rate_limiter=RateLimiter(1e6, sleep=lambda s: None),
        sleep=(sleeps if sleeps is not None else []).append,
    )
    return EutilsClient(config, transport=transport, **kw)


def spread(n: int, start: date, days: int, first_pmid: int = 30_000_000) -> dict[str, date]:
    """``n`` synthetic PMIDs spread evenly over ``days`` days from ``start``."""
    return {str(first_pmid + i): start + timedelta(days=i % days) for i in range(n)}


# -- ESearch parsing (recorded fixtures) ----------------------------------------------------


def test_parse_esearch_usehistory_fixture(fixtures_dir):
    content = (fixtures_dir / "pubmed/esearch_pubmed_cancer_reldate60_usehistory.xml").read_bytes()
    page = parse_esearch(content, term="cancer")
    assert page.count == 42249
    assert len(page.ids) == 100
    assert page.ids[0] == "41297076" and page.ids[-1] == "41296368"
    assert page.query_key == "1"
    assert page.webenv == "MCID_6927d6e7fee3e90f880ec190"
    assert '"neoplasms"[MeSH Terms]' in page.query_translation
    assert page.query_translation.endswith("AND 2025/09/27:2025/11/26[Date - Entry]")
    assert page.to_dict()["count"] == 42249


def test_parse_esearch_errorlist_fixture_raises(fixtures_dir):
    content = (fixtures_dir / "pubmed/esearch_protein_no_results_errorlist.xml").read_bytes()
    with pytest.raises(SourceError, match=r"PhraseNotFound.*abcXYZ") as info:
        parse_esearch(content, term="abcXYZ")
    assert info.value.source == "pubmed"


def test_parse_esearch_warnings_without_errors_are_kept():
    content = esearch_xml(0, [], warnings={"OutputMessage": ["No items found."]})
    page = parse_esearch(content)
    assert page.count == 0 and page.ids == ()
    assert page.warnings == {"OutputMessage": ["No items found."]}


@pytest.mark.parametrize(
    "content",
    [
        esearch_xml(3, ["1", "2", "3"])[:-40],  # truncated
        b"<html><body>Service unavailable</body></html>",  # not E-utilities at all
        esearch_xml(1, ["1"]).replace(b"<Count>1</Count>", b"<ERROR>Empty term</ERROR>"),
    ],
    ids=["truncated", "html", "error-element"],
)
def test_parse_esearch_bad_documents_raise(content):
    with pytest.raises(SourceError):
        parse_esearch(content)


def test_crdt_term_format_and_order_check():
    assert (
        crdt_term("a OR b", date(2024, 1, 2), date(2024, 2, 29))
        == "(a OR b) AND 2024/01/02:2024/02/29[crdt]"
    )
    with pytest.raises(ValueError):
        crdt_term("a", date(2024, 2, 1), date(2024, 1, 1))


# -- configuration ------------------------------------------------------------------------


def test_config_from_env_reads_url_key_and_email():
    env = {
        "LIVINGMETA_EUTILS_URL": "http://127.0.0.1:9/eutils",
        "MY_KEY": SECRET,
        "LIVINGMETA_NCBI_EMAIL": "me@example.org",
    }
    config = EutilsConfig.from_env(api_key_env="MY_KEY", environ=env)
    assert config.base_url == "http://127.0.0.1:9/eutils/"
    assert config.api_key == SECRET
    assert config.email == "me@example.org"
    assert config.tool == "livingmeta"
    assert config.rate_per_second == 10.0
    assert SECRET not in repr(config)
    keyless = EutilsConfig.from_env(environ={})
    assert keyless.base_url == eutils.DEFAULT_EUTILS_URL
    assert keyless.api_key is None and keyless.rate_per_second == 3.0


def test_env_url_override_reaches_fake_server(server, monkeypatch):
    PubmedCorpus({"111": date(2024, 1, 1)}).install(server)
    monkeypatch.setenv("LIVINGMETA_EUTILS_URL", server.url)
    monkeypatch.delenv("NCBI_API_KEY", raising=False)
    client = EutilsClient()
    result = client.search_window("x", date(2024, 1, 1), date(2024, 1, 1))
    assert result.pmids == ("111",)
    assert client.transport.rate_limiter.default_rate == 3.0


# -- search_window ----------------------------------------------------------------------------


def test_small_window_is_one_request_with_ncbi_etiquette(server):
    corpus = PubmedCorpus({"35000001": date(2024, 3, 1), "35000002": date(2024, 3, 5)})
    corpus.install(server)
    result = make_client(server).search_window(QUERY, date(2024, 3, 1), date(2024, 3, 31))
    assert result.pmids == ("35000001", "35000002")
    assert result.count == 2
    assert result.term == f"({QUERY}) AND 2024/03/01:2024/03/31[crdt]"
    assert result.query_translation == result.term  # the fake echoes the term
    (sent,) = server.requests_to("/esearch.fcgi")
    assert sent.params["db"] == "pubmed"
    assert sent.params["term"] == result.term
    assert sent.params["retmax"] == str(ESEARCH_CAP)
    assert sent.params["tool"] == "livingmeta"
    assert sent.params["email"] == "dev@example.org"
    assert sent.params["api_key"] == SECRET  # sent to NCBI ...
    snapshot = repr(result.to_dict())  # ... but never stored
    assert SECRET not in snapshot
    assert result.requests[0]["params"][-1] == ["api_key", REDACTED]


def test_window_over_cap_is_split_by_dates_and_complete(server):
    crdt = spread(25_000, date(2024, 1, 1), days=31)
    PubmedCorpus(crdt).install(server)
    result = make_client(server).search_window(QUERY, date(2024, 1, 1), date(2024, 1, 31))
    assert result.count == 25_000
    assert set(result.pmids) == set(crdt)
    assert len(result.pmids) == 25_000
    assert list(result.pmids) == sorted(result.pmids, key=int)
    assert len(result.pieces) >= 3
    assert all(p.count <= ESEARCH_CAP for p in result.pieces)
    assert sum(p.count for p in result.pieces) == 25_000
    terms = [s.params["term"] for s in server.requests_to("/esearch.fcgi")]
    assert terms[0] == f"({QUERY}) AND 2024/01/01:2024/01/31[crdt]"
    assert f"({QUERY}) AND 2024/01/01:2024/01/16[crdt]" in terms
    assert f"({QUERY}) AND 2024/01/17:2024/01/31[crdt]" in terms
    assert not any("[uid]" in t for t in terms)
    # the date pieces tile the window without gaps or overlaps
    windows = sorted(
        tuple(re.search(r"(\S+):(\S+)\[crdt\]", p.term).groups()) for p in result.pieces
    )
    assert windows[0][0] == "2024/01/01" and windows[-1][1] == "2024/01/31"


def test_single_day_over_cap_is_split_by_pmid_range(server):
    day = date(2024, 5, 5)
    crdt = {str(38_000_000 + 3 * i): day for i in range(12_000)}
    crdt["38100000"] = day + timedelta(days=1)  # outside the window
    PubmedCorpus(crdt).install(server)
    result = make_client(server).search_window(QUERY, day, day)
    assert result.count == 12_000
    assert set(result.pmids) == {p for p, d in crdt.items() if d == day}
    uid_terms = [p.term for p in result.pieces if "[uid]" in p.term]
    assert uid_terms and len(uid_terms) == len(result.pieces)
    assert all(p.count <= ESEARCH_CAP for p in result.pieces)


def test_counts_that_do_not_add_up_raise(server):
    def esearch(req: RecordedRequest) -> Reply:
        term = req.params["term"]
        if term.endswith("2024/01/31[crdt]") and "2024/01/01:" in term:
            return Reply.xml(esearch_xml(20_000, ["1"]))  # whole window
        return Reply.xml(esearch_xml(5, [str(i) for i in range(5)]))  # halves: 5 + 5 != 20000

    server.route("/esearch.fcgi", esearch)
    with pytest.raises(SourceError, match="inconsistent"):
        make_client(server).search_window(QUERY, date(2024, 1, 1), date(2024, 1, 31))


def test_leaf_returning_fewer_ids_than_count_raises(server):
    server.route("/esearch.fcgi", lambda req: Reply.xml(esearch_xml(3, ["1", "2"])))
    with pytest.raises(SourceError, match="Count 3 but returned 2"):
        make_client(server).search_window(QUERY, date(2024, 1, 1), date(2024, 1, 2))


def test_errorlist_from_server_raises(server, fixtures_dir):
    content = (fixtures_dir / "pubmed/esearch_protein_no_results_errorlist.xml").read_bytes()
    server.route("/esearch.fcgi", lambda req: Reply.xml(content))
    with pytest.raises(SourceError, match="ErrorList"):
        make_client(server).search_window("abcXYZ", date(2024, 1, 1), date(2024, 1, 2))


def test_max_requests_bound(server):
    PubmedCorpus(spread(25_000, date(2024, 1, 1), days=31)).install(server)
    with pytest.raises(SourceError, match="more than 2 searches"):
        make_client(server, max_requests=2).search_window(
            QUERY, date(2024, 1, 1), date(2024, 1, 31)
        )


def test_esearch_429_retry_after_then_success(server):
    sleeps: list[float] = []
    PubmedCorpus({"1": date(2024, 1, 1)}).install(server)
    server.add_faults("/esearch.fcgi", Fault.status(429, retry_after="2"))
    result = make_client(server, sleeps).search_window(QUERY, date(2024, 1, 1), date(2024, 1, 1))
    assert result.pmids == ("1",)
    assert sleeps == [2.0]
    assert len(server.requests_to("/esearch.fcgi")) == 2


def test_esearch_failure_message_has_no_key(server):
    server.add_faults("/esearch.fcgi", *[Fault.status(503)] * 3)
    with pytest.raises(SourceError) as info:
        make_client(server).search_window(QUERY, date(2024, 1, 1), date(2024, 1, 1))
    assert SECRET not in str(info.value)
    assert REDACTED in str(info.value)


def test_esearch_usehistory_parameter(server):
    def esearch(req: RecordedRequest) -> Reply:
        assert req.params["usehistory"] == "y"
        return Reply.xml(esearch_xml(1, ["9"], query_key="1", webenv="MCID_x"))

    server.route("/esearch.fcgi", esearch)
    page = make_client(server).esearch("x", usehistory=True)
    assert (page.query_key, page.webenv, page.ids) == ("1", "MCID_x", ("9",))


# -- EFetch --------------------------------------------------------------------------------


def test_efetch_posts_batches_of_200_and_keeps_raw_bytes(server):
    pmids = [str(20_000_000 + i) for i in range(450)]
    PubmedCorpus({}, {p: pubmed_article(p) for p in pmids}).install(server)
    result = make_client(server, parser=simple_parser).efetch([*pmids, pmids[0]])
    sent = server.requests_to("/efetch.fcgi")
    assert [r.method for r in sent] == ["POST"] * 3
    assert [len(r.params["id"].split(",")) for r in sent] == [200, 200, 50]
    assert all(r.params["retmode"] == "xml" and r.params["db"] == "pubmed" for r in sent)
    assert all("id=" not in r.raw_target and SECRET not in r.raw_target for r in sent)
    assert sent[0].form["api_key"] == [SECRET]
    assert [r.pmid for r in result.records] == pmids
    assert result.missing == () and result.requested == tuple(pmids)
    assert [b.pmids for b in result.batches][2] == tuple(pmids[400:])
    assert result.batches[0].content.startswith(b'<?xml version="1.0" ?>\n<PubmedArticleSet>')
    assert SECRET not in repr([b.request for b in result.batches])


def test_efetch_missing_pmid_fails_by_default_and_is_reported_on_request(server):
    PubmedCorpus({}, {"11": pubmed_article("11")}).install(server)
    client = make_client(server, parser=simple_parser)
    with pytest.raises(SourceError, match="did not return 1 of 2 PMIDs: 22"):
        client.efetch(["11", "22"])
    result = client.efetch(["11", "22"], allow_missing=True)
    assert result.missing == ("22",)
    assert [r.pmid for r in result.records] == ["11"]


def test_efetch_malformed_xml_raises(server):
    PubmedCorpus({}, {"11": pubmed_article("11")}).install(server)
    server.add_faults(
        "/efetch.fcgi", Fault.body(b"<PubmedArticleSet><PubmedArticle>", content_type="text/xml")
    )
    with pytest.raises(SourceError, match="unparseable EFetch XML"):
        make_client(server, parser=simple_parser).efetch(["11"])


def test_efetch_truncated_body_is_retried(server):
    PubmedCorpus({}, {"11": pubmed_article("11")}).install(server)
    server.add_faults("/efetch.fcgi", Fault.truncate())
    result = make_client(server, parser=simple_parser).efetch(["11"])
    assert [r.pmid for r in result.records] == ["11"]
    assert len(server.requests_to("/efetch.fcgi")) == 2


def test_efetch_rejects_non_pmids(server):
    with pytest.raises(SourceError, match="not PMIDs"):
        make_client(server, parser=simple_parser).efetch(["123", "NCT01234567"])


def test_efetch_with_real_parser_on_recorded_fixture(server, fixtures_dir):
    pytest.importorskip("livingmeta.retrieval.pubmed_xml")
    content = fixtures_dir / "pubmed/efetch_pubmed_22663011_rct_nct_databank_structured.xml"
    server.route("/efetch.fcgi", lambda req: Reply.xml(content.read_bytes()))
    result = make_client(server).efetch(["22663011"])  # default parser, imported lazily
    (record,) = result.records
    assert record.record_id == "pubmed:22663011"
    assert "NCT01245062" in record.nct_ids
    assert result.batches[0].content == content.read_bytes()


def test_efetch_records_not_asked_for_are_refused_and_reported(server):
    articles = {p: pubmed_article(p) for p in ("11", "99")}
    server.route(
        "/efetch.fcgi",
        lambda req: Reply.xml(
            b"<PubmedArticleSet>" + articles["11"] + articles["99"] + b"</PubmedArticleSet>"
        ),
    )
    result = make_client(server, parser=simple_parser).efetch(["11"])
    assert [r.pmid for r in result.records] == ["11"]
    assert result.unexpected == ("99",)
