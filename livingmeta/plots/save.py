"""Saving figures so that a rerun on unchanged data rewrites byte-identical files.

A living review is re-run whenever a search brings new studies; if the plots changed on
every run (timestamps in PDF/SVG/PNG metadata, random SVG ids), every rerun would show
spurious changes and defeat Snakemake's and git's change detection.
"""

from __future__ import annotations

import io
import os
import sys
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import matplotlib as mpl
from matplotlib.figure import Figure

from livingmeta.files import write_bytes

FORMATS = ("png", "svg", "pdf")

# What matplotlib would otherwise vary between runs or machines.
SAVE_RC = {
    "svg.hashsalt": "livingmeta",  # SVG element ids from a fixed salt, not a random one
    "svg.fonttype": "path",  # glyphs as paths: looks the same without the font installed
    "pdf.fonttype": 42,  # embedded TrueType, which journals' production systems accept
    "savefig.bbox": "standard",  # a user's "tight" would recrop the computed layout
    "savefig.transparent": False,
}

#: Font tables a PDF viewer never reads from an embedded TrueType font (text is placed
#: glyph by glyph, already kerned by matplotlib), dropped from the embedded subset: the
#: subsetter would otherwise decompile DejaVu's large layout tables for every PDF, which
#: took most of a figure's PDF time.
LAYOUT_TABLES = ("GSUB", "GPOS", "GDEF", "kern")

_FONT_SUBSET_LOCK = threading.Lock()

# Metadata keys set to None are left out of the file.
_METADATA: dict[str, dict[str, str | None]] = {
    "png": {"Software": None},
    "svg": {"Date": None, "Creator": None},
    "pdf": {"CreationDate": None, "ModDate": None, "Producer": None, "Creator": None},
}


def save_figure(
    fig: Figure,
    path_stem_or_paths: str | os.PathLike[str] | Sequence[str | os.PathLike[str]],
    formats: Iterable[str] = FORMATS,
    dpi: int = 200,
) -> list[Path]:
    """Write ``fig`` in each format, atomically and reproducibly, then close it.

    Parameters
    ----------
    fig
        The figure (from :func:`forest_plot` and friends, or any matplotlib figure).
    path_stem_or_paths
        A stem such as ``results/r/mortality/forest`` (one file per entry of
        ``formats``, the suffix appended), a single path with an image suffix (that
        file only), or a list of paths (e.g. Snakemake's ``output``; each file's
        suffix gives its format and ``formats`` is ignored).
    formats
        Formats written for a stem: any of ``png``, ``svg``, ``pdf``.
    dpi
        Resolution of raster output (PNG).

    Returns
    -------
    list of Path
        The files written.

    Notes
    -----
    Each file is rendered into memory and then moved into place (``atomic.write_bytes``),
    so a reader or an interrupted run never leaves a half-written image. Timestamps and
    software versions are left out of the metadata and SVG ids use a fixed salt, so the
    same figure gives the same bytes on every run.
    """
    targets = _targets(path_stem_or_paths, formats)
    try:
        with mpl.rc_context(SAVE_RC):
            for path, fmt in targets:
                write_bytes(path, render(fig, fmt, dpi))
    finally:
        _close(fig)
    return [path for path, _ in targets]


def render(fig: Figure, fmt: str, dpi: int = 200) -> bytes:
    """The figure's bytes in ``fmt`` with the reproducibility settings applied."""
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}; got {fmt!r}")
    buffer = io.BytesIO()
    with mpl.rc_context(SAVE_RC), _lean_font_subsets(fmt == "pdf"):
        fig.savefig(buffer, format=fmt, dpi=dpi, metadata=_METADATA[fmt], facecolor="white")
    return buffer.getvalue()


@contextmanager
def _lean_font_subsets(active: bool) -> Iterator[None]:
    """Leave :data:`LAYOUT_TABLES` out of the fonts matplotlib subsets while a PDF is
    written. matplotlib offers no option for it, so the subsetter's default list of
    dropped tables is extended for the duration (and left alone if fontTools renames it);
    one thread at a time, so that no two restore each other's list."""
    options = _font_subset_options() if active else None
    if not isinstance(getattr(options, "_drop_tables_default", None), list):
        yield
        return
    with _FONT_SUBSET_LOCK:
        default = options._drop_tables_default
        options._drop_tables_default = default + [t for t in LAYOUT_TABLES if t not in default]
        try:
            yield
        finally:
            options._drop_tables_default = default


def _font_subset_options() -> type | None:
    try:
        from fontTools.subset import Options
    except ImportError:  # matplotlib requires fontTools; an older one may not
        return None
    return Options


def _targets(
    spec: str | os.PathLike[str] | Sequence[str | os.PathLike[str]], formats: Iterable[str]
) -> list[tuple[Path, str]]:
    if isinstance(spec, str | os.PathLike):
        path = Path(spec)
        suffix = path.suffix.lower().lstrip(".")
        if suffix in FORMATS:
            return [(path, suffix)]
        # a stem: append (not replace) the suffix, so "forest.v2" stays "forest.v2.png"
        return [(Path(f"{path}.{fmt}"), _check(fmt)) for fmt in formats]
    out = []
    for item in spec:
        path = Path(item)
        out.append((path, _check(path.suffix.lower().lstrip("."))))
    return out


def _check(fmt: str) -> str:
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}; got {fmt!r}")
    return fmt


def _close(fig: Figure) -> None:
    """Release the figure. Ours are not registered with pyplot; a figure a caller made
    with pyplot is closed there, without importing pyplot (and choosing a backend) here."""
    pyplot = sys.modules.get("matplotlib.pyplot")
    if pyplot is not None:
        pyplot.close(fig)
    fig.clear()
