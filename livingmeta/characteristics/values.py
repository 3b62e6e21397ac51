"""One extracted characteristic value, and how papers print it.

Numbers are kept as the text the paper printed ("8 (1.75)" stays "8 (1.75)", "36"
stays "36"): a characteristic is reported, not computed, and re-rounding it would change
what the reader can check against the source. Only a percentage the paper did not give is
computed, with one decimal.
"""

from __future__ import annotations

from dataclasses import dataclass

from livingmeta.formatting import minus

KIND_LABELS = {
    "mean_sd": "mean (SD)",
    "median_iqr": "median (IQR)",
    "median_range": "median (range)",
    "n_of_N": "n/N (%)",
    "number": "number",
    "text": "text",
    "choice": "choice",
}
#: The number columns each kind needs (``median_iqr`` needs low and high, or spread).
NEEDS = {
    "mean_sd": ("value", "spread"),
    "median_iqr": ("value",),
    "median_range": ("value", "low", "high"),
    "n_of_N": ("value", "total"),
    "number": ("value",),
    "text": (),
    "choice": (),
}
NUMBER_COLUMNS = ("value", "spread", "low", "high", "total", "percent")


@dataclass(frozen=True)
class Value:
    """One row of ``characteristics.csv``, validated (numbers as the paper printed them).

    ``arm`` is empty for a study-level field, or for a per-arm field whose value holds
    for every arm (printed across the arm columns). ``reported`` False means the study
    does not report it; ``source`` then says where that was checked.
    """

    study_id: str
    field: str
    kind: str
    arm: str = ""
    reported: bool = True
    value: str = ""
    spread: str = ""
    low: str = ""
    high: str = ""
    total: str = ""
    percent: str = ""
    text: str = ""
    footnote: str = ""
    source: str = ""
    approved: bool = False
    extracted: bool = True
    row: int | None = None

    def number(self) -> float | None:
        """The central value as a number (None for text and not reported)."""
        try:
            return float(self.value) if self.reported and self.value else None
        except ValueError:
            return None

    def proportion(self) -> float | None:
        """``value / total`` of an ``n_of_N`` value, in percent (None otherwise)."""
        if self.kind != "n_of_N" or not self.reported:
            return None
        return 100.0 * float(self.value) / float(self.total)


def _num(text: str) -> str:
    """A number as printed, with the typographic minus of every other output."""
    return minus(text)


def _span(low: str, high: str) -> str:
    """``4-26``; ``−2 to 5`` when a bound is negative (a hyphen would read as a minus)."""
    if low.startswith("-") or high.startswith("-"):
        return f"{_num(low)} to {_num(high)}"
    return f"{low}-{high}"


def percent_text(value: Value) -> str:
    """The percentage of an ``n_of_N`` value: as reported, else computed to one decimal."""
    if value.percent:
        return f"{value.percent}%"
    share = value.proportion()
    return f"{share:.1f}%" if share is not None else ""


def format_value(value: Value) -> str:
    """The cell text of a reported value, as papers print it.

    Examples
    --------
    >>> format_value(Value("s", "age", "mean_sd", value="70", spread="16.9"))
    '70 (16.9)'
    >>> format_value(Value("s", "nihss", "median_range", value="16", low="4", high="26"))
    '16 (4-26)'
    >>> format_value(Value("s", "ivt", "n_of_N", value="4", total="23"))
    '4/23 (17.4%)'
    """
    kind = value.kind
    if kind in ("text", "choice"):
        return value.text
    if kind == "mean_sd":
        return f"{_num(value.value)} ({value.spread})"
    if kind in ("median_iqr", "median_range"):
        spread = _span(value.low, value.high) if value.low else value.spread
        return f"{_num(value.value)} ({spread})"
    if kind == "n_of_N":
        return f"{value.value}/{value.total} ({percent_text(value)})"
    return _num(value.value)
