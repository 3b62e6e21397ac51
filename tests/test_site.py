"""The static results site: pages, links, copied files, escaping, determinism, and a real
headless browser opening the pages from ``file://``.

The unit tests parse the generated HTML with the standard library and check what a reader
(or GitHub Pages) depends on: every relative link and image resolves to a file inside the
site folder, nothing is loaded from elsewhere, and text from outside is escaped. The
browser test (marker ``browser``) opens the pages in headless Chromium and checks that
every image decodes and nothing is logged to the console. It is skipped where Chromium is
not installed, except in CI (``CI`` set), where a missing browser is a failure.
"""

from __future__ import annotations

import json
import os
import shutil
import struct
import tempfile
import time
import zlib
from html.parser import HTMLParser
from itertools import pairwise
from pathlib import Path
from urllib.parse import unquote, urlsplit
from urllib.request import url2pathname

import pytest

from livingmeta.links import ctgov_url, doi_url, pubmed_url
from livingmeta.site import (
    OutcomePage,
    ReviewPage,
    StudyLink,
    build_site,
    collect_images,
    outcome_from_results,
)
from livingmeta.site.folder import MARKER
from livingmeta.stats import BinaryData, pool

EVIL = '<script>alert("x")</script> & <b>bold</b>'
EXTERNAL_HOSTS = {"pubmed.ncbi.nlm.nih.gov", "doi.org", "clinicaltrials.gov"}


# ---------------------------------------------------------------------- inputs


def png_bytes(width: int, height: int, rgb: tuple[int, int, int] = (31, 78, 140)) -> bytes:
    """A valid, decodable PNG of one colour (no imaging library needed)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    raw = b"".join(b"\x00" + bytes(rgb) * width for _ in range(height))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


def svg_text(label: str) -> str:
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" width="120" height="40" viewBox="0 0 120 40">'
        f'<rect width="120" height="40" fill="#eee"/><text x="5" y="25">{label}</text></svg>\n'
    )


def write_figure(
    folder: Path, kind: str, formats: tuple[str, ...] = ("png", "svg", "pdf")
) -> dict[str, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    out = {}
    for fmt in formats:
        path = folder / f"{kind}.{fmt}"
        if fmt == "png":
            path.write_bytes(png_bytes(40 + len(kind), 20))
        elif fmt == "svg":
            path.write_text(svg_text(kind), encoding="utf-8")
        else:
            path.write_bytes(b"%PDF-1.4\n% " + kind.encode() + b"\n%%EOF\n")
        out[f"{kind}.{fmt}"] = path
    return out


def pooled_json(name: str, label: str) -> dict:
    """A real pooled.json-like dict: a pooled result plus the workflow's extra keys."""
    data = BinaryData(
        ("Baracchini 2017", "Chang 2018", "Peng 2019"),
        events_treat=[1, 6, 21],
        total_treat=[23, 48, 66],
        events_ctrl=[9, 19, 29],
        total_ctrl=[23, 100, 66],
    )
    result = pool(data, "OR", method="MH", model="random").to_dict()
    return {
        "review": "demo",
        "outcome": {
            "name": name,
            "label": label,
            "measure": "OR",
            "method": "MH",
            "model": "random",
        },
        "result": result,
        "participants": 326,
        "provenance": {"data_sha256": "ab" * 32, "livingmeta": "0.1.0", "python": "3.11.7"},
    }


@pytest.fixture
def inputs(tmp_path: Path) -> Path:
    return tmp_path / "inputs"


def make_review(
    inputs: Path,
    review_id: str = "demo",
    title: str = "Stenting after failed thrombectomy",
    **extra,
) -> ReviewPage:
    """A review with two outcomes (one with every figure, one with only a forest SVG), a
    third outcome not pooled yet, a PRISMA diagram, a run report and included studies."""
    base = inputs / review_id
    images = {}
    for kind in ("forest", "history", "cumulative", "leave_one_out"):
        images.update(
            write_figure(
                base / "mortality",
                kind,
                ("png", "svg") if kind == "history" else ("png", "svg", "pdf"),
            )
        )
    outcomes = [
        OutcomePage(
            "mortality",
            "Mortality at 90 days",
            pooled_json("mortality", "Mortality at 90 days"),
            images,
        ),
        OutcomePage(
            "sich",
            "Symptomatic haemorrhage",
            pooled_json("sich", "Symptomatic haemorrhage"),
            write_figure(base / "sich", "forest", ("svg",)),
        ),
        OutcomePage("new_outcome", "An outcome without data yet"),
    ]
    prisma = write_figure(base, "prisma")["prisma.png"]
    report = base / "report" / "latest.html"
    report.parent.mkdir(parents=True, exist_ok=True)
    report.write_text(
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>Run report</title></head>"
        "<body><h1>Run report</h1></body></html>\n",
        encoding="utf-8",
    )
    fields = {
        "question": "Does rescue stenting improve outcomes?",
        "citation": "Premat K, et al. Neuroradiology 2020;62(5):629-637.",
        "outcomes": outcomes,
        "prisma": prisma,
        "report": report,
        "studies": [
            StudyLink(
                "peng2019",
                "Peng 2019",
                2019,
                pmids=["31446428"],
                dois=["https://doi.org/10.1136/neurintsurg-2019-015154"],
                nct_ids=["nct01234567"],
            ),
            StudyLink("chang2018", "Chang 2018", 2018),
        ],
        "provenance": {
            "run_id": "2026-11-25T091853Z",
            "run_finished": "2026-11-25T09:18:53Z",
            "software": {"livingmeta": "0.1.0", "python": "3.11.7"},
        },
        "stale_sources": [
            {
                "search_id": "ctgov_demo",
                "source": "ctgov",
                "since": "2026-11-18",
                "error": "ctgov: connection refused " + "x" * 300,
            }
        ],
        "updated": "2026-11-25",
    }
    fields.update(extra)
    return ReviewPage(id=review_id, title=title, **fields)


# ---------------------------------------------------------------------- HTML inspection


class Page(HTMLParser):
    """Collects what the checks need from one page."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.links: list[str] = []  # href of <a>
        self.resources: list[str] = []  # src, <link href>: loaded with the page
        self.ids: set[str] = set()
        self.images: list[dict[str, str | None]] = []
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        self.tags.append((tag, a))
        if a.get("id"):
            self.ids.add(a["id"])
        if tag == "a" and a.get("href") is not None:
            self.links.append(a["href"])
        if tag == "link" and a.get("href"):
            self.resources.append(a["href"])
        if a.get("src"):
            self.resources.append(a["src"])
        if tag == "img":
            self.images.append(a)

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def parse(path: Path) -> Page:
    page = Page()
    page.feed(path.read_text(encoding="utf-8"))
    return page


def html_files(site: Path) -> list[Path]:
    return sorted(site.rglob("*.html"))


def resolve(site: Path, page: Path, url: str) -> Path:
    """The file a relative URL of ``page`` points to; asserts it stays inside the site."""
    parts = urlsplit(url)
    assert not parts.scheme and not parts.netloc, url
    target = (page.parent / unquote(parts.path)).resolve()
    assert target.is_relative_to(site.resolve()), f"{page}: {url} leaves the site folder"
    return target


# ---------------------------------------------------------------------- unit tests


def test_single_review_site_has_pages_and_copied_files(inputs: Path, tmp_path: Path) -> None:
    review = make_review(inputs)
    site = tmp_path / "site"
    written = build_site([review], site)

    assert all(p.is_file() and p.is_relative_to(site) for p in written)
    assert {p.relative_to(site).as_posix() for p in written} == {
        p.relative_to(site).as_posix() for p in site.rglob("*") if p.is_file()
    }
    for rel in (
        "index.html",
        "site.css",
        ".nojekyll",
        MARKER,
        "demo/index.html",
        "demo/report.html",
        "demo/prisma.png",
        "demo/prisma.svg",
        "demo/prisma.pdf",
        "demo/sich/forest.svg",
        "demo/mortality/pooled.json",
        "demo/sich/pooled.json",
    ):
        assert (site / rel).is_file(), rel
    for key, source in review.outcomes[0].images.items():
        assert (site / "demo/mortality" / key).read_bytes() == source.read_bytes()
    assert (site / "demo/report.html").read_bytes() == review.report.read_bytes()
    assert not (site / "demo/new_outcome").exists()  # nothing to copy for it

    # One review: the top page sends the reader straight to it (and links to it).
    top = (site / "index.html").read_text(encoding="utf-8")
    assert '<meta http-equiv="refresh" content="0; url=demo/index.html">' in top
    assert 'href="demo/index.html"' in top


def test_review_page_content(inputs: Path, tmp_path: Path) -> None:
    site = tmp_path / "site"
    build_site([make_review(inputs)], site)
    path = site / "demo/index.html"
    html = path.read_text(encoding="utf-8")
    page = parse(path)
    text = " ".join(" ".join(page.text).split())

    assert "Does rescue stenting improve outcomes?" in text
    assert "Premat K, et al." in text
    # Pooled estimates table: effect [95% CI], P, I², studies, participants.
    result = pooled_json("mortality", "x")["result"]
    effect = f"{result['estimate']:.2f} [{result['ci_low']:.2f}, {result['ci_high']:.2f}]"
    assert effect in text and f"{result['i2']:.0f}%" in text
    assert "M-H, Random, 95% CI" in text and "326" in text
    assert "Not pooled yet" in text
    assert (
        '<th scope="col">Effect [95% CI]</th><th scope="col">P</th><th scope="col">I²</th>' in html
    )
    assert '<th scope="col">Studies</th><th scope="col">Participants</th>' in html
    # Figures: PNG shown when there is one, else the SVG; SVG and PDF offered for download.
    srcs = [img["src"] for img in page.images]
    assert srcs == [
        "mortality/forest.png",
        "mortality/history.png",
        "mortality/cumulative.png",
        "mortality/leave_one_out.png",
        "sich/forest.svg",
        "prisma.png",
    ]
    for href in (
        "mortality/forest.svg",
        "mortality/forest.pdf",
        "prisma.svg",
        "prisma.pdf",
        "report.html",
        "mortality/pooled.json",
    ):
        assert href in page.links, href
    assert all(img["alt"] and len(img["alt"]) > 20 for img in page.images)
    forest = page.images[0]
    assert (forest["width"], forest["height"]) == ("46", "20")  # from the PNG header
    assert "Mortality at 90 days" in forest["alt"] and effect in forest["alt"]
    # Included studies, linked only through their identifiers.
    assert "https://pubmed.ncbi.nlm.nih.gov/31446428/" in page.links
    assert "https://doi.org/10.1136/neurintsurg-2019-015154" in page.links
    assert "https://clinicaltrials.gov/study/NCT01234567" in page.links
    assert "Chang 2018" in text and "none recorded" in text
    # Stale sources and provenance.
    assert "Searches not up to date" in text and "ctgov_demo" in text and "2026-11-18" in text
    assert "2026-11-25T091853Z" in text and "livingmeta 0.1.0, python 3.11.7" in text
    assert "ab" * 32 in text
    assert 'lang="en"' in html and 'name="viewport"' in html
    # Headings in order: one h1, sections h2, outcomes h3.
    levels = [int(t[1]) for t, _ in page.tags if t in ("h1", "h2", "h3", "h4")]
    assert levels[0] == 1 and levels.count(1) == 1
    assert all(b - a <= 1 for a, b in pairwise(levels))


def test_relative_links_resolve_inside_the_site(inputs: Path, tmp_path: Path) -> None:
    site = tmp_path / "site"
    reviews = [make_review(inputs, "demo"), make_review(inputs, "other", "Another review")]
    build_site(reviews, site)
    checked = 0
    for path in html_files(site):
        page = parse(path)
        for url in page.resources:
            # Nothing is loaded from elsewhere: no CDN, no absolute or protocol-relative URL.
            assert not urlsplit(url).scheme and not url.startswith("//"), f"{path}: loads {url}"
            assert resolve(site, path, url).is_file(), f"{path}: {url}"
            checked += 1
        for url in page.links:
            parts = urlsplit(url)
            if parts.scheme:
                assert parts.scheme == "https" and parts.netloc in EXTERNAL_HOSTS, url
                continue
            assert not url.startswith("/"), f"{path}: root-relative {url} breaks on GitHub Pages"
            if not parts.path:
                assert parts.fragment in page.ids, f"{path}: no element with id {parts.fragment}"
                continue
            target = resolve(site, path, url)
            assert target.is_file(), f"{path}: {url}"
            if parts.fragment:
                assert parts.fragment in parse(target).ids
            checked += 1
    assert checked > 40


def test_text_is_escaped(inputs: Path, tmp_path: Path) -> None:
    review = make_review(
        inputs,
        title=EVIL,
        question=EVIL,
        citation=EVIL,
        studies=[
            StudyLink(
                "s1", EVIL, 2020, pmids=['1"><script>x</script>'], dois=["javascript:alert(1)"]
            )
        ],
        stale_sources=[{"search_id": EVIL, "source": "pubmed", "error": EVIL}],
        provenance={"run_id": EVIL},
    )
    review = ReviewPage(
        **{**review.__dict__, "outcomes": [OutcomePage("o1", EVIL, pooled_json("o1", EVIL))]}
    )
    site = tmp_path / "site"
    build_site([review, make_review(inputs, "other")], site)
    for path in html_files(site):
        html = path.read_text(encoding="utf-8")
        assert "<script" not in html.lower(), path
        assert "<b>" not in html and "javascript:" not in [a for a in parse(path).links]
    html = (site / "demo/index.html").read_text(encoding="utf-8")
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; &lt;b&gt;bold&lt;/b&gt;" in html
    assert "<title>&lt;script&gt;" in html
    # Untrusted identifiers are shown, never linked.
    page = parse(site / "demo/index.html")
    assert not [u for u in page.links if "pubmed" in u or "doi.org" in u]


def test_portfolio_index_lists_every_review(inputs: Path, tmp_path: Path) -> None:
    site = tmp_path / "site"
    ids = ["alpha", "beta", "gamma"]
    build_site(
        [make_review(inputs, i, f"Review {i}") for i in ids], site, title="Our living reviews"
    )
    index = parse(site / "index.html")
    text = " ".join(index.text)
    assert "Our living reviews" in text
    assert [u for u in index.links if u.endswith("/index.html")] == [f"{i}/index.html" for i in ids]
    assert not any(t == "meta" and a.get("http-equiv") for t, a in index.tags)  # no redirect
    for i in ids:
        assert f"Review {i}" in text
        review = parse(site / i / "index.html")
        assert "../index.html" in review.links  # back to the portfolio


def test_build_is_deterministic_and_idempotent(inputs: Path, tmp_path: Path) -> None:
    reviews = [make_review(inputs, "demo"), make_review(inputs, "other", "Other")]
    first = build_site(reviews, tmp_path / "a")
    second = build_site(reviews, tmp_path / "b")
    rel = [p.relative_to(tmp_path / "a") for p in first]
    assert rel == [p.relative_to(tmp_path / "b") for p in second]
    for r in rel:
        assert (tmp_path / "a" / r).read_bytes() == (tmp_path / "b" / r).read_bytes(), r
    # Rebuilding in place changes nothing and leaves no temporary files behind.
    before = {p: p.read_bytes() for p in (tmp_path / "a").rglob("*") if p.is_file()}
    assert build_site(reviews, tmp_path / "a") == first
    assert {p: p.read_bytes() for p in (tmp_path / "a").rglob("*") if p.is_file()} == before


def test_rebuild_prunes_what_is_gone_and_refuses_foreign_folders(
    inputs: Path, tmp_path: Path
) -> None:
    site = tmp_path / "site"
    full = make_review(inputs)
    build_site([full, make_review(inputs, "other")], site)
    assert (site / "demo/sich/forest.svg").is_file() and (site / "other/index.html").is_file()
    smaller = ReviewPage(
        **{**full.__dict__, "outcomes": full.outcomes[:1], "prisma": None, "report": None}
    )
    build_site([smaller], site)
    assert not (site / "demo/sich").exists() and not (site / "other").exists()
    assert not (site / "demo/prisma.png").exists() and not (site / "demo/report.html").exists()
    assert "report.html" not in parse(site / "demo/index.html").links

    foreign = tmp_path / "results"
    foreign.mkdir()
    (foreign / "keep.txt").write_text("precious")
    with pytest.raises(FileExistsError, match="not written by build_site"):
        build_site([smaller], foreign)
    assert (foreign / "keep.txt").read_text() == "precious" and len(list(foreign.iterdir())) == 1


@pytest.mark.parametrize(
    ("change", "error", "match"),
    [
        ({"id": "../escape"}, ValueError, "folder name"),
        ({"outcomes": [OutcomePage("a/b", "x")]}, ValueError, "folder name"),
        ({"outcomes": [OutcomePage("a", "x"), OutcomePage("a", "y")]}, ValueError, "twice"),
        (
            {"outcomes": [OutcomePage("a", "x", images={"radial.png": Path("f.png")})]},
            ValueError,
            "unknown image key",
        ),
        (
            {
                "outcomes": [
                    OutcomePage("a", "x", images={"forest.png": Path("/nonexistent/forest.png")})
                ]
            },
            FileNotFoundError,
            "forest.png",
        ),
        (
            {"outcomes": [OutcomePage("a", "x", {"result": {"estimate": float("nan")}})]},
            ValueError,
            "not JSON",
        ),
        ({"prisma": Path("/nonexistent/prisma.png")}, FileNotFoundError, "PRISMA"),
        ({"report": Path("/nonexistent/latest.html")}, FileNotFoundError, "latest.html"),
    ],
)
def test_invalid_inputs_fail_before_publishing(
    inputs: Path, tmp_path: Path, change: dict, error: type, match: str
) -> None:
    site = tmp_path / "site"
    build_site([make_review(inputs, "other")], site)
    before = {p: p.read_bytes() for p in site.rglob("*") if p.is_file()}
    review = ReviewPage(**{**make_review(inputs).__dict__, **change})
    with pytest.raises(error, match=match):
        build_site([make_review(inputs, "other"), review], site)
    # Checked before anything was written: the published site is untouched.
    assert {p: p.read_bytes() for p in site.rglob("*") if p.is_file()} == before


def test_duplicate_or_missing_reviews_are_refused(inputs: Path, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="at least one"):
        build_site([], tmp_path / "site")
    with pytest.raises(ValueError, match="twice"):
        build_site([make_review(inputs), make_review(inputs)], tmp_path / "site")


def test_identifier_links() -> None:
    assert pubmed_url(" 31446428 ") == "https://pubmed.ncbi.nlm.nih.gov/31446428/"
    assert pubmed_url("3144x") is None and pubmed_url("") is None
    assert doi_url("doi:10.1007/s00234-020-02360-9") == "https://doi.org/10.1007/s00234-020-02360-9"
    assert doi_url("https://dx.doi.org/10.1000/a<b>") == "https://doi.org/10.1000/a%3Cb%3E"
    assert doi_url("javascript:alert(1)") is None and doi_url("10.1/x") is None
    assert ctgov_url("nct01234567") == "https://clinicaltrials.gov/study/NCT01234567"
    assert ctgov_url("NCT123") is None


def test_outcome_from_results_reads_the_workflow_folder(tmp_path: Path) -> None:
    folder = tmp_path / "results" / "demo" / "mortality"
    write_figure(folder, "forest")
    write_figure(folder, "history", ("png",))
    (folder / "notes.txt").write_text("ignored")
    (folder / "pooled.json").write_text(
        json.dumps(pooled_json("mortality", "Mortality at 90 days"))
    )
    outcome = outcome_from_results(folder)
    assert (outcome.name, outcome.label) == ("mortality", "Mortality at 90 days")
    assert sorted(outcome.images) == ["forest.pdf", "forest.png", "forest.svg", "history.png"]
    assert collect_images(folder) == dict(outcome.images)
    empty = outcome_from_results(tmp_path / "results" / "demo" / "new", label="New")
    assert (empty.name, empty.label, dict(empty.pooled), dict(empty.images)) == (
        "new",
        "New",
        {},
        {},
    )


# ---------------------------------------------------------------------- headless browser


def _chromium() -> tuple[str, str] | None:
    browser = next(
        (
            shutil.which(n)
            for n in ("chromium", "chromium-browser", "google-chrome")
            if shutil.which(n)
        ),
        None,
    )
    driver = shutil.which("chromedriver")
    return (browser, driver) if browser and driver else None


@pytest.fixture(scope="module")
def browser():
    """Headless Chromium through Selenium and the system chromedriver (no download).

    Skipped when there is no browser, except in CI: there the browser test must run, so a
    missing browser or driver fails it instead of hiding behind a skip.
    """
    found = _chromium()
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        webdriver = None
    if found is None or webdriver is None:
        why = (
            "selenium is not installed"
            if webdriver is None
            else "chromium and chromedriver are not both installed"
        )
        if os.environ.get("CI"):
            pytest.fail(f"CI is set but {why}: the browser test must run in CI")
        pytest.skip(why)
    binary, driver_path = found
    profile = tempfile.mkdtemp(prefix="livingmeta-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = binary
    # Offline and quiet: these flags stop Chromium from calling home during the test.
    for arg in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        f"--user-data-dir={profile}",
        "--window-size=1200,2000",
    ):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(executable_path=driver_path), options=options)
    driver.set_page_load_timeout(PAGE_WAIT)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


#: Seconds a page may take to load or redirect: generous, a loaded CI machine is slow.
PAGE_WAIT = 60


def _open(driver, url: str) -> None:
    driver.get(url)
    deadline = time.monotonic() + PAGE_WAIT
    while driver.execute_script("return document.readyState") != "complete":
        assert time.monotonic() < deadline, f"{url} did not finish loading"
        time.sleep(0.05)


def _check_page(driver, site: Path, path: Path) -> int:
    """Open one page from file:// and check images, console and links; the number of
    relative links checked."""
    driver.get_log("browser")  # drop messages of earlier pages
    _open(driver, path.resolve().as_uri())
    assert driver.title.strip(), f"{path}: no title"
    images = driver.execute_script(
        "return Array.from(document.images).map(i => [i.getAttribute('src'), i.complete, i.naturalWidth, i.alt]);"
    )
    for src, complete, width, alt in images:
        assert complete and width > 0, f"{path}: image {src} did not load"
        assert alt, f"{path}: image {src} has no alt text"
    # Everything the page loaded came from the site folder (no network request at all).
    loaded = driver.execute_script(
        "return performance.getEntriesByType('resource').map(e => e.name);"
    )
    assert all(u.startswith("file://") for u in loaded), loaded
    errors = [e for e in driver.get_log("browser") if e["level"] in ("SEVERE", "WARNING")]
    assert not errors, f"{path}: console: {errors}"
    links = driver.execute_script(
        "return Array.from(document.querySelectorAll('a[href]')).map(a => [a.getAttribute('href'), a.href]);"
    )
    relative = 0
    for raw, absolute in links:
        if urlsplit(raw).scheme:
            continue
        parts = urlsplit(absolute)
        assert parts.scheme == "file", f"{path}: {raw} -> {absolute}"
        target = Path(url2pathname(parts.path))
        assert target.is_file() and target.resolve().is_relative_to(site.resolve()), (
            f"{path}: {raw}"
        )
        relative += 1
    return relative


@pytest.mark.browser
def test_site_in_headless_chromium(browser, inputs: Path, tmp_path: Path) -> None:
    site = tmp_path / "portfolio"
    build_site([make_review(inputs, "demo"), make_review(inputs, "other", "Other review")], site)
    relative = 0
    for path in html_files(site):
        relative += _check_page(browser, site, path)
    assert relative > 40

    # One review: index.html redirects to the review's page, which then passes the checks.
    single = tmp_path / "single"
    build_site([make_review(inputs, "demo")], single)
    _open(browser, (single / "index.html").resolve().as_uri())
    deadline = time.monotonic() + PAGE_WAIT
    while not browser.current_url.endswith("/demo/index.html"):
        assert time.monotonic() < deadline, f"no redirect: {browser.current_url}"
        time.sleep(0.05)
    assert browser.find_element("tag name", "h1").text == "Stenting after failed thrombectomy"
    assert _check_page(browser, single, single / "demo" / "index.html") > 10

    # The details (table, sensitivity plots) open and their images are loaded.
    _open(browser, (single / "demo" / "index.html").resolve().as_uri())
    shown = browser.execute_script(
        "document.querySelectorAll('details').forEach(d => d.open = true);"
        "return Array.from(document.querySelectorAll('details img')).map(i => i.getBoundingClientRect().width);"
    )
    assert shown and all(w > 0 for w in shown)
    # Readable on a phone: nothing but the scrollable tables is wider than the screen.
    browser.set_window_size(390, 844)
    _open(browser, (single / "demo" / "index.html").resolve().as_uri())
    overflow = browser.execute_script(
        "return document.documentElement.scrollWidth - document.documentElement.clientWidth;"
    )
    assert overflow <= 0, f"page is {overflow}px wider than a phone screen"
    browser.set_window_size(1200, 2000)
