"""Dates of PubMed records: ``PubDate`` in every DTD form, ``MedlineDate`` free text and
PubMed's history dates, as ISO partial dates (``2019``, ``2019-07``, ``2019-07-12``)."""

from __future__ import annotations

import calendar
import re
from collections.abc import Iterable
from typing import Any

from livingmeta.retrieval.pubmed_elements import child_index, children, leaf_text

_MONTHS = {
    name: number
    for number, names in enumerate(
        (
            ("jan", "january"),
            ("feb", "february"),
            ("mar", "march"),
            ("apr", "april"),
            ("may",),
            ("jun", "june"),
            ("jul", "july"),
            ("aug", "august"),
            ("sep", "sept", "september"),
            ("oct", "october"),
            ("nov", "november"),
            ("dec", "december"),
        ),
        start=1,
    )
    for name in names
}
_YEAR_RE = re.compile(r"\b(1[5-9]\d\d|2\d\d\d)\b")
# "1998 Dec-1999 Jan", "2000 Jan-Feb", "2001 Dec 23-30", "2000 Spring", "1999-2000".
_MEDLINE_DATE_RE = re.compile(
    r"^\s*(?P<year>\d{4})(?:\s+(?P<month>[A-Za-z]+|\d{1,2})\b(?:\s+(?P<day>\d{1,2})\b)?)?"
)

# History dates to fall back on when PubDate has no year, best first.
_HISTORY_FALLBACK = ("ppublish", "epublish", "aheadofprint", "pubmed", "entrez")


def parse_medline_date(text: str | None) -> tuple[str | None, int | None]:
    """Turn a free-text MEDLINE date into ``(ISO partial date, year)``.

    Handles ``MedlineDate`` and the nbib ``DP`` field: ``"2012 Jul 12"``,
    ``"1998 Dec-1999 Jan"`` (start month: the issue began then), ``"2000 Jan-Feb"``,
    ``"2000 Spring"`` (year only: seasons are hemisphere-dependent) and ``"1999-2000"``
    (first year). Returns ``(None, None)`` if no year can be found.
    """
    if not text:
        return None, None
    match = _MEDLINE_DATE_RE.match(text)
    if match is None:
        found = _YEAR_RE.search(text)
        if found is None:
            return None, None
        year = int(found.group(1))
        return f"{year:04d}", year
    year = int(match.group("year"))
    month = _month_number(match.group("month"))
    if month is None:
        return f"{year:04d}", year
    day = _valid_day(match.group("day"))
    return _iso(year, month, day), year


def _month_number(value: str | None) -> int | None:
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        number = int(value)
        return number if 1 <= number <= 12 else None
    return _MONTHS.get(value.lower().rstrip("."))


def _valid_day(value: str | None) -> int | None:
    if value and value.strip().isdigit():
        day = int(value)
        return day if 1 <= day <= 31 else None
    return None


def _iso(year: int, month: int | None = None, day: int | None = None) -> str:
    """ISO partial date; a day that does not exist in that month (31 Sep) is dropped."""
    if month is None:
        return f"{year:04d}"
    if day is None or day > calendar.monthrange(year, month)[1]:
        return f"{year:04d}-{month:02d}"
    return f"{year:04d}-{month:02d}-{day:02d}"


def _season_month(season: str) -> int | None:
    """First month of a month range ("Jan-Mar" -> 1); None for named seasons.

    Named seasons ("Spring", "Winter-Spring") depend on the hemisphere and "Winter" spans a
    year boundary, so they are kept as year-only dates rather than guessed.
    """
    first = re.split(r"[-/\s]+", season.strip(), maxsplit=1)[0]
    return _MONTHS.get(first.lower().rstrip("."))


def _ymd_date(parts: dict[str, Any]) -> tuple[str | None, int | None]:
    """Date from the indexed children Year/Month/Day/Season of a date element."""
    year_text = leaf_text(parts.get("Year"))
    if not year_text or not year_text.isdigit():
        return None, None
    year = int(year_text)
    month = _month_number(leaf_text(parts.get("Month")))
    if month is None:
        season = leaf_text(parts.get("Season"))
        return _iso(year, _season_month(season) if season else None), year
    return _iso(year, month, _valid_day(leaf_text(parts.get("Day")))), year


def pub_date_of(
    pub_date: Any, article_dates: Iterable[Any], history: Any, extra: dict[str, Any]
) -> tuple[str | None, int | None]:
    """Publication date in every DTD form, falling back to ArticleDate then history dates.

    ``PubDate`` is ``(Year, ((Month, Day?) | Season)?) | MedlineDate``; a PubDate without a
    usable year (rare, but the DTD allows it) must not leave the record undated, so the
    electronic publication date and then PubMed's own history dates are used instead.
    """
    if pub_date is not None:
        parts = child_index(pub_date)
        iso, year = _ymd_date(parts)
        if year is None:
            medline_date = leaf_text(parts.get("MedlineDate"))
            if medline_date:
                extra["pub_date_raw"] = medline_date
                iso, year = parse_medline_date(medline_date)
        elif "Season" in parts:
            extra["pub_date_raw"] = f"{year} {leaf_text(parts['Season'])}"
        if year is not None:
            return iso, year
    for article_date in article_dates:
        iso, year = _ymd_date(child_index(article_date))
        if year is not None:
            return iso, year
    dates = history_dates(history, _HISTORY_FALLBACK)
    for status in _HISTORY_FALLBACK:
        if status in dates:
            return dates[status]
    return None, None


def history_dates(history: Any, statuses: tuple[str, ...]) -> dict[str, tuple[str | None, int]]:
    """``PubStatus -> (ISO date, year)`` for the wanted statuses (first of each wins)."""
    dates: dict[str, tuple[str | None, int]] = {}
    for item in children(history, "PubMedPubDate"):
        status = item.get("PubStatus")
        if status in statuses and status not in dates:
            iso, year = _ymd_date(child_index(item))
            if year is not None:
                dates[status] = (iso, year)
    return dates
