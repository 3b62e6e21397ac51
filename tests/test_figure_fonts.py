"""Figures do not depend on the fonts a machine happens to have.

Each render runs in a fresh interpreter; the "hostile" one replaces matplotlib's list of
installed fonts with DejaVu Serif posing as every sans-serif family a figure could ask for
by name (DejaVu Sans, Arial, Liberation Sans, Helvetica). Any text drawn by family lookup
instead of from the bundled font file would change the bytes.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

RENDER = """
import dataclasses, hashlib, sys
from matplotlib.font_manager import fontManager
if sys.argv[1] == "hostile":
    serif = next(f for f in fontManager.ttflist if f.name == "DejaVu Serif")
    fontManager.ttflist = [
        dataclasses.replace(serif, name=name)
        for name in ("DejaVu Sans", "Arial", "Liberation Sans", "Helvetica", "sans-serif")
    ]
from livingmeta.plots import forest_plot
from livingmeta.plots.save import render
from livingmeta.stats import BinaryData, pool
data = BinaryData(
    ("Woodward 2019", "Chang 2018", "Baek 2016", "Peng 2020"),
    [21, 5, 3, 10], [66, 21, 24, 40], [29, 7, 12, 16], [66, 14, 31, 43],
    year=(2019, 2018, 2016, 2020),
)
fig = forest_plot(pool(data, measure="OR", method="MH", model="random"), title="Mortality")
for fmt in ("svg", "pdf"):
    print(fmt, hashlib.sha256(render(fig, fmt)).hexdigest())
"""


def _render(mode: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", RENDER, mode], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.mark.slow
def test_svg_and_pdf_bytes_do_not_depend_on_installed_fonts() -> None:
    normal, hostile = _render("normal"), _render("hostile")
    assert normal.count("\n") == 2
    assert normal == hostile


def test_a_configured_font_must_be_installed_and_can_be_reset() -> None:
    from livingmeta.plots import layout

    with pytest.raises(ValueError, match="not installed"):
        layout.use_font("No Such Font Family")
    layout.use_font("DejaVu Serif")  # bundled with matplotlib, so present everywhere
    try:
        assert layout.font_family() == "DejaVu Serif"
        assert layout.font(8.0).get_family() == ["DejaVu Serif"]
    finally:
        layout.use_font(None)
    assert layout.font_family() == "DejaVu Sans"
    assert layout.font(8.0).get_file().endswith("DejaVuSans.ttf")


def _embedded_fonts(pdf: bytes) -> list[bytes]:
    """The TrueType programs (``/FontFile2`` streams) a PDF embeds, decompressed."""
    import re
    import zlib

    fonts = []
    for number in re.findall(rb"/FontFile2 (\d+) 0 R", pdf):
        found = re.search(rb"\n" + number + rb" 0 obj\n<<(.*?)>>\nstream\n", pdf, re.S)
        assert found, f"font object {number!r} not found"
        length = int(re.search(rb"/Length (\d+)", found.group(1)).group(1))
        start = found.end()
        fonts.append(zlib.decompress(pdf[start : start + length]))
    return fonts


def test_pdf_fonts_are_embedded_without_layout_tables() -> None:
    """The embedded subset keeps the outlines and metrics a viewer draws with, not the
    layout tables (GSUB, GPOS, ...) whose subsetting took most of a PDF's time."""
    import io

    from fontTools.subset import Options
    from fontTools.ttLib import TTFont
    from matplotlib.figure import Figure

    from livingmeta.plots.save import LAYOUT_TABLES, render

    default = list(Options._drop_tables_default)
    text = "AV Wa τ² I² ≠ 0.45 [0.21, 0.98]"
    fig = Figure(figsize=(3, 1))
    fig.text(0.1, 0.5, text, fontweight="bold")
    fig.text(0.1, 0.2, text)
    fonts = [TTFont(io.BytesIO(data)) for data in _embedded_fonts(render(fig, "pdf"))]
    assert len(fonts) >= 2  # DejaVu Sans and DejaVu Sans Bold (and any fallback)
    for font in fonts:
        assert not set(LAYOUT_TABLES) & set(font.keys())
        assert {"glyf", "hmtx", "cmap"} <= set(font.keys())
    drawn = {ord(c) for c in text.replace(" ", "")}
    assert drawn <= set().union(*(font.getBestCmap() for font in fonts))
    assert Options._drop_tables_default == default  # restored for other users of fontTools


def test_pdfs_rendered_at_once_in_threads_are_all_lean_and_restore_the_defaults() -> None:
    import io
    from concurrent.futures import ThreadPoolExecutor

    from fontTools.subset import Options
    from fontTools.ttLib import TTFont
    from matplotlib.figure import Figure

    from livingmeta.plots.save import LAYOUT_TABLES, render

    default = list(Options._drop_tables_default)

    def pdf(n: int) -> bytes:
        fig = Figure(figsize=(2, 1))
        fig.text(0.1, 0.5, f"Study {n} AV Wa", fontweight="bold" if n % 2 else "normal")
        return render(fig, "pdf")

    with ThreadPoolExecutor(max_workers=4) as pool:
        pdfs = list(pool.map(pdf, range(8)))
    for data in pdfs:
        for font in _embedded_fonts(data):
            assert not set(LAYOUT_TABLES) & set(TTFont(io.BytesIO(font)).keys())
    assert Options._drop_tables_default == default
