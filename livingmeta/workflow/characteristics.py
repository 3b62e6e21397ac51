"""Rule of ``characteristics.smk``: the "Characteristics of included studies" tables and
the review's descriptive outcomes, from the approved rows of ``characteristics.csv``."""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import suppress
from dataclasses import replace
from pathlib import Path
from typing import Any

from livingmeta.config import Review
from livingmeta.files import write_json

#: Where descriptive outcomes' fields would be printed if they were table fields.
DESCRIPTIVE_TABLE = "Descriptive outcomes"


def characteristics_settings(review: Review) -> tuple[Any, Any]:
    """(fields of the tables or None, fields the file may hold: the tables' and the
    descriptive outcomes')."""
    from livingmeta.characteristics.fields import Field, settings_from_config

    spec = review.spec.get("characteristics")
    source = f"reviews[{review.id}].characteristics"
    tables = settings_from_config(spec, source=source) if spec is not None else None
    extra = tuple(
        Field(o["name"], o.get("label", o["name"]), o["kind"], _level(o), DESCRIPTIVE_TABLE)
        for o in review.descriptive
    )
    if tables is None:
        if not extra:
            return None, None
        arms = settings_from_config({"fields": [{"name": "x", "label": "x", "kind": "text"}]})
        return None, replace(arms, fields=extra)
    return tables, replace(tables, fields=tables.fields + extra)


def _level(outcome: dict[str, Any]) -> str:
    return "arm" if outcome.get("arm") else "study"


def included_studies(studies: str | Path) -> list[tuple[str, str]]:
    """(study id, label) of the included studies, in the order of ``studies.csv``."""
    from livingmeta.screening.studies import read_studies

    return [
        (str(r["study_id"]), str(r.get("study_label") or r["study_id"]))
        for r in read_studies(studies).to_dict("records")
    ]


def tabulate_characteristics(
    review: Review,
    *,
    characteristics: Sequence[str | Path],
    studies: str | Path,
    markdown: str | Path,
    csv: str | Path,
    html: str | Path,
    descriptive: str | Path,
    extraction: str | Path | None = None,
) -> None:
    """Write the tables (``markdown``, ``csv``, ``html``; a note when the review declares
    no fields) and the descriptive outcomes' per-study values and ranges (``descriptive``,
    JSON) from the approved rows of ``characteristics`` (empty: nothing extracted). The
    outcomes studies did not report (approved ``reported: no`` rows of ``extraction``)
    are named under the first table."""
    from livingmeta.characteristics.descriptive import describe
    from livingmeta.characteristics.extraction import load_characteristics
    from livingmeta.characteristics.table import build_tables, not_reported_by, write_tables
    from livingmeta.extraction import read_table
    from livingmeta.roster import review_roster
    from livingmeta.validation import InputError

    tables_settings, all_fields = characteristics_settings(review)
    pairs = included_studies(studies)
    missing: dict[str, list[str]] = {}
    if extraction is not None and Path(extraction).exists():
        with suppress(InputError):  # an unreadable table is reported by its own check
            missing = not_reported_by(read_table(extraction), review.outcomes, dict(pairs))
    values: tuple[Any, ...] = ()
    if characteristics and all_fields is not None:
        ids = [s for s, _ in pairs]
        roster = review_roster(review)
        values = load_characteristics(characteristics[0], all_fields, studies=ids, roster=roster)
    tables = build_tables(tables_settings, values, pairs, missing) if tables_settings else []
    write_tables(tables, markdown, csv, html)
    described = []
    for outcome in review.descriptive:
        field = all_fields.field(outcome["name"])
        described.append(describe(field, values, pairs, arm=outcome.get("arm", "")).to_dict())
    write_json(descriptive, {"outcomes": described})
