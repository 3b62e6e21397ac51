"""The views the page templates render: every number formatted, every link built, every
figure copied into the site, from the inputs of :mod:`livingmeta.site.pages`."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from livingmeta.files import read_json
from livingmeta.formatting import (
    NOT_ESTIMABLE,
    describe_method,
    effect_decimals,
    finite_number,
    format_effect,
    format_p,
    format_p_value,
    format_weight,
    heterogeneity_line,
    is_ratio_measure,
    pooled_effect,
    prediction_interval,
    result_i2,
)
from livingmeta.links import DOI_PREFIX, ctgov_url, doi_url, pubmed_url
from livingmeta.site.folder import SiteWriter, png_size, relative_href
from livingmeta.site.pages import IMAGE_FORMATS, IMAGE_KINDS, OutcomePage, ReviewPage, StudyLink

_DISPLAYABLE = ("png", "svg")

_FIGURE_TITLES = {
    "forest": "Forest plot",
    "history": "Estimate over time",
    "cumulative": "Cumulative meta-analysis",
    "leave_one_out": "Leave-one-out analysis",
    "funnel": "Funnel plot",
    "bubble": "Meta-regression bubble plot",
    "sequential": "Sequential monitoring (trial sequential analysis)",
}


def _result(pooled: Mapping[str, Any]) -> Mapping[str, Any] | None:
    result = pooled.get("result") if pooled else None
    return result if isinstance(result, Mapping) and result.get("estimate") is not None else None


def _not_pooled(pooled: Mapping[str, Any]) -> str:
    """Why an outcome has no estimate: no approved data yet, or not pooled (yet)."""
    from livingmeta.outcome_analysis import NO_APPROVED_DATA

    if pooled and pooled.get("status") == NO_APPROVED_DATA:
        return NO_APPROVED_DATA.capitalize()
    return "Not pooled yet"


def _estimate_row(outcome: OutcomePage) -> dict[str, Any]:
    """The outcome's line of the pooled-estimates table, formatted as summary.md does."""
    result = _result(outcome.pooled)
    row: dict[str, Any] = {"label": outcome.label, "anchor": f"outcome-{outcome.name}"}
    if result is None:
        return {
            **row,
            "pooled": False,
            "measure": "",
            "method": "",
            "effect": _not_pooled(outcome.pooled),
            "p": "",
            "p_clause": "",
            "i2": "",
            "k": "",
            "participants": "",
        }
    try:
        method = describe_method(result)
    except (KeyError, TypeError):
        method = ""
    k = result.get("k")
    participants = outcome.pooled.get("participants")
    return {
        **row,
        "pooled": True,
        "measure": str(result.get("measure") or ""),
        "method": method,
        "effect": pooled_effect(result),
        "p": format_p_value(finite_number(result.get("p"))),
        "p_clause": format_p(finite_number(result.get("p"))),
        "i2": result_i2(result),
        "k": "" if k is None else str(k),
        "participants": "" if participants is None else str(participants),
    }


def _alt(kind: str, outcome: OutcomePage, row: Mapping[str, Any]) -> str:
    """Alt text that carries the figure's message, not just its name."""
    label = outcome.label
    if kind == "forest":
        if row["pooled"]:
            return (
                f"Forest plot of {label}: each study's {row['measure']} with its 95% CI and "
                f"the pooled {row['measure']} {row['effect']} from {row['k']} studies."
            )
        return f"Forest plot of {label}."
    if kind == "history":
        return f"Pooled estimate of {label} and its 95% CI at each run of the living review."
    if kind == "cumulative":
        return (
            f"Cumulative meta-analysis of {label}: the pooled estimate as studies are added "
            "by year."
        )
    if kind in _BEYOND_POOLING_ALT:
        return _BEYOND_POOLING_ALT[kind].format(label=label)
    if kind == "sequential":
        return (
            f"Sequential monitoring chart of {label}: the cumulative Z at each update against "
            "the monitoring, futility and conventional boundaries."
        )
    return f"Leave-one-out analysis of {label}: the pooled estimate with each study left out."


_BEYOND_POOLING_ALT = {
    "funnel": "Funnel plot of {label}: each study's effect against its standard error, "
    "with the pooled estimate and pseudo 95% confidence limits.",
    "bubble": "Bubble plot of {label}: each study's effect against the covariate, sized "
    "by its weight, with the meta-regression line and its 95% confidence band.",
}


def _figure(
    writer: SiteWriter,
    files: Mapping[str, Path],
    rel_dir: tuple[str, ...],
    page_dir: tuple[str, ...],
    stem: str,
    title: str,
    alt: str,
) -> dict[str, Any] | None:
    """Copy one figure's files into the site; the view of the figure for a template.

    ``files`` maps format -> source path; ``rel_dir`` is the folder in the site and
    ``page_dir`` the folder of the page that shows it (links are relative to it).
    """
    if not files:
        return None
    hrefs: dict[str, str] = {}
    sizes: dict[str, tuple[int, int] | None] = {}
    for fmt in IMAGE_FORMATS:
        if fmt not in files:
            continue
        name = f"{stem}.{fmt}"
        writer.copy(files[fmt], "/".join((*rel_dir, name)))
        hrefs[fmt] = relative_href(*rel_dir[len(page_dir) :], name)
        sizes[fmt] = png_size(files[fmt]) if fmt == "png" else None
    shown = next((fmt for fmt in _DISPLAYABLE if fmt in hrefs), None)
    size = sizes.get(shown) if shown else None
    return {
        "kind": stem,
        "title": title,
        "alt": alt,
        "src": hrefs[shown] if shown else None,
        "width": size[0] if size else None,
        "height": size[1] if size else None,
        "downloads": [{"format": fmt.upper(), "href": hrefs[fmt]} for fmt in hrefs],
    }


def outcome_images(outcome: OutcomePage) -> dict[str, dict[str, Path]]:
    """``{"forest.png": p}`` -> ``{"forest": {"png": p}}``, rejecting unknown keys (a
    typo in the workflow should fail the build, not silently drop a figure)."""
    by_kind: dict[str, dict[str, Path]] = {}
    for key, path in outcome.images.items():
        kind, _, fmt = key.rpartition(".")
        if kind not in IMAGE_KINDS or fmt not in IMAGE_FORMATS:
            raise ValueError(
                f"outcome {outcome.name!r}: unknown image key {key!r}; expected "
                f"'<kind>.<format>' with kind in {IMAGE_KINDS} and format in {IMAGE_FORMATS}"
            )
        by_kind.setdefault(kind, {})[fmt] = Path(path)
    return by_kind


def _study_rows(result: Mapping[str, Any] | None) -> list[dict[str, str]]:
    """The forest plot's numbers as a table: the text alternative of the figure."""
    if result is None:
        return []
    is_ratio, decimals = is_ratio_measure(str(result.get("measure"))), effect_decimals(result)
    rows = []
    for study in result.get("studies") or []:
        weight = finite_number(study.get("weight"))
        estimable = study.get("estimable", True)
        bounds = (finite_number(study.get(key)) for key in ("estimate", "ci_low", "ci_high"))
        rows.append(
            {
                "study": str(study.get("study", "")),
                "effect": format_effect(*bounds, is_ratio, decimals)
                if estimable
                else NOT_ESTIMABLE,
                "weight": "" if weight is None or not estimable else format_weight(weight),
            }
        )
    return rows


def _outcome_view(
    writer: SiteWriter, review_id: str, outcome: OutcomePage, row: Mapping[str, Any]
) -> dict[str, Any]:
    images = outcome_images(outcome)
    figures = {}
    for kind in IMAGE_KINDS:
        figures[kind] = _figure(
            writer,
            images.get(kind, {}),
            (review_id, outcome.name),
            (review_id,),
            kind,
            _FIGURE_TITLES[kind],
            _alt(kind, outcome, row),
        )
    data_href = None
    if outcome.pooled:
        writer.json(f"{review_id}/{outcome.name}/pooled.json", dict(outcome.pooled))
        data_href = relative_href(outcome.name, "pooled.json")
    result = _result(outcome.pooled)
    heterogeneity = None
    if result is not None and finite_number(result.get("q")) is not None:
        heterogeneity = heterogeneity_line(result)
    return {
        "name": outcome.name,
        "label": outcome.label,
        "anchor": row["anchor"],
        "row": row,
        "forest": figures["forest"],
        "history": figures["history"],
        "monitoring": figures["sequential"],
        "sensitivity": [f for f in (figures["cumulative"], figures["leave_one_out"]) if f],
        "studies": _study_rows(result),
        "heterogeneity": heterogeneity,
        "prediction": None if result is None else prediction_interval(result),
        "restricted": _restricted(outcome.pooled),
        "data_href": data_href,
        **_beyond_pooling(outcome, figures),
    }


def _restricted(pooled: Mapping[str, Any]) -> str | None:
    """The analysis restricted by risk of bias, in words, naming the studies it leaves
    out (None when the review rates no risk of bias)."""
    from livingmeta.report.appraisal_view import restricted_text

    restricted = pooled.get("risk_of_bias")
    return restricted_text(restricted) if restricted else None


def _beyond_pooling(outcome: OutcomePage, figures: Mapping[str, Any]) -> dict[str, Any]:
    """The outcome's analyses beyond pooling (formatted) and their figures."""
    from livingmeta.beyond_pooling_view import beyond_pooling_view

    return {
        "beyond_pooling": beyond_pooling_view(outcome.pooled),
        "analysis_figures": [f for f in (figures["funnel"], figures["bubble"]) if f],
    }


def _identifier_links(study: StudyLink) -> list[dict[str, str | None]]:
    links: list[dict[str, str | None]] = []
    for pmid in study.pmids:
        links.append({"text": f"PMID {pmid}", "href": pubmed_url(pmid)})
    for doi in study.dois:
        href = doi_url(doi)
        text = f"doi:{DOI_PREFIX.sub('', str(doi).strip())}" if href else str(doi)
        links.append({"text": text, "href": href})
    for nct in study.nct_ids:
        links.append({"text": str(nct), "href": ctgov_url(nct)})
    return links


def _stale_view(entry: Mapping[str, Any]) -> dict[str, Any]:
    # The error (often a long URL) is kept out of the sentence and shown on request: the
    # reader needs to know *which* source is behind, the maintainer needs the message.
    return {
        "name": str(entry.get("search_id") or entry.get("source") or "a source"),
        "source": str(entry.get("source") or ""),
        "since": str(entry.get("since") or ""),
        "error": " ".join(str(entry.get("error") or "").split()),
    }


def _provenance_view(provenance: Mapping[str, Any]) -> list[dict[str, Any]]:
    rows = []
    for key, value in provenance.items():
        label = str(key).replace("_", " ")
        label = label[:1].upper() + label[1:]
        if isinstance(value, Mapping):
            text = ", ".join(f"{k} {v}" for k, v in value.items())
        elif isinstance(value, list | tuple):
            text = ", ".join(str(v) for v in value)
        else:
            text = "" if value is None else str(value)
        rows.append({"label": label, "value": text})
    return rows


def review_view(writer: SiteWriter, review: ReviewPage, portfolio: bool) -> dict[str, Any]:
    rid = review.id
    rows = [_estimate_row(o) for o in review.outcomes]
    outcomes = [
        _outcome_view(writer, rid, o, r) for o, r in zip(review.outcomes, rows, strict=True)
    ]

    prisma = None
    if review.prisma is not None:
        source = Path(review.prisma)
        files = {
            fmt: source.with_suffix(f".{fmt}")
            for fmt in IMAGE_FORMATS
            if source.with_suffix(f".{fmt}").is_file()
        }
        prisma = _figure(
            writer,
            files,
            (rid,),
            (rid,),
            "prisma",
            "PRISMA 2020 flow diagram",
            f"PRISMA 2020 flow diagram of {review.title}: records identified, screened, "
            "assessed for eligibility and included.",
        )

    report_href = None
    if review.report is not None:
        writer.copy(Path(review.report), f"{rid}/report.html")
        report_href = "report.html"

    provenance = _provenance_view(review.provenance)
    checksums = [
        {"label": o.label, "sha256": str((o.pooled.get("provenance") or {}).get("data_sha256"))}
        for o in review.outcomes
        if o.pooled and (o.pooled.get("provenance") or {}).get("data_sha256")
    ]
    return {
        "id": rid,
        "title": review.title,
        "question": review.question,
        "citation": review.citation,
        "updated": review.updated,
        "href": relative_href(rid, "index.html"),
        "portfolio_href": "../index.html" if portfolio else None,
        "css_href": "../site.css",
        "report_href": report_href,
        "stale": [_stale_view(s) for s in review.stale_sources],
        "estimates": rows,
        "outcomes": outcomes,
        "prisma": prisma,
        "studies": [
            {
                "label": s.label,
                "study_id": s.study_id,
                "year": "" if s.year is None else str(s.year),
                "links": _identifier_links(s),
            }
            for s in review.studies
        ],
        "provenance": provenance,
        "checksums": checksums,
        "appraisal": appraisal_view(writer, rid, review.appraisal),
    }


def appraisal_view(writer: SiteWriter, rid: str, files: Mapping[str, Any]) -> dict[str, Any]:
    """The review's summary of findings and characteristics tables (their packages'
    escaped HTML, marked safe), its descriptive outcomes (escaped by the template) and
    its risk-of-bias figures, copied into the site."""
    from markupsafe import Markup

    view: dict[str, Any] = {}
    for key in ("summary_of_findings", "characteristics"):
        path = files.get(key)
        text = Path(path).read_text(encoding="utf-8") if path and Path(path).is_file() else ""
        view[key] = Markup(text) if text.strip() else None
    figures = []
    for path in files.get("risk_of_bias", []):
        source = Path(path)
        if source.is_file():
            title = source.stem.replace("_", " ").capitalize()
            alt = f"Risk of bias: {title}."
            found = {fmt: source.with_suffix(f".{fmt}") for fmt in IMAGE_FORMATS}
            found = {fmt: p for fmt, p in found.items() if p.is_file()}
            figures.append(
                _figure(writer, found, (rid, "risk_of_bias"), (rid,), source.stem, title, alt)
            )
    view["risk_of_bias"] = figures
    view["descriptive"] = read_json(files.get("descriptive")).get("outcomes", [])
    return view
