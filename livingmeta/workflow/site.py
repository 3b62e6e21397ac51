"""Rule of ``site.smk``: the static results site of the whole portfolio.

:func:`site_files` names, per review, every file a page shows; the rule takes its inputs
and its ``pages`` param from it, so the step reads exactly what the rule declares.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from pathlib import Path
from typing import Any

from livingmeta.config import Review
from livingmeta.files import read_json
from livingmeta.workflow.plot import analysis_figure_kinds

FIGURE_KINDS = ("forest", "history", "cumulative", "leave_one_out")
HISTORY_FORMATS = ("png", "svg")


def site_files(
    review: Review, plot_formats: Sequence[str], results: str = "results"
) -> dict[str, Any]:
    """The files of one review's page: results (``retrieval``, ``prisma``, ``report``,
    ``summary``, and per outcome ``pooled`` and ``figures``) and the review's
    ``registry`` and ``studies`` (for the links to each study's reports)."""
    root = f"{results}/{review.id}"
    outcomes = {}
    for o in review.outcomes:
        folder = f"{root}/{o.name}"
        kinds = FIGURE_KINDS + analysis_figure_kinds(review.spec, o.name)
        if review.sequential(o.name) is not None:
            kinds += ("sequential",)
        figures = [
            f"{folder}/{kind}.{ext}"
            for kind in kinds
            for ext in (HISTORY_FORMATS if kind in ("history", "sequential") else plot_formats)
        ]
        outcomes[o.name] = {"pooled": f"{folder}/pooled.json", "figures": figures}
    return {
        "retrieval": f"{root}/retrieval/report.json",
        "prisma": [f"{root}/prisma.png", f"{root}/prisma.svg"],
        "report": f"{root}/report/latest.html",
        "summary": f"{root}/summary.csv",
        "outcomes": outcomes,
        "appraisal": appraisal_files(review, root),
        "registry": str(review.files.registry),
        "studies": str(review.files.studies),
    }


def appraisal_files(review: Review, root: str) -> dict[str, Any]:
    """The review's summary-of-findings and characteristics tables (HTML), its
    descriptive outcomes (JSON) and its risk-of-bias figures (PNG), those it declares."""
    from livingmeta.workflow.risk_of_bias import figure_specs

    files: dict[str, Any] = {
        "risk_of_bias": [f"{root}/risk_of_bias/{s}.png" for s in figure_specs(review)]
    }
    if review.outcomes:
        files["summary_of_findings"] = f"{root}/summary_of_findings.html"
    if "characteristics" in review.spec or review.descriptive:
        files["characteristics"] = f"{root}/characteristics.html"
        files["descriptive"] = f"{root}/descriptive.json"
    return files


def result_inputs(pages: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """The result files of ``pages`` (by review id, from :func:`site_files`): the rule's
    inputs. The review's own files are params: the screening step appends to them."""
    inputs = []
    for files in pages.values():
        inputs += [files["retrieval"], *files["prisma"], files["report"], files["summary"]]
        for outcome in files["outcomes"].values():
            inputs += [outcome["pooled"], *outcome["figures"]]
        appraisal = files.get("appraisal", {})
        inputs += appraisal.get("risk_of_bias", [])
        inputs += [
            appraisal[k]
            for k in ("summary_of_findings", "characteristics", "descriptive")
            if k in appraisal
        ]
    return inputs


def build_site(
    reviews: Sequence[Review], *, pages: Mapping[str, Mapping[str, Any]], site: str | Path
) -> None:
    """Write the site of ``reviews`` into the folder ``site`` from the files in ``pages``
    (by review id, as :func:`site_files` gives them)."""
    from livingmeta.site import build_site as write_site

    write_site([_review_page(r, pages[r.id]) for r in reviews], site)


def _review_page(review: Review, files: Mapping[str, Any]) -> Any:
    from livingmeta.files import ANALYSIS_SOFTWARE, software_versions
    from livingmeta.site import ReviewPage

    retrieval = read_json(files["retrieval"])
    prisma, report = Path(files["prisma"][0]), Path(files["report"])
    return ReviewPage(
        id=review.id,
        title=review.title,
        question=review.spec.get("question"),
        citation=review.spec.get("citation"),
        outcomes=[
            _outcome_page(o.name, o.label, files["outcomes"][o.name]) for o in review.outcomes
        ],
        prisma=prisma if prisma.exists() else None,
        report=report if report.exists() else None,
        studies=_study_links(files["studies"], files["registry"]),
        provenance={
            "run": retrieval.get("run_id"),
            "software": software_versions(*ANALYSIS_SOFTWARE),
        },
        stale_sources=retrieval.get("stale", []),
        appraisal=files.get("appraisal", {}),
        updated=str(retrieval.get("run_id", ""))[:10] or date.today().isoformat(),
    )


def _outcome_page(name: str, label: str, files: Mapping[str, Any]) -> Any:
    """An outcome's page from its ``pooled.json`` (empty until it was pooled) and the
    figures that exist, in the site's order of kinds and formats."""
    from livingmeta.site import OutcomePage
    from livingmeta.site.pages import IMAGE_FORMATS, IMAGE_KINDS

    present = {Path(f).name: Path(f) for f in files["figures"] if Path(f).is_file()}
    images = {
        f"{kind}.{fmt}": present[f"{kind}.{fmt}"]
        for kind in IMAGE_KINDS
        for fmt in IMAGE_FORMATS
        if f"{kind}.{fmt}" in present
    }
    return OutcomePage(name, label, read_json(files["pooled"]), images)


def _study_links(studies: str | Path, registry: str | Path) -> list[Any]:
    """Each included study with the PubMed, DOI and trial-registry ids of its reports."""
    from livingmeta.retrieval.registry import Registry
    from livingmeta.screening.studies import read_studies
    from livingmeta.site import StudyLink

    records_of = Registry.load(registry)
    links = []
    for study in read_studies(studies).to_dict("records"):
        records = []
        for rid in filter(None, (r.strip() for r in study["record_ids"].split(";"))):
            try:
                records.append(records_of.entry(rid).record)
            except KeyError:
                continue
        links.append(
            StudyLink(
                study["study_id"],
                study.get("study_label") or study["study_id"],
                study.get("year") or None,
                tuple(r.pmid for r in records if r.pmid),
                tuple(r.doi for r in records if r.doi),
                tuple(n for r in records for n in r.nct_ids),
            )
        )
    return links
