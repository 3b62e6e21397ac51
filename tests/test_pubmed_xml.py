"""Tests for the streaming PubMed EFetch XML parser.

Real recorded responses are read in place from the shared fixtures folder (``fixtures_dir``);
everything written inline in this file is SYNTHETIC and labelled as such, for the cases no
public recording covers (MedlineDate, retractions, expressions of concern, errors).
"""

from __future__ import annotations

import gzip
import io
import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from livingmeta.retrieval.pubmed_prefilter import SkippingReader
from livingmeta.retrieval.pubmed_xml import (
    PubmedParseError,
    iter_pubmed_records,
    parse_medline_date,
    parse_pubmed_xml,
)
from livingmeta.retrieval.records import Record

HEADER = (
    b'<?xml version="1.0" ?>\n'
    b'<!DOCTYPE PubmedArticleSet PUBLIC "-//NLM//DTD PubMedArticle, 1st January 2025//EN" '
    b'"https://dtd.nlm.nih.gov/ncbi/pubmed/out/pubmed_250101.dtd">\n'
)


INLINE_TAG = re.compile(r"</?(?:i|b|u|sup|sub|mml:\w+)>")


def synthetic_article(
    pmid: str = "90000001",
    *,
    pub_date: str = "<Year>2020</Year><Month>Mar</Month><Day>5</Day>",
    title: str = "A synthetic trial.",
    abstract: str = "<AbstractText>Synthetic abstract.</AbstractText>",
    authors: str = (
        "<Author ValidYN='Y'><LastName>Doe</LastName><ForeName>Jane A</ForeName>"
        "<Initials>JA</Initials></Author>"
    ),
    pub_types: tuple[str, ...] = ("Journal Article",),
    comments: str = "",
    article_extra: str = "",
    pubmed_data: str = "",
) -> bytes:
    """SYNTHETIC PubmedArticle in the pubmed_250101 DTD shape."""
    types = "".join(f"<PublicationType UI='D0'>{t}</PublicationType>" for t in pub_types)
    cc = f"<CommentsCorrectionsList>{comments}</CommentsCorrectionsList>" if comments else ""
    return (
        f"<PubmedArticle><MedlineCitation Status='MEDLINE' Owner='NLM'>"
        f"<PMID Version='1'>{pmid}</PMID><Article PubModel='Print'>"
        f"<Journal><JournalIssue CitedMedium='Print'><Volume>1</Volume>"
        f"<PubDate>{pub_date}</PubDate></JournalIssue>"
        f"<Title>Journal of Synthetic Data</Title><ISOAbbreviation>J Synth Data</ISOAbbreviation>"
        f"</Journal><ArticleTitle>{title}</ArticleTitle>"
        f"<Abstract>{abstract}</Abstract>"
        f"<AuthorList CompleteYN='Y'>{authors}</AuthorList>"
        f"<PublicationTypeList>{types}</PublicationTypeList>{article_extra}</Article>{cc}"
        f"</MedlineCitation><PubmedData>{pubmed_data}<ArticleIdList>"
        f"<ArticleId IdType='pubmed'>{pmid}</ArticleId></ArticleIdList></PubmedData>"
        f"</PubmedArticle>"
    ).encode()


def synthetic_set(*articles: bytes) -> bytes:
    """SYNTHETIC PubmedArticleSet document around the given articles."""
    return HEADER + b"<PubmedArticleSet>\n" + b"\n".join(articles) + b"\n</PubmedArticleSet>\n"


def efetch_files(fixtures_dir: Path) -> list[Path]:
    files = sorted((fixtures_dir / "pubmed").glob("efetch_*.xml"))
    files += sorted((fixtures_dir / "pubmed_corpus").glob("*.xml"))
    assert len(files) >= 170, "shared fixtures look incomplete"
    return files


def one(path: Path) -> Record:
    records = parse_pubmed_xml(path)
    assert len(records) == 1
    return records[0]


# --------------------------------------------------------------------------- whole corpus


def test_every_recorded_efetch_response_parses_completely(fixtures_dir: Path) -> None:
    """All 174 real EFetch files: one Record per PubmedArticle, with the basics filled in."""
    total = with_authors = 0
    for path in efetch_files(fixtures_dir):
        data = path.read_bytes()
        expected_pmids = re.findall(
            rb"<PubmedArticle>\s*<MedlineCitation[^>]*>\s*<PMID[^>]*>(\d+)</PMID>", data
        )
        records = parse_pubmed_xml(path)
        assert [r.pmid for r in records] == [p.decode() for p in expected_pmids], path.name
        for record in records:
            assert record.record_id == f"pubmed:{record.pmid}"
            assert record.source == "pubmed"
            assert record.title, path.name
            assert isinstance(record.year, int) and 1900 < record.year < 2100, path.name
            assert record.pub_date and record.pub_date.startswith(str(record.year))
            assert record.publication_types, path.name
            assert not INLINE_TAG.search(record.title + record.abstract), path.name
        with_authors += sum(1 for r in records if r.authors)
        total += len(records)
    assert with_authors >= 165  # a few notices ("Correction.") have no AuthorList
    assert total == 175  # 168 corpus files (one empty, one with two records) + 7 labelled


def test_byte_prefilter_changes_nothing_on_real_files(fixtures_dir: Path) -> None:
    """Skipping ReferenceList as raw bytes must give exactly the records a full parse gives."""
    for path in efetch_files(fixtures_dir):
        fast = parse_pubmed_xml(path)
        full = parse_pubmed_xml(path, skip_unused=False)
        assert fast == full, path.name
        assert [r.extra for r in fast] == [r.extra for r in full], path.name


@pytest.mark.parametrize("chunk_size", [1, 5, 16, 97, 4096])
@pytest.mark.parametrize("name", ["biopython_pubmed7.xml", "24349601.xml"])
def test_prefilter_is_independent_of_chunk_boundaries(
    fixtures_dir: Path, name: str, chunk_size: int
) -> None:
    path = fixtures_dir / "pubmed_corpus" / name  # pretty-printed / one-line, both with refs
    data = path.read_bytes()
    assert b"<ReferenceList>" in data
    reader = SkippingReader(io.BytesIO(data), chunk_size=chunk_size)
    filtered = b"".join(iter(lambda: reader.read(chunk_size), b""))
    assert b"ReferenceList" not in filtered
    assert filtered.count(b"\n") == data.count(b"\n")  # error line numbers stay true
    assert parse_pubmed_xml(filtered, skip_unused=False) == parse_pubmed_xml(path)


# --------------------------------------------------------------------------- labelled fixtures


def test_season_date_and_missing_abstract(fixtures_dir: Path) -> None:
    path = fixtures_dir / "pubmed" / "efetch_pubmed_12091962_9997_season_date_no_abstract.xml"
    spring, dated = parse_pubmed_xml(path)
    assert spring.pmid == "12091962"
    assert spring.year == 1990
    assert spring.pub_date == "1990"  # "Spring": hemisphere-dependent, so year only
    assert spring.extra["pub_date_raw"] == "1990 Spring"
    assert spring.abstract == ""
    assert spring.doi is None
    assert spring.authors == ("Olivero JM",)
    assert spring.journal == "Social justice (San Francisco, Calif.)"
    assert spring.extra["iso_abbreviation"] == "Soc Justice"
    assert spring.publication_types == ("Journal Article", "Review")
    assert dated.pmid == "9997"
    assert dated.pub_date == "1976-09-28"
    assert dated.doi == "10.1016/0005-2795(76)90109-4"
    assert dated.abstract.startswith("Electron paramagnetic resonance and magnetic")


def test_month_range_season_and_five_part_structured_abstract(fixtures_dir: Path) -> None:
    record = one(fixtures_dir / "pubmed" / "efetch_pubmed_23657305_season_range_structured.xml")
    assert record.pub_date == "2013-01"  # Season "Jan-Mar": the issue starts in January
    assert record.year == 2013
    assert record.extra["pub_date_raw"] == "2013 Jan-Mar"
    labels = [line.split(":", 1)[0] for line in record.abstract.split("\n")]
    assert labels == ["CONTEXT", "OBJECTIVES", "METHODS", "RESULTS", "CONCLUSION"]
    assert record.abstract.startswith("CONTEXT: Alcoholic liver disease (ALD) is generally")


def test_structured_abstract_keeps_text_after_inline_markup(fixtures_dir: Path) -> None:
    path = fixtures_dir / "pubmed" / "efetch_pubmed_27797938_structured_abstract_inline_html.xml"
    record = one(path)
    # <i>TERT</i> in the title: .text alone would stop at "... variants at the".
    assert record.title == (
        "Leucocyte telomere length, genetic variants at the TERT gene region "
        "and risk of pancreatic cancer."
    )
    lines = record.abstract.split("\n")
    assert [line.split(":", 1)[0] for line in lines] == [
        "OBJECTIVE",
        "DESIGN",
        "RESULTS",
        "CONCLUSIONS",
    ]
    assert "reverse transcriptase (TERT) gene region have been associated" in lines[0]
    assert "95% CI 1.07 to 2.78; ptrend=0.048)" in lines[2]  # p<sub>trend</sub>
    assert lines[3] == (
        "CONCLUSIONS: Prediagnostic leucocyte telomere length and genetic variants at the "
        "TERT gene region were associated with risk of pancreatic cancer."
    )
    assert record.pmcid == "PMC5442267"
    assert record.pub_date == "2017-06"
    # CommentIn is kept with the rest of CommentsCorrections, in document order.
    assert record.extra["comments_corrections"][0] == (
        "CommentIn",
        "27920200",
        "Gut. 2017 Jun;66(6):1",
    )
    assert record.errata == () and not record.retracted


def test_rct_with_databank_nct_and_doi(fixtures_dir: Path) -> None:
    record = one(fixtures_dir / "pubmed" / "efetch_pubmed_22663011_rct_nct_databank_structured.xml")
    assert record.nct_ids == ("NCT01245062",)
    assert "NCT01245062" in record.abstract
    assert record.nct_ids_in_text == ()  # already a DataBankList id: not repeated as weaker
    assert record.doi == "10.1056/nejmoa1203421"
    assert record.pub_date == "2012-07-12"
    assert "Randomized Controlled Trial" in record.publication_types
    assert record.authors[:2] == ("Flaherty KT", "Robert C")
    assert record.authors[-1] == "METRIC Study Group"  # CollectiveName
    assert record.abstract.split("\n")[0].startswith("BACKGROUND: Activating mutations")
    assert record.extra["entrez_date"] == "2012-06-06"


def test_doi_falls_back_to_elocationid(fixtures_dir: Path) -> None:
    """Derived from a real record: its ArticleIdList DOI removed, ELocationID kept."""
    data = (
        fixtures_dir / "pubmed" / "efetch_pubmed_22663011_rct_nct_databank_structured.xml"
    ).read_bytes()
    article_id = b'<ArticleId IdType="doi">10.1056/NEJMoa1203421</ArticleId>'
    assert article_id in data
    (record,) = parse_pubmed_xml(data.replace(article_id, b""))
    assert record.doi == "10.1056/nejmoa1203421"


def test_erratum_in(fixtures_dir: Path) -> None:
    record = one(fixtures_dir / "pubmed" / "efetch_pubmed_35649368_erratum_in.xml")
    assert record.errata == ("35767954",)
    assert record.extra["comments_corrections"] == [
        (
            "ErratumIn",
            "35767954",
            "Cell Rep. 2022 Jun 28;39(13):111044. doi: 10.1016/j.celrep.2022.111044.",
        )
    ]
    assert not record.retracted and record.retraction_notices == ()
    assert "fatty acid \u03b2-oxidation (FAO)" in record.abstract  # &#x3b2; decoded
    assert "Copyright" not in record.abstract


def test_published_erratum_for(fixtures_dir: Path) -> None:
    record = one(fixtures_dir / "pubmed" / "efetch_pubmed_38833988_published_erratum_for.xml")
    assert record.publication_types == ("Published Erratum",)
    assert record.abstract == ""
    assert record.errata == ()  # ErratumFor points the other way
    assert record.extra["comments_corrections"][0][:2] == ("ErratumFor", "33279609")
    assert record.pub_date == "2024-08"
    assert record.authors[0] == "Pascucci FA"


def test_empty_article_set_yields_nothing(fixtures_dir: Path) -> None:
    assert parse_pubmed_xml(fixtures_dir / "pubmed_corpus" / "37909814.xml") == []


def test_other_efetch_kinds_are_rejected(fixtures_dir: Path) -> None:
    path = fixtures_dir / "pubmed" / "esearch_pubmed_cancer_reldate60_usehistory.xml"
    with pytest.raises(PubmedParseError, match=r"expected a <PubmedArticleSet>.*eSearchResult"):
        parse_pubmed_xml(path)


def test_inputs_as_bytes_stream_and_gzip(fixtures_dir: Path, tmp_path: Path) -> None:
    path = fixtures_dir / "pubmed" / "efetch_pubmed_35649368_erratum_in.xml"
    expected = parse_pubmed_xml(path)
    data = path.read_bytes()
    assert parse_pubmed_xml(data) == expected
    assert parse_pubmed_xml(io.BytesIO(data)) == expected
    assert parse_pubmed_xml(str(path)) == expected
    gz = tmp_path / "batch.xml.gz"  # a temporary compressed copy, outside the repository
    gz.write_bytes(gzip.compress(data))
    assert parse_pubmed_xml(gz) == expected
    assert parse_pubmed_xml(path, record_source="pubmed-watchlist")[0].source == (
        "pubmed-watchlist"
    )


def test_iterator_streams_instead_of_reading_everything() -> None:
    # SYNTHETIC: ~6 MB of articles; the first record must arrive after reading only a part.
    padding = "<ReferenceList>" + "<Reference><Citation>x</Citation></Reference>" * 200
    doc = synthetic_set(
        *(synthetic_article(str(i), pubmed_data=padding + "</ReferenceList>") for i in range(600))
    )
    assert len(doc) > 5_000_000

    class CountingReader(io.BytesIO):
        bytes_read = 0

        def read(self, size: int | None = -1) -> bytes:
            data = super().read(size)
            self.bytes_read += len(data)
            return data

    for skip_unused in (True, False):
        handle = CountingReader(doc)
        iterator = iter_pubmed_records(handle, skip_unused=skip_unused)
        assert next(iterator).pmid == "0"
        assert handle.bytes_read < len(doc) / 2
        assert sum(1 for _ in iterator) == 599


# --------------------------------------------------------------------------- dates


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1998 Dec-1999 Jan", ("1998-12", 1998)),
        ("2000 Spring", ("2000", 2000)),
        ("2000 Jan-Feb", ("2000-01", 2000)),
        ("2001 Dec 23-30", ("2001-12-23", 2001)),
        ("2012 Jul 12", ("2012-07-12", 2012)),
        ("1999-2000", ("1999", 1999)),
        ("Fall 1997", ("1997", 1997)),
        ("", (None, None)),
        ("undated", (None, None)),
    ],
)
def test_parse_medline_date(text: str, expected: tuple[str | None, int | None]) -> None:
    assert parse_medline_date(text) == expected


@pytest.mark.parametrize(
    ("pub_date", "iso", "year"),
    [
        # SYNTHETIC PubDate variants allowed by the DTD
        ("<MedlineDate>1998 Dec-1999 Jan</MedlineDate>", "1998-12", 1998),
        ("<MedlineDate>2000 Spring</MedlineDate>", "2000", 2000),
        ("<Year>2019</Year><Month>06</Month>", "2019-06", 2019),
        ("<Year>2019</Year><Month>Sept</Month><Day>31</Day>", "2019-09", 2019),  # no 31 Sep
        ("<Year>2020</Year><Month>2</Month><Day>29</Day>", "2020-02-29", 2020),
        ("<Year>2019</Year><Season>Winter-Spring</Season>", "2019", 2019),
        ("<Year>2019</Year><Season>Jul-Aug</Season>", "2019-07", 2019),
        ("<Year>2019</Year>", "2019", 2019),
    ],
)
def test_pub_date_forms(pub_date: str, iso: str, year: int) -> None:
    (record,) = parse_pubmed_xml(synthetic_set(synthetic_article(pub_date=pub_date)))
    assert (record.pub_date, record.year) == (iso, year)


def test_pub_date_without_year_falls_back_to_article_date_then_history() -> None:
    # SYNTHETIC: an unparseable MedlineDate
    with_article_date = synthetic_article(
        pub_date="<MedlineDate>n.d.</MedlineDate>",
        article_extra=(
            "<ArticleDate DateType='Electronic'><Year>2021</Year><Month>02</Month>"
            "<Day>03</Day></ArticleDate>"
        ),
    )
    history_only = synthetic_article(
        "90000002",
        pub_date="<MedlineDate>n.d.</MedlineDate>",
        pubmed_data=(
            "<History><PubMedPubDate PubStatus='entrez'><Year>2022</Year><Month>5</Month>"
            "<Day>6</Day></PubMedPubDate></History>"
        ),
    )
    first, second = parse_pubmed_xml(synthetic_set(with_article_date, history_only))
    assert (first.pub_date, first.year) == ("2021-02-03", 2021)
    assert first.extra["pub_date_raw"] == "n.d."
    assert (second.pub_date, second.year) == ("2022-05-06", 2022)
    assert second.extra["entrez_date"] == "2022-05-06"


# --------------------------------------------------------------------------- notices


def test_retraction_in_and_retracted_publication_type() -> None:
    # SYNTHETIC: no public recorded retraction was found (PROVENANCE "gaps")
    retracted = synthetic_article(
        "90000010",
        pub_types=("Journal Article", "Retracted Publication"),
        comments=(
            "<CommentsCorrections RefType='RetractionIn'><RefSource>J Synth Data. "
            "2024;2:1</RefSource><PMID Version='1'>90000011</PMID></CommentsCorrections>"
            "<CommentsCorrections RefType='Cites'><RefSource>Other. 2001;1:1</RefSource>"
            "<PMID Version='1'>11111111</PMID></CommentsCorrections>"
        ),
    )
    type_only = synthetic_article("90000012", pub_types=("Retracted Publication",))
    notice_only = synthetic_article(
        "90000013",
        comments=(
            "<CommentsCorrections RefType='RetractionIn'>"
            "<RefSource>J Synth Data. 2025;3:2</RefSource></CommentsCorrections>"
        ),
    )
    first, second, third = parse_pubmed_xml(synthetic_set(retracted, type_only, notice_only))
    assert first.retracted and first.retraction_notices == ("90000011",)
    assert first.extra["comments_corrections"] == [
        ("RetractionIn", "90000011", "J Synth Data. 2024;2:1"),
        ("Cites", "11111111", "Other. 2001;1:1"),
    ]
    assert second.retracted and second.retraction_notices == ()
    assert third.retracted and third.retraction_notices == ()  # notice without a PMID


def test_expression_of_concern_and_erratum() -> None:
    # SYNTHETIC
    article = synthetic_article(
        comments=(
            "<CommentsCorrections RefType='ExpressionOfConcernIn'><RefSource>J Synth Data. "
            "2023;1:9</RefSource><PMID Version='1'>90000021</PMID></CommentsCorrections>"
            "<CommentsCorrections RefType='ErratumIn'><RefSource>x</RefSource>"
            "<PMID Version='1'>90000022</PMID></CommentsCorrections>"
            "<CommentsCorrections RefType='ErratumIn'><RefSource>y</RefSource>"
            "<PMID Version='1'>90000023</PMID></CommentsCorrections>"
        )
    )
    (record,) = parse_pubmed_xml(synthetic_set(article))
    assert record.concerns == ("90000021",)
    assert record.errata == ("90000022", "90000023")
    assert not record.retracted


# --------------------------------------------------------------------------- other fields


def test_collective_name_invalid_authors_and_missing_initials() -> None:
    # SYNTHETIC
    authors = (
        "<Author ValidYN='Y'><LastName>Smith</LastName><ForeName>John Paul</ForeName></Author>"
        "<Author ValidYN='N'><LastName>Smyth</LastName><Initials>J</Initials></Author>"
        "<Author ValidYN='Y'><CollectiveName>The <i>SYNTH</i>   Trial Group</CollectiveName>"
        "</Author>"
        "<Author ValidYN='Y'><LastName>van der Berg</LastName><Initials>A</Initials>"
        "<AffiliationInfo><Affiliation>Somewhere</Affiliation></AffiliationInfo></Author>"
    )
    (record,) = parse_pubmed_xml(synthetic_set(synthetic_article(authors=authors)))
    assert record.authors == ("Smith JP", "The SYNTH Trial Group", "van der Berg A")


def test_registry_ids_and_nct_in_text() -> None:
    # SYNTHETIC DataBankList with three registries and a non-registry databank
    banks = (
        "<DataBankList CompleteYN='Y'>"
        "<DataBank><DataBankName>ClinicalTrials.gov</DataBankName><AccessionNumberList>"
        "<AccessionNumber>NCT00000101</AccessionNumber>"
        "<AccessionNumber>NCT00000102</AccessionNumber></AccessionNumberList></DataBank>"
        "<DataBank><DataBankName>ISRCTN</DataBankName><AccessionNumberList>"
        "<AccessionNumber>ISRCTN12345678</AccessionNumber></AccessionNumberList></DataBank>"
        "<DataBank><DataBankName>EudraCT</DataBankName><AccessionNumberList>"
        "<AccessionNumber>2015-001234-56</AccessionNumber></AccessionNumberList></DataBank>"
        "<DataBank><DataBankName>GENBANK</DataBankName><AccessionNumberList>"
        "<AccessionNumber>AB123456</AccessionNumber></AccessionNumberList></DataBank>"
        "</DataBankList>"
    )
    article = synthetic_article(
        title="Trial NCT00000102 (<i>synthetic</i>)",
        abstract=(
            "<AbstractText Label='BACKGROUND'>See NCT00000103 and NCT00000102.</AbstractText>"
            "<AbstractText Label='UNLABELLED'>Registered as NCT00000104.</AbstractText>"
        ),
        article_extra=banks,
    )
    (record,) = parse_pubmed_xml(synthetic_set(article))
    assert record.nct_ids == ("NCT00000101", "NCT00000102")
    assert record.nct_ids_in_text == ("NCT00000103", "NCT00000104")
    assert record.other_ids == ("ISRCTN:ISRCTN12345678", "EudraCT:2015-001234-56")
    assert record.extra["databanks"] == ["GENBANK:AB123456"]
    assert record.title == "Trial NCT00000102 (synthetic)"
    assert record.abstract == (
        "BACKGROUND: See NCT00000103 and NCT00000102.\nRegistered as NCT00000104."
    )


def test_book_article() -> None:
    # SYNTHETIC PubmedBookArticle (NCBI Bookshelf)
    book = (
        b"<PubmedBookArticle><BookDocument><PMID Version='1'>90000030</PMID>"
        b"<ArticleIdList><ArticleId IdType='bookaccession'>NBK1</ArticleId></ArticleIdList>"
        b"<Book><Publisher><PublisherName>Synthetic Press</PublisherName></Publisher>"
        b"<BookTitle book='synth'>Synthetic Reviews</BookTitle>"
        b"<PubDate><Year>2018</Year><Month>Feb</Month></PubDate></Book>"
        b"<ArticleTitle>Chapter one</ArticleTitle>"
        b"<Abstract><AbstractText Label='SUMMARY'>Text.</AbstractText></Abstract>"
        b"<AuthorList Type='authors'><Author><LastName>Roe</LastName><Initials>R</Initials>"
        b"</Author></AuthorList><PublicationType UI='D0'>Review</PublicationType>"
        b"</BookDocument><PubmedBookData><ArticleIdList>"
        b"<ArticleId IdType='pubmed'>90000030</ArticleId></ArticleIdList></PubmedBookData>"
        b"</PubmedBookArticle>"
    )
    (record,) = parse_pubmed_xml(synthetic_set(book))
    assert record.record_id == "pubmed:90000030"
    assert record.title == "Chapter one"
    assert record.extra["book_title"] == "Synthetic Reviews"
    assert record.extra["publisher"] == "Synthetic Press"
    assert (record.pub_date, record.year) == ("2018-02", 2018)
    assert record.authors == ("Roe R",)
    assert record.abstract == "SUMMARY: Text."
    assert record.publication_types == ("Review",)


def test_comment_disables_prefilter_safely() -> None:
    # SYNTHETIC: a comment that mentions a skipped tag must not confuse the byte filter
    article = synthetic_article(
        pubmed_data=(
            "<!-- <ReferenceList> --><ReferenceList><Reference><Citation>c</Citation>"
            "</Reference><ReferenceList><Title>nested</Title></ReferenceList>"
            "</ReferenceList><ReferenceList/>"
        )
    )
    (record,) = parse_pubmed_xml(synthetic_set(article))
    assert record.pmid == "90000001"
    nested = synthetic_article(
        pubmed_data=(
            "<ReferenceList><ReferenceList><Reference><Citation>c</Citation></Reference>"
            "</ReferenceList><ReferenceList/></ReferenceList>"
        )
    )
    assert [r.pmid for r in parse_pubmed_xml(synthetic_set(nested, synthetic_article("2")))] == [
        "90000001",
        "2",
    ]


# --------------------------------------------------------------------------- errors


@pytest.mark.parametrize("fraction", [0.1, 0.5, 0.9, 0.999])
def test_truncated_real_file_raises(fixtures_dir: Path, fraction: float) -> None:
    path = fixtures_dir / "pubmed" / "efetch_pubmed_27797938_structured_abstract_inline_html.xml"
    data = path.read_bytes()
    truncated = data[: int(len(data) * fraction)]
    with pytest.raises(PubmedParseError, match=r"<bytes>: malformed or truncated"):
        parse_pubmed_xml(truncated)


def test_truncated_after_complete_records_raises_not_returns_fewer() -> None:
    # SYNTHETIC: two complete articles, the third cut off inside its reference list
    data = synthetic_set(
        synthetic_article("1"),
        synthetic_article("2"),
        synthetic_article("3", pubmed_data="<ReferenceList><Reference>"),
    )
    cut = data[: data.index(b"<Reference>") + len(b"<Reference>")]
    seen = []
    with pytest.raises(PubmedParseError) as info:
        for record in iter_pubmed_records(cut):
            seen.append(record.pmid)
    assert seen == ["1", "2"]
    assert info.value.records_before == 2
    assert "after 2 complete records" in str(info.value)
    assert info.value.line is not None


def test_malformed_xml_names_file_and_position(tmp_path: Path) -> None:
    # SYNTHETIC: mismatched tag on line 4
    path = tmp_path / "broken.xml"
    path.write_bytes(
        HEADER + b"<PubmedArticleSet>\n<PubmedArticle><MedlineCitation>"
        b"<PMID>1</PMI></MedlineCitation>\n</PubmedArticle></PubmedArticleSet>"
    )
    with pytest.raises(PubmedParseError) as info:
        parse_pubmed_xml(path)
    assert str(path) in str(info.value)
    assert info.value.line == 4
    assert isinstance(info.value, ValueError)


@pytest.mark.parametrize(
    "body",
    [
        # SYNTHETIC shapes of EFetch error bodies
        b"<eFetchResult><ERROR>Cannot retrieve history data.</ERROR></eFetchResult>",
        b"<ERROR>Cannot retrieve history data.</ERROR>",
        b"<PubmedArticleSet><ERROR>Cannot retrieve history data.</ERROR></PubmedArticleSet>",
    ],
)
def test_ncbi_error_bodies_raise(body: bytes) -> None:
    with pytest.raises(PubmedParseError, match="NCBI returned an error: Cannot retrieve history"):
        parse_pubmed_xml(b'<?xml version="1.0" ?>\n' + body)


def test_entities_are_not_expanded() -> None:
    # SYNTHETIC: an internal entity must not be expanded (billion-laughs style input)
    data = (
        b'<?xml version="1.0"?>\n<!DOCTYPE PubmedArticleSet [<!ENTITY x "EXPANDED">]>\n'
        b"<PubmedArticleSet>"
        + synthetic_article(title="Title &x;").replace(b"&amp;x;", b"&x;")
        + b"</PubmedArticleSet>"
    )
    (record,) = parse_pubmed_xml(data)
    assert "EXPANDED" not in record.title


def test_wrong_input_types_are_explained(fixtures_dir: Path) -> None:
    with pytest.raises(TypeError, match="pass XML text as bytes"):
        parse_pubmed_xml("<PubmedArticleSet></PubmedArticleSet>")
    path = fixtures_dir / "pubmed" / "efetch_pubmed_35649368_erratum_in.xml"
    with path.open(encoding="utf-8") as text_handle, pytest.raises(TypeError, match="binary"):
        parse_pubmed_xml(text_handle)  # type: ignore[arg-type]


def test_empty_input_raises() -> None:
    with pytest.raises(PubmedParseError):
        parse_pubmed_xml(b"")


def test_article_without_pmid_names_the_input(tmp_path: Path) -> None:
    path = tmp_path / "nopmid.xml"
    path.write_bytes(
        synthetic_set(synthetic_article().replace(b"<PMID Version='1'>90000001</PMID>", b""))
    )
    with pytest.raises(
        PubmedParseError, match=r"nopmid\.xml: <PubmedArticle> without a PMID at line"
    ):
        parse_pubmed_xml(path)


# SYNTHETIC fragments for PubmedData, some of which the byte filter must cut out.
_FRAGMENTS = [
    "<ReferenceList><Reference><Citation>a &lt;ReferenceList&gt; b</Citation></Reference>"
    "</ReferenceList>",
    "<ReferenceList>\n<Title>t</Title>\n<ReferenceList><Reference/></ReferenceList>\n"
    "</ReferenceList>",
    "<ReferenceList/>",
    "<ReferenceList Type='x'/>",
    "<ReferenceListX>kept</ReferenceListX>",
    "<History>\n<PubMedPubDate PubStatus='entrez'><Year>2001</Year></PubMedPubDate>\n</History>",
    "\n",
    "<!-- note <ReferenceList> -->",
]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    parts=st.lists(st.lists(st.sampled_from(_FRAGMENTS), max_size=5), min_size=1, max_size=4),
    chunk_size=st.integers(min_value=1, max_value=80),
)
def test_prefilter_matches_full_parse_on_generated_documents(
    parts: list[list[str]], chunk_size: int
) -> None:
    doc = synthetic_set(
        *(
            synthetic_article(str(i + 1), pubmed_data="".join(fragments))
            for i, fragments in enumerate(parts)
        )
    )
    reader = SkippingReader(io.BytesIO(doc), chunk_size=chunk_size)
    filtered = b"".join(iter(lambda: reader.read(chunk_size), b""))
    assert filtered.count(b"\n") == doc.count(b"\n")
    expected = parse_pubmed_xml(doc, skip_unused=False)
    assert parse_pubmed_xml(filtered, skip_unused=False) == expected
    assert [r.pmid for r in expected] == [str(i + 1) for i in range(len(parts))]
