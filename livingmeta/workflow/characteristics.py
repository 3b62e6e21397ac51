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


def included_studies(
    studies: str | Path, labels: dict[str, list[str]] | None = None
) -> list[tuple[str, str]]:
    """(study id, label) of the included studies, in the order of ``studies.csv``: the
    label the analyses print (``labels``, from the extraction table, as
    :func:`livingmeta.extraction.study_labels_by_id` gives them), else ``studies``' own,
    so the tables name a study as its forest plots do."""
    from livingmeta.screening.studies import read_studies

    labels = labels or {}
    pairs = []
    for record in read_studies(studies).to_dict("records"):
        sid = str(record["study_id"])
        pairs.append((sid, (labels.get(sid) or [str(record.get("study_label") or sid)])[0]))
    return pairs


def _removed(
    review: Review,
    studies: str | Path,
    queue: str | Path | None,
    decisions: str | Path | None,
) -> dict[str, tuple[str, str]]:
    """Study id -> (label, reason) of the studies removed after inclusion, read as
    ``validate_outcome`` reads them (:mod:`livingmeta.study_scope`)."""
    from livingmeta.screening.studies import read_studies
    from livingmeta.study_scope import removal_reason, removed_from_files, removed_studies

    if queue is None or decisions is None:
        removed = removed_studies(read_studies(studies))
    else:
        removed = removed_from_files(review, studies, queue, decisions)
    return {s["study_id"]: (s["label"], removal_reason(s)) for s in removed}


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
    queue: str | Path | None = None,
    decisions: str | Path | None = None,
) -> None:
    """Write the tables (``markdown``, ``csv``, ``html``; a note when the review declares
    no fields) and the descriptive outcomes' per-study values and ranges (``descriptive``,
    JSON) from the approved rows of ``characteristics`` (empty: nothing extracted). The
    outcomes studies did not report (approved ``reported: no`` rows of ``extraction``)
    are named under the first table, and so are the studies removed after inclusion (a
    retraction decision in ``studies``; with the ``queue`` and ``decisions``, also an
    exclusion recorded after inclusion), which get no row and no descriptive value, as
    they are left out of the analyses."""
    from livingmeta.characteristics.descriptive import describe
    from livingmeta.characteristics.extraction import load_characteristics
    from livingmeta.characteristics.table import build_tables, not_reported_by, write_tables
    from livingmeta.extraction import read_table, study_labels_by_id
    from livingmeta.roster import review_roster
    from livingmeta.validation import InputError

    tables_settings, all_fields = characteristics_settings(review)
    has_extraction = extraction is not None and Path(extraction).exists()
    included = included_studies(studies, study_labels_by_id(extraction) if has_extraction else None)
    gone = _removed(review, studies, queue, decisions)
    pairs = [(s, label) for s, label in included if s not in gone]
    missing: dict[str, list[str]] = {}
    if has_extraction:
        with suppress(InputError):  # an unreadable table is reported by its own check
            rows = read_table(extraction)
            if gone and "study_id" in rows.columns:
                rows = rows[~rows["study_id"].isin(gone)]
            missing = not_reported_by(rows, review.outcomes, dict(pairs))
    values: tuple[Any, ...] = ()
    if characteristics and all_fields is not None:
        ids = [s for s, _ in included]  # a removed study's rows are still checked
        roster = review_roster(review)
        values = load_characteristics(characteristics[0], all_fields, studies=ids, roster=roster)
    tables = (
        build_tables(tables_settings, values, pairs, missing, list(gone.values()))
        if tables_settings
        else []
    )
    write_tables(tables, markdown, csv, html)
    described = []
    for outcome in review.descriptive:
        field = all_fields.field(outcome["name"])
        described.append(describe(field, values, pairs, arm=outcome.get("arm", "")).to_dict())
    write_json(descriptive, {"outcomes": described})
