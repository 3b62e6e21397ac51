"""PRISMA 2020 flow diagrams, for new and for updated (living) systematic reviews.

A living review reports every update with the PRISMA 2020 flow diagram *for updated
systematic reviews* (Page MJ et al. BMJ 2021;372:n71, figure 1 of the statement's
templates): a "Previous studies" column carries the studies of the last version into the
total, and the main column follows the records of the new searches. Without a previous
version the plain 2020 template for new reviews is drawn.

The counts come as a plain, JSON-friendly dict, so that the workflow can write them to a
file and a reviewer can read or correct them::

    {
        "previous": {"studies": 4, "reports": 4},   # or None / absent: a new review
        "identified": {"PubMed": 812, "Cochrane CENTRAL": 316, "ClinicalTrials.gov": 40},
        "duplicates_removed": 20,
        "records_removed_automation": 0,            # optional, default 0
        "records_removed_other": 0,                 # optional, default 0
        "screened": 1148,
        "records_awaiting_screening": 0,            # optional, default 0
        "linked_reports": 0,                        # optional, default 0
        "excluded_screening": 1123,
        "reports_sought": 25,
        "reports_not_retrieved": 0,
        "reports_assessed": 25,
        "reports_awaiting_assessment": 0,           # optional, default 0
        "excluded_full_text": {"no control group": 12, "tandem occlusion": 5, ...},
        "new_studies": 4,
        "new_reports": 4,
        "removed_previous": {"retracted": 1},       # optional: previous studies removed
        "removed_previous_reports": 1,              # optional: their reports
        "total_studies": 7,                         # optional: previous - removed + new
        "total_reports": 7,                         # optional: previous - removed + new
    }

``identified`` and ``excluded_full_text`` keep their key order in the diagram (sources
and reasons as the reviewer listed them). :func:`validate_counts` checks the arithmetic
that the diagram implies, so a diagram never shows numbers that do not add up:

- sum(identified) - duplicates - automation - other = screened + awaiting screening +
  linked reports (further reports of a study, screened with it: not removed as duplicates)
- screened - excluded_screening = reports_sought
- reports_sought - reports_not_retrieved = reports_assessed + awaiting assessment
- reports_assessed - sum(excluded_full_text) = new_reports
- new_studies <= new_reports; previous - removed previous + new = total (studies and
  reports)

A study removed after inclusion (a retraction decision, an exclusion recorded after
inclusion) never disappears from the diagram: found by the new searches, its reports are
counted under "Reports excluded" with the reason (``retracted: 1``); included in the
previous version, it is counted in the previous studies' column ("Removed from the review
in this update") and taken off the total.

A living review draws the diagram while screening goes on, so records and reports not yet
decided are shown as "awaiting" (beside the records excluded and the reports excluded)
rather than breaking the arithmetic; both lines appear only when non-zero.
:func:`assemble_counts` builds the dict from the retrieval report's per-source counts and
the screening status' PRISMA numbers.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from matplotlib.figure import Figure

from livingmeta.report.prisma_draw import FONT_SIZE, draw, figure_texts

_COUNT_KEYS = (
    "duplicates_removed",
    "records_removed_automation",
    "records_removed_other",
    "screened",
    "records_awaiting_screening",
    "linked_reports",
    "excluded_screening",
    "reports_sought",
    "reports_not_retrieved",
    "reports_assessed",
    "reports_awaiting_assessment",
    "new_studies",
    "new_reports",
    "removed_previous_reports",
    "total_studies",
    "total_reports",
)
_ORDER = (
    "previous",
    "identified",
    *_COUNT_KEYS[:11],
    "excluded_full_text",
    *_COUNT_KEYS[11:13],
    "removed_previous",
    *_COUNT_KEYS[13:],
)
_OPTIONAL = {
    "records_removed_automation": 0,
    "records_removed_other": 0,
    "records_awaiting_screening": 0,
    "linked_reports": 0,
    "reports_awaiting_assessment": 0,
    "removed_previous_reports": 0,
}
_DERIVED = ("total_studies", "total_reports")
_KNOWN = {"previous", "identified", "excluded_full_text", "removed_previous", *_COUNT_KEYS}

# Box names as printed in the diagram, used in validation messages.
_BOX = {
    "identified": "Records identified",
    "duplicates_removed": "Duplicate records removed",
    "records_removed_automation": "Records marked as ineligible by automation tools",
    "records_removed_other": "Records removed for other reasons",
    "screened": "Records screened",
    "records_awaiting_screening": "Records awaiting screening",
    "linked_reports": "Further reports of the same studies, screened with them",
    "excluded_screening": "Records excluded",
    "reports_sought": "Reports sought for retrieval",
    "reports_not_retrieved": "Reports not retrieved",
    "reports_assessed": "Reports assessed for eligibility",
    "reports_awaiting_assessment": "Reports awaiting assessment",
    "excluded_full_text": "Reports excluded",
    "new_studies": "New studies included in review",
    "new_reports": "Reports of new included studies",
    "removed_previous": "Previous studies removed from the review",
    "removed_previous_reports": "Reports of previous studies removed",
    "total_studies": "Total studies included in review",
    "total_reports": "Reports of total included studies",
}


# ---------------------------------------------------------------------- validation


def _is_count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def validate_counts(counts: Mapping[str, Any]) -> dict[str, Any]:
    """Check a PRISMA counts dict and return it complete (defaults and totals filled in).

    Why so strict: a flow diagram is read as an audit trail; numbers that do not add up
    (a record lost between screening and retrieval) undermine the whole update, and are
    usually a sign that the counts were assembled from files of different runs.

    Parameters
    ----------
    counts
        The dict described in the module docstring.

    Returns
    -------
    dict
        A new dict with every key of the module docstring (the ``removed_previous`` keys
        only when a previous study was removed); ``previous`` is ``None`` or
        ``{"studies": int, "reports": int}``.

    Raises
    ------
    ValueError
        Listing every problem at once, each naming the diagram's boxes involved: unknown
        or missing keys, counts that are not non-negative integers, and broken arithmetic
        (identified - removed = screened; screened - excluded = sought; sought - not
        retrieved = assessed; assessed - excluded = reports of new studies; new studies
        <= their reports; previous + new = total).
    """
    if not isinstance(counts, Mapping):
        raise ValueError(f"PRISMA counts must be a mapping, got {type(counts).__name__}")
    problems: list[str] = []
    unknown = sorted(set(counts) - _KNOWN)
    if unknown:
        problems.append(f"unknown keys: {', '.join(map(repr, unknown))}")
    out: dict[str, Any] = {}
    for key in _COUNT_KEYS:
        if key not in counts or counts[key] is None:
            if key in _OPTIONAL:
                out[key] = _OPTIONAL[key]
            elif key not in _DERIVED:
                problems.append(f"missing '{key}' ({_BOX[key]})")
            continue
        if not _is_count(counts[key]):
            problems.append(
                f"'{key}' ({_BOX[key]}) must be a non-negative integer, got {counts[key]!r}"
            )
            continue
        out[key] = counts[key]
    out["identified"] = _count_map(counts, "identified", problems, required=True)
    out["excluded_full_text"] = _count_map(counts, "excluded_full_text", problems)
    out["removed_previous"] = _count_map(counts, "removed_previous", problems)
    out["previous"] = _previous(counts.get("previous"), problems)
    if problems:
        raise ValueError(_message(problems))
    _check_arithmetic(out, problems)
    if problems:
        raise ValueError(_message(problems))
    ordered = {key: out[key] for key in _ORDER}
    if not (ordered["removed_previous"] or ordered["removed_previous_reports"]):
        del ordered["removed_previous"], ordered["removed_previous_reports"]
    return ordered


def _message(problems: list[str]) -> str:
    head = "1 problem" if len(problems) == 1 else f"{len(problems)} problems"
    return f"inconsistent PRISMA counts, {head}:\n" + "\n".join(f"  - {p}" for p in problems)


def _count_map(
    counts: Mapping[str, Any], key: str, problems: list[str], required: bool = False
) -> dict[str, int]:
    value = counts.get(key)
    if value is None:
        if required:
            problems.append(f"missing '{key}' ({_BOX[key]}): a mapping of source to count")
        return {}
    if not isinstance(value, Mapping):
        problems.append(f"'{key}' ({_BOX[key]}) must be a mapping of name to count")
        return {}
    if required and not value:
        problems.append(f"'{key}' ({_BOX[key]}) names no source")
    out = {}
    for name, n in value.items():
        if not isinstance(name, str) or not name.strip():
            problems.append(f"'{key}' ({_BOX[key]}) has an empty name")
        elif not _is_count(n):
            problems.append(
                f"'{key}' ({_BOX[key]}) '{name}' must be a non-negative integer, got {n!r}"
            )
        else:
            out[name] = n
    return out


def _previous(value: Any, problems: list[str]) -> dict[str, int] | None:
    if value is None:
        return None
    if not isinstance(value, Mapping) or set(value) != {"studies", "reports"}:
        problems.append("'previous' must be null or {'studies': int, 'reports': int}")
        return None
    bad = [k for k in ("studies", "reports") if not _is_count(value[k])]
    for k in bad:
        problems.append(f"'previous.{k}' must be a non-negative integer, got {value[k]!r}")
    if bad:
        return None
    if value["studies"] > value["reports"]:
        problems.append(
            f"Studies included in previous version of review ({value['studies']}) exceed "
            f"their reports ({value['reports']}): every study has at least one report"
        )
    return {"studies": value["studies"], "reports": value["reports"]}


def _sum_text(c: dict[str, Any], key: str, extra: str | None = None) -> str:
    """``Records screened is 1150`` or, with a non-zero ``extra`` count,
    ``Records screened (1100) + Records awaiting screening (50) = 1150``."""
    if extra is None or not c[extra]:
        return f"{_BOX[key]} is {c[key]}"
    return f"{_BOX[key]} ({c[key]}) + {_BOX[extra]} ({c[extra]}) = {c[key] + c[extra]}"


def _check_arithmetic(c: dict[str, Any], problems: list[str]) -> None:
    identified = sum(c["identified"].values())
    removed = c["duplicates_removed"] + c["records_removed_automation"]
    removed += c["records_removed_other"]
    excluded = sum(c["excluded_full_text"].values())
    awaiting_records, awaiting_reports = (
        c["records_awaiting_screening"],
        c["reports_awaiting_assessment"],
    )
    steps = (
        (
            identified - removed,
            f"Records identified ({identified}) - Records removed before screening ({removed})",
            c["screened"] + awaiting_records + c["linked_reports"],
            _sum_text(c, "screened", "records_awaiting_screening")
            + (
                f" + {_BOX['linked_reports']} ({c['linked_reports']})"
                if c["linked_reports"]
                else ""
            ),
        ),
        (
            c["screened"] - c["excluded_screening"],
            f"Records screened ({c['screened']}) - Records excluded ({c['excluded_screening']})",
            c["reports_sought"],
            _sum_text(c, "reports_sought"),
        ),
        (
            c["reports_sought"] - c["reports_not_retrieved"],
            f"Reports sought for retrieval ({c['reports_sought']}) - Reports not retrieved "
            f"({c['reports_not_retrieved']})",
            c["reports_assessed"] + awaiting_reports,
            _sum_text(c, "reports_assessed", "reports_awaiting_assessment"),
        ),
        (
            c["reports_assessed"] - excluded,
            f"Reports assessed for eligibility ({c['reports_assessed']}) - Reports excluded "
            f"({excluded})",
            c["new_reports"],
            _sum_text(c, "new_reports"),
        ),
    )
    for expected, how, actual, what in steps:
        if actual != expected:
            problems.append(f"{how} = {expected}, but {what}")
    if c["new_studies"] > c["new_reports"]:
        problems.append(
            f"New studies included in review ({c['new_studies']}) exceed Reports of new "
            f"included studies ({c['new_reports']}): every study has at least one report"
        )
    previous = c["previous"]
    if previous is None and c["new_reports"] > 0 and c["new_studies"] == 0:
        problems.append(
            f"Reports of included studies ({c['new_reports']}) but no study included "
            "(without a previous version every report belongs to a new study)"
        )
    base = previous or {"studies": 0, "reports": 0}
    gone = {"studies": sum(c["removed_previous"].values()), "reports": 0}
    gone["reports"] = c["removed_previous_reports"]
    _check_removed_previous(previous, gone, problems)
    for key, part, new in (
        ("total_studies", "studies", "new_studies"),
        ("total_reports", "reports", "new_reports"),
    ):
        expected = base[part] - gone[part] + c[new]
        if key not in c:
            c[key] = expected
        elif c[key] != expected:
            what = f"previous ({base[part]})" if previous else ""
            what += f" - removed ({gone[part]})" if gone[part] else ""
            what = f"{what} + new ({c[new]})" if what else f"new ({c[new]})"
            problems.append(f"{_BOX[key]} is {c[key]}, but {what} = {expected}")


def _check_removed_previous(
    previous: dict[str, int] | None, gone: dict[str, int], problems: list[str]
) -> None:
    """Previous studies removed in this update: only with a previous version, no more
    than it had, and each with at least one report."""
    if not (gone["studies"] or gone["reports"]):
        return
    if previous is None:
        problems.append(
            f"{_BOX['removed_previous']} ({gone['studies']}) without a previous version"
        )
        return
    for part in ("studies", "reports"):
        if gone[part] > previous[part]:
            problems.append(
                f"{gone[part]} {part} of the previous version removed, but it had {previous[part]}"
            )
    if gone["reports"] < gone["studies"]:
        problems.append(
            f"{_BOX['removed_previous']} ({gone['studies']}) exceed their reports "
            f"({gone['reports']}): every study has at least one report"
        )


# ---------------------------------------------------------------------- assembling


#: Display names of the retrieval sources in the diagram.
SOURCE_NAMES = {
    "pubmed": "PubMed",
    "ctgov": "ClinicalTrials.gov",
    "embase": "Embase",
    "medline": "MEDLINE",
    "scopus": "Scopus",
    "web-of-science": "Web of Science",
    "webofscience": "Web of Science",
    "wos": "Web of Science",
    "cinahl": "CINAHL",
    "psycinfo": "PsycINFO",
    "cochrane-central": "Cochrane CENTRAL",
    "central": "Cochrane CENTRAL",
    "cochrane": "Cochrane Library",
    "proquest": "ProQuest",
    "lilacs": "LILACS",
    "openalex": "OpenAlex",
    "europe-pmc": "Europe PMC",
    "google-scholar": "Google Scholar",
    "ictrp": "WHO ICTRP",
    "who-ictrp": "WHO ICTRP",
}
#: The identification box of a review no search or import has reached yet.
NO_SOURCE_YET = "Databases and registers (none searched yet)"


def assemble_counts(
    identification: Mapping[str, Mapping[str, int]] | Sequence[Mapping[str, Mapping[str, int]]],
    screening: Mapping[str, Any],
    *,
    previous: Mapping[str, int] | None = None,
    new_studies: int | None = None,
    source_names: Mapping[str, str] = SOURCE_NAMES,
    removed: Sequence[Mapping[str, Any]] = (),
) -> dict[str, Any]:
    """The counts dict from the workflow's files, validated.

    Why a helper: the numbers come from two places that use their own vocabulary, the
    retrieval report (records per source) and the screening status (decisions), and the
    mapping between them is where diagrams usually go wrong.

    Parameters
    ----------
    identification
        The retrieval report's ``prisma`` (``{source: {identified, duplicates_removed,
        linked_reports, to_screen, pending}}``), or a list of them, one per run covered
        by the diagram (summed per source).
    screening
        ``ScreeningStatus.prisma``: ``records_screened, records_excluded,
        reports_assessed, reports_excluded, reports_excluded_by_reason,
        reports_included, reports_of_existing_studies`` (``None`` for an unused stage).
    previous
        ``{"studies": n, "reports": n}`` of the previous version, or None.
    new_studies
        New studies included; by default the included reports that are not reports of
        studies already in the review.
    source_names
        Display names of the sources (others are shown as they are).
    removed
        Studies removed after inclusion: ``{"reason": str, "previous": bool, "reports":
        int}`` each (``reports``: its reports counted as included by the screening, or
        in the previous version). A previous study goes to ``removed_previous``; a new
        one's reports move from the included reports to "Reports excluded" under its
        reason. ``new_studies``, when given, must already leave them out.

    Returns
    -------
    dict
        The counts of the module docstring, passed through :func:`validate_counts`.
        Records still to be screened (``to_screen`` minus those screened) and reports
        still to be assessed appear as "awaiting"; reports excluded without a reason are
        counted under "reason not recorded".

    Raises
    ------
    ValueError
        If records are still pending in the registry (the run did not finish) or the
        numbers do not add up (:func:`validate_counts`).
    """
    runs = [identification] if isinstance(identification, Mapping) else list(identification)
    identified, duplicates, to_screen, linked = _identification_totals(runs, source_names)
    screened = screening.get("records_screened")
    if screened is None:  # no title/abstract stage: every record goes to full text
        screened, excluded_ta = to_screen, 0
    else:
        excluded_ta = int(screening.get("records_excluded") or 0)
    sought = screened - excluded_ta
    assessed = screening.get("reports_assessed")
    assessed = sought if assessed is None else int(assessed)
    reasons = dict(screening.get("reports_excluded_by_reason") or {})
    excluded_ft = int(screening.get("reports_excluded") or 0)
    missing = excluded_ft - sum(reasons.values())
    if missing > 0:
        reasons["reason not recorded"] = missing
    reports = int(screening.get("reports_included") or 0)
    removed_previous, removed_reports, reports = _apply_removals(removed, reasons, reports)
    if new_studies is None:
        new_studies = reports - int(screening.get("reports_of_existing_studies") or 0)
    return validate_counts(
        {
            "previous": dict(previous) if previous else None,
            "identified": identified,
            "duplicates_removed": duplicates,
            "screened": screened,
            "records_awaiting_screening": max(0, to_screen - screened),
            "linked_reports": linked,
            "excluded_screening": excluded_ta,
            "reports_sought": sought,
            "reports_not_retrieved": 0,
            "reports_assessed": assessed,
            "reports_awaiting_assessment": max(0, sought - assessed),
            "excluded_full_text": reasons,
            "new_studies": new_studies,
            "new_reports": reports,
            "removed_previous": removed_previous,
            "removed_previous_reports": removed_reports,
        }
    )


def source_display_name(source: str) -> str:
    """How the diagram names a source: its usual spelling when known (imports store the
    name lower-cased, ``embase``), else the name with its words capitalised."""
    if source in SOURCE_NAMES:
        return SOURCE_NAMES[source]
    return " ".join(w[:1].upper() + w[1:] for w in source.replace("-", " ").split())


def _identification_totals(
    runs: Sequence[Mapping[str, Mapping[str, int]]], source_names: Mapping[str, str]
) -> tuple[dict[str, int], int, int, int]:
    """Records identified per source (display names), duplicates removed, records to
    screen and linked reports, summed over ``runs``; pending records mean an unfinished
    run, whose counts would not add up."""
    identified: dict[str, int] = {}
    duplicates = to_screen = pending = linked = 0
    for run in runs:
        for source, row in run.items():
            name = source_names.get(source) or source_display_name(source)
            identified[name] = identified.get(name, 0) + int(row.get("identified", 0))
            duplicates += int(row.get("duplicates_removed", 0))
            to_screen += int(row.get("to_screen", 0))
            linked += int(row.get("linked_reports", 0))
            pending += int(row.get("pending", 0))
    if not identified:  # a review just started: no search or import has run yet
        identified[NO_SOURCE_YET] = 0
    if pending:
        raise ValueError(
            f"{pending} records are pending in the registry (not yet reported as "
            "candidates or duplicates): the retrieval run did not finish"
        )
    return identified, duplicates, to_screen, linked


def _apply_removals(
    removed: Sequence[Mapping[str, Any]], reasons: dict[str, int], reports: int
) -> tuple[dict[str, int], int, int]:
    """Studies removed after inclusion: a previous one counted by reason (with its
    reports); a new one's reports moved from the included to ``reasons`` (updated in
    place). Returns the removed previous studies by reason, their reports and the
    included reports left."""
    removed_previous: dict[str, int] = {}
    removed_reports = 0
    for study in removed:
        reason, n = str(study["reason"]), int(study["reports"])
        if study["previous"]:
            removed_previous[reason] = removed_previous.get(reason, 0) + 1
            removed_reports += n
        else:
            reasons[reason] = reasons.get(reason, 0) + n
            reports -= n
    return removed_previous, removed_reports, reports


# ---------------------------------------------------------------------- drawing


def prisma_figure(
    counts: Mapping[str, Any], *, title: str | None = None, fontsize: float = FONT_SIZE
) -> Figure:
    """Draw the PRISMA 2020 flow diagram (the template for updated reviews when
    ``counts["previous"]`` is given, the one for new reviews otherwise).

    Parameters
    ----------
    counts
        The counts dict of the module docstring; validated first.
    title
        Optional title above the diagram (e.g. the review and the update's date).
    fontsize
        Text size in points; boxes grow with the text, never the other way round.

    Returns
    -------
    Figure
        On the Agg canvas, not registered with pyplot; save it with
        :func:`livingmeta.plots.save_figure`. Every text artist and box patch carries a
        ``label`` naming its box (``screened``, ``excluded_full_text`` ...).

    Raises
    ------
    ValueError
        If the counts are inconsistent (see :func:`validate_counts`).
    """
    return draw(validate_counts(counts), title, fontsize)


__all__ = ["assemble_counts", "figure_texts", "prisma_figure", "validate_counts"]
