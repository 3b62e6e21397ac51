"""Decide what two similar records are: the same article, two reports of one study, or unsure.

Why rules and not a learned score: every outcome must be explainable to a reviewer, and the
rules have to hold on fields of research nobody labelled. The rules follow what makes two
citations the same in bibliographic practice (the approach of CoLRev's bib-dedupe and of
the Bramer and Rathbone algorithms): a title is not enough, but a title *and* the place of
publication (volume and pages, and the journal when those are missing) are.

Outcomes:

* ``DUPLICATE`` -- one article exported twice: same title, and volume/pages/year/journal
  agree or are missing. Removed as a duplicate record in PRISMA.
* ``LINKED_REPORT`` -- the same title and authors, but published somewhere else (a
  conference abstract and its article, the same paper in a second journal, a thesis and its
  abstract). One study, two reports: clustered together, neither removed as a duplicate.
* ``DOUBTFUL`` -- evidence is mixed; a person decides (the manual queue).
* ``DIFFERENT`` -- nothing to do (an erratum and its article, a "part 2" and its "part 1",
  similar titles published in different places by different authors).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from livingmeta.retrieval.bib_fields import (
    BibFields,
    authors_agree,
    pages_agree,
    venues_compatible,
    volumes_agree,
)
from livingmeta.retrieval.title_match import MIN_TITLE_CHARS, MIN_TITLE_TOKENS


class Outcome(Enum):
    """What a pair of records is."""

    DUPLICATE = "duplicate"
    LINKED_REPORT = "linked_report"
    DOUBTFUL = "doubtful"
    DIFFERENT = "different"


class Citation(Enum):
    """How the places of publication of two records compare."""

    MATCH = "match"
    CONFLICT = "conflict"
    UNKNOWN = "unknown"


# Link and queue reasons decided here (the registry stores them in links.csv/doubtful.csv).
FUZZY_TITLE = "fuzzy_title"
SAME_CITATION = "same_citation"
LINKED_REPORT = "linked_report"
DOUBTFUL_SCORE = "fuzzy_title_doubtful"
DOUBTFUL_AUTHOR = "fuzzy_title_author_differs"
DOUBTFUL_IDS = "fuzzy_title_conflicting_ids"

#: Years further apart than this are different publications: one database's epub year and
#: another's print year differ by one at most.
MAX_YEAR_GAP = 1


@dataclass(frozen=True)
class Verdict:
    """The outcome for one pair and the reason recorded with it."""

    outcome: Outcome
    reason: str = ""


DIFFERENT = Verdict(Outcome.DIFFERENT)


def classify_pair(
    a: BibFields,
    b: BibFields,
    title_score: float,
    *,
    ids_conflict: bool,
    threshold: float,
    doubtful_threshold: float,
) -> Verdict:
    """Classify two records whose titles look alike.

    Parameters
    ----------
    a, b
        Normalised fields of the two records (:func:`~livingmeta.retrieval.bib_fields.bib_fields`).
    title_score
        Similarity of the normalised titles, 0-1 (rapidfuzz ``token_sort_ratio`` / 100).
    ids_conflict
        Whether the records carry different PMIDs or DOIs (two different articles).
    threshold, doubtful_threshold
        Title similarity for "same title", and the lower bound of the band that may be
        queued.

    Returns
    -------
    Verdict

    Notes
    -----
    In order: a notice (erratum, reply) is not its article; a conflicting citation leaves
    at most a linked report; different identifiers leave at most a doubtful pair; the same
    citation makes a near or contained title a duplicate; with no citation to compare, the
    title and authors decide, and a title in the doubtful band goes to the queue.
    """
    citation = compare_citation(a, b)
    if a.is_notice != b.is_notice and citation is not Citation.MATCH:
        return DIFFERENT  # an erratum or a reply is not the article it is about
    # Titles differing only in a number ("part 1"/"part 2", "12-month"/"24-month") are
    # different articles, unless they start the same article of several pages (then the
    # number is a typo); one page can hold several abstracts.
    one_page = len(a.pages) == 1 or len(b.pages) == 1
    same_numbers = a.numbers == b.numbers or (citation is Citation.MATCH and not one_page)
    same_title = same_numbers and title_score >= threshold
    close_title = same_numbers and title_score >= doubtful_threshold
    contained = title_contained(a.title, b.title)
    authors = authors_agree(a, b)
    if citation is Citation.CONFLICT:
        if same_title and authors is not False:
            return Verdict(Outcome.LINKED_REPORT, LINKED_REPORT)
        return DIFFERENT
    if ids_conflict:
        return Verdict(Outcome.DOUBTFUL, DOUBTFUL_IDS) if same_title else DIFFERENT
    if citation is Citation.MATCH:
        if not (same_title or contained or close_title):
            return DIFFERENT
        if one_page:
            # Only items of one page share a page: a letter and its reply, two abstracts.
            # There the authors must not differ; on a longer article they may (a group
            # named as author by one database, its chair by another).
            return _unless_authors_differ(authors, Outcome.DUPLICATE, SAME_CITATION)
        return Verdict(Outcome.DUPLICATE, SAME_CITATION)
    if same_title:
        return _unless_authors_differ(authors, Outcome.DUPLICATE, FUZZY_TITLE)
    if close_title or contained:
        if authors is False:
            return DIFFERENT
        return Verdict(Outcome.DOUBTFUL, DOUBTFUL_SCORE)
    return DIFFERENT


def compare_citation(a: BibFields, b: BibFields) -> Citation:
    """Compare where two records were published.

    ``MATCH``: the same pages in the same volume (or, with no volume, in a compatible
    journal in the same year) -- one page of one issue holds one article (an abstract book
    page holds several, which is why a matching title is still required).
    ``CONFLICT``: a different volume, different pages, years more than
    :data:`MAX_YEAR_GAP` apart, or (with nothing else to compare) journals that cannot be
    the same. ``UNKNOWN``: nothing comparable on both sides.
    """
    if a.year is not None and b.year is not None and abs(a.year - b.year) > MAX_YEAR_GAP:
        return Citation.CONFLICT
    volume = volumes_agree(a, b)
    pages = pages_agree(a, b)
    if volume is False or pages is False:
        return Citation.CONFLICT
    venue = venues_compatible(a, b)
    if pages and (volume or (volume is None and venue and a.year == b.year)):
        return Citation.MATCH
    if venue is False:
        return Citation.CONFLICT
    return Citation.UNKNOWN


def title_contained(a: str, b: str) -> bool:
    """Whether one normalised title starts the other (a cut title or a dropped subtitle).

    The shorter one must still be a real title (:data:`MIN_TITLE_CHARS`,
    :data:`MIN_TITLE_TOKENS`), or "Stroke" would be contained in every stroke paper.
    """
    short, long = sorted((a, b), key=len)
    if len(short) < MIN_TITLE_CHARS or len(short.split()) < MIN_TITLE_TOKENS:
        return False
    return long.startswith(short)


def _unless_authors_differ(authors: bool | None, outcome: Outcome, reason: str) -> Verdict:
    if authors is False:
        return Verdict(Outcome.DOUBTFUL, DOUBTFUL_AUTHOR)
    return Verdict(outcome, reason)
