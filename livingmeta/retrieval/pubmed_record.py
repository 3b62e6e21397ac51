"""One PubMed article (``PubmedArticle`` or ``PubmedBookArticle`` element) as a
:class:`~livingmeta.retrieval.records.Record`: authors, identifiers, trial registrations,
publication notices (retractions, errata, expressions of concern) and dates."""

from __future__ import annotations

from typing import Any

from livingmeta.retrieval.pubmed_dates import history_dates, pub_date_of
from livingmeta.retrieval.pubmed_elements import (
    all_text,
    child_index,
    children,
    leaf_text,
    unique,
)
from livingmeta.retrieval.records import NCT_PATTERN, Record, nct_ids_in_text, normalise_doi

# Trial registries among the DataBankList sources NLM curates ("MEDLINE Databank Sources"),
# lower-cased; the other databanks (GenBank, PDB, GEO, figshare, ...) are data deposits,
# not registrations, and go to ``extra["databanks"]``.
TRIAL_REGISTRIES = frozenset(
    name.lower()
    for name in (
        "ANZCTR",
        "ChiCTR",
        "CRiS",
        "CTIS",
        "CTRI",
        "DRKS",
        "EudraCT",
        "IRCT",
        "ISRCTN",
        "ITMCTR",
        "JapicCTI",
        "JMACCT",
        "JPRN",
        "jRCT",
        "LBCTR",
        "NTR",
        "PACTR",
        "ReBec",
        "REPEC",
        "RPCEC",
        "SLCTR",
        "TCTR",
        "UMIN CTR",
    )
)
_CTGOV = "clinicaltrials.gov"

_NOTICE_FIELDS = {
    "RetractionIn": "retraction_notices",
    "ErratumIn": "errata",
    "ExpressionOfConcernIn": "concerns",
}


class RecordError(Exception):
    """A structurally impossible article; re-raised as PubmedParseError with the input name."""

    def __init__(self, message: str, line: int | None) -> None:
        super().__init__(message)
        self.line = line


# --------------------------------------------------------------------------- fields


def _abstract(abstract: Any) -> str:
    """Abstract text with structured labels kept as ``"LABEL: text"`` lines."""
    parts = []
    for section in children(abstract, "AbstractText"):
        text = all_text(section)
        label = (section.get("Label") or "").strip()
        if label and label.upper() != "UNLABELLED":
            text = f"{label}: {text}" if text else f"{label}:"
        if text:
            parts.append(text)
    return "\n".join(parts)


def _authors(author_list: Any) -> tuple[str, ...]:
    """Authors as "Family Initials"; collective (group) names as they are written."""
    names = []
    for author in children(author_list, "Author"):
        if author.get("ValidYN") == "N":  # superseded or misspelt entries NLM keeps
            continue
        family = initials = fore = collective = None
        for child in author:
            tag = child.tag
            if tag == "LastName":
                family = child.text
            elif tag == "Initials":
                initials = child.text
            elif tag == "ForeName":
                fore = child.text
            elif tag == "CollectiveName":
                collective = child
        family = family.strip() if family else None
        if not family:
            name = all_text(collective)
            if name:
                names.append(name)
            continue
        initials = initials.strip() if initials else None
        if not initials and fore:
            initials = "".join(part[0] for part in fore.replace("-", " ").split())
        names.append(f"{family} {initials}" if initials else family)
    return tuple(names)


def _article_ids(id_list: Any) -> dict[str, str]:
    """``IdType -> value`` from the record's own ArticleIdList (never its ReferenceList)."""
    ids: dict[str, str] = {}
    for item in children(id_list, "ArticleId"):
        id_type = item.get("IdType")
        value = leaf_text(item)
        if id_type and value and id_type not in ids:
            ids[id_type] = value
    return ids


def _doi(ids: dict[str, str], container: Any) -> str | None:
    """DOI from ArticleIdList, else from ``ELocationID[@EIdType="doi"]``."""
    doi = normalise_doi(ids.get("doi"))
    if doi is None:
        for location in children(container, "ELocationID"):
            if location.get("EIdType") == "doi":
                doi = normalise_doi(location.text)
                if doi:
                    break
    return doi


def _pmcid(ids: dict[str, str]) -> str | None:
    value = ids.get("pmc") or ids.get("pmcid")
    if not value:
        return None
    value = value.upper()
    return value if value.startswith("PMC") else f"PMC{value}"


def _databanks(databank_list: Any) -> tuple[tuple[str, ...], tuple[str, ...], list[str]]:
    """Split DataBankList into (NCT ids, other registry ids, other databank accessions)."""
    nct_ids: list[str] = []
    registry_ids: list[str] = []
    deposits: list[str] = []
    for bank in children(databank_list, "DataBank"):
        parts = child_index(bank)
        bank_name = " ".join((leaf_text(parts.get("DataBankName")) or "").split())
        key = bank_name.lower()
        for accession_elem in children(parts.get("AccessionNumberList"), "AccessionNumber"):
            accession = leaf_text(accession_elem)
            if not accession:
                continue
            if key == _CTGOV and NCT_PATTERN.fullmatch(accession.upper()):
                nct_ids.append(accession.upper())
            elif key == _CTGOV or key in TRIAL_REGISTRIES:
                registry_ids.append(f"{bank_name}:{accession}")
            else:
                deposits.append(f"{bank_name}:{accession}")
    return unique(nct_ids), unique(registry_ids), deposits


def _comments_corrections(cc_list: Any) -> list[tuple[str, str | None, str | None]]:
    """``(RefType, PMID, RefSource)`` for every CommentsCorrections entry, in order."""
    links = []
    for item in children(cc_list, "CommentsCorrections"):
        parts = child_index(item)
        ref_source = " ".join((leaf_text(parts.get("RefSource")) or "").split()) or None
        links.append((item.get("RefType") or "", leaf_text(parts.get("PMID")), ref_source))
    return links


def _notices(links: list[tuple[str, str | None, str | None]]) -> dict[str, tuple[str, ...]]:
    found: dict[str, list[str]] = {field: [] for field in _NOTICE_FIELDS.values()}
    for ref_type, pmid, _source in links:
        target = _NOTICE_FIELDS.get(ref_type)
        if target and pmid:
            found[target].append(pmid)
    return {field: unique(values) for field, values in found.items()}


# --------------------------------------------------------------------------- record building


def build_record(elem: Any, record_source: str) -> Record:
    if elem.tag == "PubmedBookArticle":
        return _build_book_record(elem, record_source)
    top = child_index(elem)
    citation = top.get("MedlineCitation")
    if citation is None:
        raise RecordError("PubmedArticle without MedlineCitation", elem.sourceline)
    cit = child_index(citation)
    article = cit.get("Article")
    art = child_index(article)
    journal = child_index(art.get("Journal"))
    issue = child_index(journal.get("JournalIssue"))
    data = child_index(top.get("PubmedData"))
    extra: dict[str, Any] = {}
    pub_date, year = pub_date_of(
        issue.get("PubDate"), children(article, "ArticleDate"), data.get("History"), extra
    )
    _put(extra, "iso_abbreviation", leaf_text(journal.get("ISOAbbreviation")))
    _put(extra, "volume", leaf_text(issue.get("Volume")))
    _put(extra, "issue", leaf_text(issue.get("Issue")))
    _put(extra, "pages", leaf_text(child_index(art.get("Pagination")).get("MedlinePgn")))
    _put(extra, "medline_status", citation.get("Status"))
    _put(extra, "publication_status", leaf_text(data.get("PublicationStatus")))
    # CRDT: when the record entered PubMed, the date "new since last run" windows use.
    entrez = history_dates(data.get("History"), ("entrez",)).get("entrez")
    _put(extra, "entrez_date", entrez[0] if entrez else None)
    return _assemble(
        elem=elem,
        record_source=record_source,
        pmid=leaf_text(cit.get("PMID")),
        title=all_text(art.get("ArticleTitle")) or all_text(art.get("VernacularTitle")),
        abstract=_abstract(art.get("Abstract")),
        pub_date=pub_date,
        year=year,
        journal=all_text(journal.get("Title")) or None,
        author_list=art.get("AuthorList"),
        ids=_article_ids(data.get("ArticleIdList")),
        doi_container=article,
        databank_list=art.get("DataBankList"),
        cc_list=cit.get("CommentsCorrectionsList"),
        pub_types=unique(
            all_text(pt) for pt in children(art.get("PublicationTypeList"), "PublicationType")
        ),
        extra=extra,
    )


def _build_book_record(elem: Any, record_source: str) -> Record:
    """PubmedBookArticle: NCBI Bookshelf documents (e.g. GeneReviews chapters, HTA reports)."""
    top = child_index(elem)
    document = top.get("BookDocument")
    if document is None:
        raise RecordError("PubmedBookArticle without BookDocument", elem.sourceline)
    doc = child_index(document)
    book = child_index(doc.get("Book"))
    data = child_index(top.get("PubmedBookData"))
    extra: dict[str, Any] = {}
    book_title = all_text(book.get("BookTitle"))
    title = all_text(doc.get("ArticleTitle")) or book_title
    if book_title and title != book_title:
        extra["book_title"] = book_title
    _put(
        extra,
        "publisher",
        all_text(child_index(book.get("Publisher")).get("PublisherName")) or None,
    )
    pub_date, year = pub_date_of(book.get("PubDate"), (), data.get("History"), extra)
    ids = _article_ids(data.get("ArticleIdList"))
    for id_type, value in _article_ids(doc.get("ArticleIdList")).items():
        ids.setdefault(id_type, value)
    return _assemble(
        elem=elem,
        record_source=record_source,
        pmid=leaf_text(doc.get("PMID")),
        title=title,
        abstract=_abstract(doc.get("Abstract")),
        pub_date=pub_date,
        year=year,
        journal=None,
        # Chapter authors if given, else the book's.
        author_list=doc.get("AuthorList", book.get("AuthorList")),
        ids=ids,
        doi_container=document,
        databank_list=doc.get("DataBankList"),
        cc_list=doc.get("CommentsCorrectionsList"),
        pub_types=unique(all_text(pt) for pt in children(document, "PublicationType")),
        extra=extra,
    )


def _put(extra: dict[str, Any], key: str, value: Any) -> None:
    if value:
        extra[key] = value


def _assemble(
    *,
    elem: Any,
    record_source: str,
    pmid: str | None,
    title: str,
    abstract: str,
    pub_date: str | None,
    year: int | None,
    journal: str | None,
    author_list: Any,
    ids: dict[str, str],
    doi_container: Any,
    databank_list: Any,
    cc_list: Any,
    pub_types: tuple[str, ...],
    extra: dict[str, Any],
) -> Record:
    """Combine the parts shared by journal and book articles into one Record."""
    if not pmid:
        raise RecordError(f"<{elem.tag}> without a PMID", elem.sourceline)
    nct_ids, registry_ids, deposits = _databanks(databank_list)
    links = _comments_corrections(cc_list)
    notices = _notices(links)
    if deposits:
        extra["databanks"] = deposits
    extra["comments_corrections"] = links
    return Record(
        record_id=f"{record_source}:{pmid}",
        source=record_source,
        title=title,
        abstract=abstract,
        year=year,
        pub_date=pub_date,
        journal=journal,
        authors=_authors(author_list),
        pmid=pmid,
        doi=_doi(ids, doi_container),
        pmcid=_pmcid(ids),
        nct_ids=nct_ids,
        nct_ids_in_text=nct_ids_in_text((title, abstract), nct_ids),
        other_ids=registry_ids,
        publication_types=pub_types,
        retracted="Retracted Publication" in pub_types
        or any(link[0] == "RetractionIn" for link in links),
        retraction_notices=notices["retraction_notices"],
        errata=notices["errata"],
        concerns=notices["concerns"],
        extra=extra,
    )
