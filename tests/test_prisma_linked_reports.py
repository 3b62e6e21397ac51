"""PRISMA counts keep linked reports (a conference abstract and its article) as reports of
one study: screened with the study, never counted as duplicate records removed."""

from __future__ import annotations

from dataclasses import replace

from livingmeta.report.prisma import assemble_counts, prisma_figure
from livingmeta.report.prisma_draw import figure_texts
from livingmeta.retrieval.records import Record
from livingmeta.retrieval.registry import Registry

TITLE = "Acupressure as a non-pharmacological intervention for traumatic brain injury"
AUTHORS = ("McFadden KL", "Healy KM")


def record(rid: str, journal: str, volume: int, pages: str, **ids: str) -> Record:
    source = rid.partition(":")[0]
    extra = {"volume": str(volume), "pages": pages}
    return Record(
        rid, source, TITLE, year=2011, journal=journal, authors=AUTHORS, extra=extra, **ids
    )


ABSTRACT = record("embase:abs", "Brain Impairment", 12, "51")
ARTICLE = record("pubmed:1", "Brain Injury", 26, "587", pmid="1")
COPY = record("wos:3", "Brain Inj.", 26, "587-95")


def handed_over(registry: Registry, run_id: str) -> Registry:
    registry.deduplicate()
    registry.mark_reported(registry.new_candidates(), run_id)
    return registry


def totals(counts: dict[str, dict[str, int]]) -> dict[str, int]:
    out: dict[str, int] = {}
    for row in counts.values():
        for key, value in row.items():
            out[key] = out.get(key, 0) + value
    return out


def test_abstract_and_article_found_together_are_one_study_with_two_reports():
    registry = Registry()
    registry.upsert([ABSTRACT, ARTICLE, COPY], "run1")
    handed_over(registry, "run1")
    assert totals(registry.prisma_counts("run1")) == {
        "identified": 3,
        "to_screen": 1,
        "linked_reports": 1,
        "duplicates_removed": 1,  # the Web of Science copy of the article
        "pending": 0,
    }
    identification = registry.identification_counts(["pubmed"])
    assert totals(identification)["linked_reports"] == 1
    screening = {
        "records_screened": 1,
        "records_excluded": 0,
        "reports_assessed": 1,
        "reports_excluded": 0,
        "reports_included": 1,
    }
    counts = assemble_counts(identification, screening)
    assert (counts["duplicates_removed"], counts["linked_reports"], counts["screened"]) == (1, 1, 1)
    texts = " ".join(figure_texts(prisma_figure(counts)))
    assert "Further reports of the same studies" in texts


def test_later_abstract_of_a_known_study_is_a_linked_report_not_a_duplicate():
    registry = Registry()
    registry.upsert([ARTICLE], "run1")
    handed_over(registry, "run1")
    registry.upsert([ABSTRACT, COPY], "run2")
    handed_over(registry, "run2")
    assert totals(registry.prisma_counts("run2")) == {
        "identified": 2,
        "to_screen": 0,
        "linked_reports": 1,  # the abstract: another report of the known study
        "duplicates_removed": 1,  # the copy of the article reviewers already have
        "pending": 0,
    }


def test_abstract_and_article_three_years_apart_are_found_as_linked_reports():
    from livingmeta.retrieval.dedup import find_links

    abstract = replace(ABSTRACT, year=2006)
    article = replace(ARTICLE, year=2009)
    result = find_links([abstract, article])
    assert [(link.record_a, link.record_b, link.reason) for link in result.links] == [
        ("embase:abs", "pubmed:1", "linked_report")
    ]
    registry = Registry()
    registry.upsert([abstract, article], "run1")
    handed_over(registry, "run1")
    assert list(registry.clusters().values()) == [["embase:abs", "pubmed:1"]]
    assert registry.duplicate_groups() == [["embase:abs"], ["pubmed:1"]]


def test_years_apart_a_similar_title_or_other_authors_are_not_linked():
    from livingmeta.retrieval.dedup import find_links

    abstract = replace(ABSTRACT, year=2006)
    sequel = replace(ARTICLE, year=2009, title=TITLE + ": five-year follow-up of the cohort")
    others = replace(ARTICLE, year=2009, authors=("Zhou Q", "Brennan P"))
    assert find_links([abstract, sequel]).links == ()
    assert find_links([abstract, others]).links == ()
