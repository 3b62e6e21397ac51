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
