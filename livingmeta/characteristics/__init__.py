"""Characteristics of included studies: declared fields, extracted values, the table.

Why a package of its own: a review's Table 1 (who was studied, how) is data extracted
and approved like outcome data, not prose. Fields are declared in config (name, label,
kind, study-level or per arm); values are extracted into ``reviews/<id>/characteristics.csv``
(one row per study x field x arm, with source, extractor and approval, or ``reported:
no`` where the paper is silent); only approved rows reach the table, which prints them as
papers do: ``70 (16.9)``, ``16 (4-26)``, ``4/23 (17.4%)``, arms side by side, footnotes for
what was not reported.

Outcomes that are extracted but not pooled (``type: descriptive``) use the same values:
per-study values and their range across studies (:mod:`.descriptive`).
"""

from __future__ import annotations

#: How a value is summarised (see :mod:`livingmeta.characteristics.values`).
KINDS = ("mean_sd", "median_iqr", "median_range", "n_of_N", "number", "text", "choice")
#: Whether a field has one value per study or one per arm.
LEVELS = ("study", "arm")
#: Printed in a cell the paper did not report (with a footnote saying where it was checked).
NOT_REPORTED = "NR"

__all__ = ["KINDS", "LEVELS", "NOT_REPORTED"]
