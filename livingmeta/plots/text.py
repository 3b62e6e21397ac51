"""Label text of plots: fitting study labels and notes into the space a figure has.

Numbers are formatted by :mod:`livingmeta.formatting`, shared with every other output.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable

from livingmeta.formatting import MINUS

__all__ = ["MINUS", "column_decimals", "ellipsize", "wrap"]

ELLIPSIS = "\N{HORIZONTAL ELLIPSIS}"

_TRAILING_YEAR = re.compile(r"^(?P<head>.*?)(?P<tail>[\s,]+\(?\d{4}[a-z]?\)?)$")


def column_decimals(values: list[float], cap: int = 2) -> int:
    """Decimals needed to show every value of a column as entered (at most ``cap``), so a
    column of means lines up on the decimal point."""
    needed = 0
    for v in values:
        if not math.isfinite(v):
            continue
        for d in range(cap + 1):
            if abs(round(v, d) - v) < 1e-9 * max(1.0, abs(v)):
                break
        needed = max(needed, d)
    return needed


def ellipsize(text: str, fits: Callable[[str], bool]) -> str:
    """Shorten ``text`` with an ellipsis until ``fits(text)``, keeping a trailing year.

    Study labels are "Author Year"; the year tells studies of one group apart, so the
    cut is made before it ("Very long consortium nam… 2019"), not at the end.
    """
    if fits(text):
        return text
    match = _TRAILING_YEAR.match(text)
    head, tail = (match["head"], match["tail"]) if match else (text, "")
    if tail and not fits(ELLIPSIS + tail):
        head, tail = text, ""
    lo, hi = 0, len(head)
    while lo < hi:  # longest prefix that fits
        mid = (lo + hi + 1) // 2
        if fits(head[:mid].rstrip() + ELLIPSIS + tail):
            lo = mid
        else:
            hi = mid - 1
    return head[:lo].rstrip() + ELLIPSIS + tail


def wrap(text: str, fits: Callable[[str], bool]) -> list[str]:
    """Greedy word wrap by a measured-width predicate (a single long word stays whole)."""
    lines: list[str] = []
    for word in text.split():
        if lines and fits(f"{lines[-1]} {word}"):
            lines[-1] = f"{lines[-1]} {word}"
        else:
            lines.append(word)
    return lines or [""]
