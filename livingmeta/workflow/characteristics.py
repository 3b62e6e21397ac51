"""Rule of ``characteristics.smk``: the "Characteristics of included studies" tables and
the review's descriptive outcomes, from the approved rows of ``characteristics.csv``."""

from __future__ import annotations

from collections.abc import Sequence
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
) -> None:
    """Write the tables (``markdown``, ``csv``, ``html``; a note when the review declares
    no fields) and the descriptive outcomes' per-study values and ranges (``descriptive``,
    JSON) from the approved rows of ``characteristics`` (empty: nothing extracted)."""
    from livingmeta.characteristics.descriptive import describe
    from livingmeta.characteristics.extraction import load_characteristics
    from livingmeta.characteristics.table import build_tables, write_tables
    from livingmeta.roster import review_roster

    tables_settings, all_fields = characteristics_settings(review)
    pairs = included_studies(studies)
    values: tuple[Any, ...] = ()
    if characteristics and all_fields is not None:
        ids = [s for s, _ in pairs]
        roster = review_roster(review)
        values = load_characteristics(characteristics[0], all_fields, studies=ids, roster=roster)
    tables = build_tables(tables_settings, values, pairs) if tables_settings else []
    write_tables(tables, markdown, csv, html)
    described = []
    for outcome in review.descriptive:
        field = all_fields.field(outcome["name"])
        described.append(describe(field, values, pairs, arm=outcome.get("arm", "")).to_dict())
    write_json(descriptive, {"outcomes": described})
