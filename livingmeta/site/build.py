"""Build the static results site of a portfolio of living reviews.

Why a static folder: readers of a living review (guideline panels, clinicians, the
review's own team) want the latest numbers and figures without installing anything,
and a living review is published by pushing files, not by running a server. So the
site is plain HTML and one stylesheet; every link between its pages and to its images
is *relative*, so the same folder works from ``file://``, from a zip, and from GitHub
Pages under any sub-path; nothing is loaded from elsewhere (no CDN fonts or scripts, no
JavaScript at all), so the pages read the same offline and leak no reader's visit.

What the builder needs comes in the small dataclasses of :mod:`.pages`, which the
workflow fills from its outputs (:func:`outcome_from_results` and :func:`collect_images`
read the standard ``results/<id>/<outcome>/`` folder). :func:`build_site` copies every
file a page refers to into the site folder (:mod:`.folder`), so the folder is
self-contained and can be uploaded as it is; :mod:`.views` prepares what each page
shows.

Layout of the site folder::

    index.html              portfolio index (several reviews) or a redirect (one review)
    site.css                the stylesheet
    .nojekyll               GitHub Pages: serve files as they are
    .livingmeta-site        marks the folder as a generated site (see build_site)
    <id>/index.html         one page per review
    <id>/report.html        the latest run report, when given
    <id>/prisma.{png,svg,pdf}
    <id>/<outcome>/{forest,history,cumulative,leave_one_out}.{png,svg,pdf}
    <id>/<outcome>/pooled.json

Typical use (a workflow rule's script)::

    from livingmeta.site import ReviewPage, StudyLink, build_site, outcome_from_results

    page = ReviewPage(
        id=review.id, title=review.title, question=review.spec.get("question"),
        citation=review.spec.get("citation"),
        outcomes=[outcome_from_results(f"results/{review.id}/{o.name}", o.name, o.label)
                  for o in review.outcomes],
        prisma=Path(f"results/{review.id}/prisma.png"),
        report=Path(f"results/{review.id}/report/latest.html"),
        studies=[StudyLink(...), ...], provenance={...}, stale_sources=report["stale"],
        updated="2026-11-25",
    )
    build_site([page, ...], "site")

Text from outside (titles, questions, study labels, error messages) is untrusted:
templates are rendered with autoescaping on, and outgoing links are built here only
from identifiers that match the PMID, DOI and NCT formats. Output is deterministic: the
same inputs give byte-identical files (no build time is written anywhere; the only
dates are those of the data), and every file is written atomically.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Sequence
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from livingmeta.site.folder import MARKER, MARKER_TEXT, SiteWriter, prepare_folder, prune_folder
from livingmeta.site.pages import ReviewPage
from livingmeta.site.views import outcome_images, review_view

TEMPLATE_DIR = Path(__file__).resolve().parent / "templates"
REPORT_TEMPLATE_DIR = Path(__file__).resolve().parents[1] / "report" / "templates"

# Review ids and outcome names become folder names: the config schema's pattern.
_SEGMENT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*$")


def _check_segment(value: str, what: str) -> str:
    if not isinstance(value, str) or not _SEGMENT.match(value):
        raise ValueError(
            f"{what} {value!r} cannot be used as a folder name "
            "(letters, digits, '_' and '-', not starting with '_' or '-')"
        )
    return value


def _environment() -> Environment:
    # autoescape=True for every template: their names end in .j2, which jinja2's
    # select_autoescape would not recognise as HTML.
    return Environment(
        # The report's templates too: the sections both show are written once.
        loader=FileSystemLoader([TEMPLATE_DIR, REPORT_TEMPLATE_DIR]),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def _duplicates(values: Sequence[str]) -> list[str]:
    return sorted({v for v in values if values.count(v) > 1})


def _validate(reviews: Sequence[ReviewPage]) -> None:
    """Check every input before the first file is written.

    Why: a build that stopped half-way would leave a site mixing two versions; checking
    names, image keys and the existence of every referenced file first means an invalid
    input leaves the published folder exactly as it was.
    """
    if not reviews:
        raise ValueError("build_site needs at least one review")
    ids = [r.id for r in reviews]
    for rid in ids:
        _check_segment(rid, "review id")
    if _duplicates(ids):
        raise ValueError(f"review id(s) listed twice: {_duplicates(ids)}")
    for review in reviews:
        rid = review.id
        names = [o.name for o in review.outcomes]
        for name in names:
            _check_segment(name, f"review {rid!r}: outcome name")
        if _duplicates(names):
            raise ValueError(f"review {rid!r}: outcome(s) listed twice: {_duplicates(names)}")
        for outcome in review.outcomes:
            try:  # published as pooled.json: must be strict JSON (no NaN, no objects)
                json.dumps(outcome.pooled, allow_nan=False)
            except (TypeError, ValueError) as exc:
                raise ValueError(
                    f"review {rid!r}, outcome {outcome.name!r}: pooled is not JSON: {exc}"
                ) from exc
            for files in outcome_images(outcome).values():
                for path in files.values():
                    if not path.is_file():
                        raise FileNotFoundError(
                            f"review {rid!r}, outcome {outcome.name!r}: image {path} not found"
                        )
        if review.prisma is not None and not Path(review.prisma).is_file():
            raise FileNotFoundError(f"review {rid!r}: PRISMA diagram {review.prisma} not found")
        if review.report is not None and not Path(review.report).is_file():
            raise FileNotFoundError(f"review {rid!r}: run report {review.report} not found")


def build_site(
    reviews: Sequence[ReviewPage],
    out_dir: str | os.PathLike[str],
    *,
    title: str = "Living systematic reviews",
) -> list[Path]:
    """Write the static site of ``reviews`` into ``out_dir``.

    Parameters
    ----------
    reviews
        The reviews, in the order the portfolio index lists them.
    out_dir
        The site folder. It must be empty, missing, or a site written earlier by this
        function (it holds a ``.livingmeta-site`` marker): files the build does not
        write are removed, so a withdrawn outcome or review does not stay online.
    title
        Heading of the portfolio index (when there is more than one review).

    Returns
    -------
    list[Path]
        Every file of the site, in the order written (the same on every build).

    Raises
    ------
    ValueError
        No review, a review id or outcome name listed twice or unusable as a folder
        name, or an unknown image key.
    FileNotFoundError
        A referenced image, diagram or report does not exist.
    FileExistsError
        ``out_dir`` holds files that are not an earlier site.
    """
    _validate(reviews)
    root = Path(out_dir)
    prepare_folder(root)
    writer = SiteWriter(root)
    env = _environment()
    portfolio = len(reviews) > 1

    writer.text(MARKER, MARKER_TEXT)
    writer.text(".nojekyll", "")
    writer.copy(TEMPLATE_DIR / "site.css", "site.css")

    views = []
    for review in reviews:
        view = review_view(writer, review, portfolio)
        views.append(view)
        html = env.get_template("review.html.j2").render(review=view, css_href=view["css_href"])
        writer.text(f"{review.id}/index.html", html)
    if portfolio:
        html = env.get_template("index.html.j2").render(
            title=title, reviews=views, css_href="site.css"
        )
    else:
        html = env.get_template("redirect.html.j2").render(review=views[0], css_href="site.css")
    writer.text("index.html", html)

    prune_folder(root, writer.written)
    return list(writer.written)
