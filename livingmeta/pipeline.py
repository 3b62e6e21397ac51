"""What the pooling rules do, as plain functions (the Snakemake scripts only call these).

The first step validates the *whole* extraction table and writes one outcome's rows;
later steps read only those validated rows. Every output is written atomically after the
work succeeded, so invalid input never replaces a previous result.
"""

from __future__ import annotations

import hashlib
import json
import math
import platform
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from livingmeta import __version__
from livingmeta.approval import approval_problems, excluded_studies, is_approved, require
from livingmeta.atomic import write_json, write_text
from livingmeta.config import Review
from livingmeta.extraction import load_extraction, outcome_data, read_table
from livingmeta.outcomes import Outcome
from livingmeta.stats import cumulative, fixed_and_random, leave_one_out, pool, subgroups
from livingmeta.stats.data import BinaryData, ContinuousData, StudyData
from livingmeta.stats.result import PooledResult, SubgroupResult
from livingmeta.summary import summary_frame, summary_markdown, summary_row
from livingmeta.validation import InputError, Problem


def outcome_digest(extraction: str | Path, outcome: Outcome, excluded: Iterable[str] = ()) -> str:
    """A fingerprint of one outcome's rows and options.

    Used as a Snakemake ``params`` value: editing one outcome's rows changes only that
    outcome's digest, so only its jobs rerun. Reads the raw text (never fails on invalid
    input: validation happens in the job, where it can be reported).
    """
    hasher = hashlib.sha256(json.dumps(outcome.pool_options(), sort_keys=True).encode())
    hasher.update(outcome.label.encode())
    hasher.update(json.dumps(sorted(excluded)).encode())
    try:
        frame = read_table(extraction)
    except InputError as exc:
        hasher.update(str(exc).encode())
        return hasher.hexdigest()[:16]
    if "outcome" in frame.columns:
        frame = frame[frame["outcome"] == outcome.name]
    hasher.update(frame.to_csv(index=False).encode())
    return hasher.hexdigest()[:16]


def write_outcome_data(review: Review, outcome: Outcome, path: str | Path) -> None:
    """Validate the review's *whole* extraction table, then write the outcome's rows that
    pass the approval gate.

    The validated per-outcome file is what the pooling and plotting jobs read: a problem
    anywhere in the table stops here, before any result or figure could be replaced. Rows
    not yet approved, and studies excluded by a recorded decision, are left out.
    """
    raw = read_table(review.extraction)
    require(approval_problems(raw, str(review.extraction)))
    frame = load_extraction(review.extraction, {o.name: o for o in review.outcomes})
    if "outcome" not in raw.columns:
        raw["outcome"] = outcome.name
    keep = (frame["outcome"].to_numpy() == outcome.name) & is_approved(raw).to_numpy()
    keep &= ~frame["study_id"].isin(excluded_studies(review.folder / "studies.csv")).to_numpy()
    rows = raw[keep]
    if rows.empty:
        problem = Problem(
            str(review.extraction), None, "outcome", f"no approved rows for {outcome.name!r}"
        )
        raise InputError([problem])
    write_text(path, rows.to_csv(index=False))


def read_outcome_data(path: str | Path, outcome: Outcome) -> StudyData:
    """One outcome's validated rows (from :func:`write_outcome_data`) as study data."""
    return outcome_data(load_extraction(path, {outcome.name: outcome}), outcome)


def participants(data: StudyData, result: PooledResult) -> int | None:
    """Participants in the pooled studies (arm totals), None for generic data."""
    pooled = np.array([s.estimable for s in result.studies])
    if isinstance(data, BinaryData):
        return int((data.total_treat[pooled] + data.total_ctrl[pooled]).sum())
    if isinstance(data, ContinuousData):
        return int((data.n_treat[pooled] + data.n_ctrl[pooled]).sum())
    return None


def _steps(steps: Sequence[tuple[str, PooledResult | None]]) -> list[dict[str, Any]]:
    return [{"study": name, "result": None if r is None else _brief(r)} for name, r in steps]


def _brief(result: PooledResult) -> dict[str, Any]:
    full = result.to_dict()
    return {key: full[key] for key in ("k", "estimate", "ci_low", "ci_high", "p", "i2", "tau2")}


def pool_outcome(data: StudyData, outcome: Outcome, file: str | Path) -> PooledResult:
    """Pool with the outcome's options; options the data cannot support (e.g. no
    Paule-Mandel root, nothing estimable) are reported as an input problem of the outcome."""
    try:
        return pool(data, **outcome.pool_options())
    except ValueError as exc:
        raise InputError([Problem(str(file), None, "outcome", f"{outcome.name}: {exc}")]) from None


def outcome_subgroups(data: StudyData, outcome: Outcome) -> SubgroupResult | None:
    """The subgroup analysis when at least two subgroups can be pooled, else None."""
    if len({s for s in data.subgroup if s}) < 2:
        return None
    result = subgroups(data, **outcome.pool_options())
    return result if len(result.subgroups) > 1 else None


def analyse_outcome(review: Review, outcome: Outcome, data_path: str | Path) -> dict[str, Any]:
    """Everything the review reports for one outcome, as a JSON-ready dict."""
    data = read_outcome_data(data_path, outcome)
    options = outcome.pool_options()
    main = pool_outcome(data, outcome, review.extraction)
    if outcome.method == "Peto":  # a fixed-effect method: no random-effects counterpart
        side_by_side = {"fixed": main}
    else:
        side_by_side = fixed_and_random(
            data, **{k: v for k, v in options.items() if k not in ("model", "hksj")}
        )
    sub = outcome_subgroups(data, outcome)
    return {
        "review": review.id,
        "outcome": {"name": outcome.name, "label": outcome.label, **options},
        "result": main.to_dict(),
        "participants": participants(data, main),
        "fixed_vs_random": {model: r.to_dict() for model, r in side_by_side.items()},
        "leave_one_out": _steps(leave_one_out(data, **options)),
        "cumulative": _steps(cumulative(data, **options)),
        "subgroups": None
        if sub is None
        else {
            "groups": {name: r.to_dict() for name, r in sub.subgroups.items()},
            "q_between": _finite(sub.q_between),
            "df_between": sub.df_between,
            "p_between": _finite(sub.p_between),
            "i2_between": _finite(sub.i2_between),
        },
        "provenance": provenance(data_path),
    }


def _finite(value: float) -> float | None:
    return float(value) if math.isfinite(value) else None


def provenance(data_path: str | Path) -> dict[str, Any]:
    """Where the numbers came from: input checksum and software versions."""
    import matplotlib
    import scipy

    return {
        "data": str(data_path),
        "data_sha256": hashlib.sha256(Path(data_path).read_bytes()).hexdigest(),
        "livingmeta": __version__,
        "python": platform.python_version(),
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "pandas": pd.__version__,
        "matplotlib": matplotlib.__version__,
    }


def write_pooled(
    review: Review, outcome: Outcome, data_path: str | Path, path: str | Path
) -> dict[str, Any]:
    """Analyse one outcome and write ``pooled.json`` (atomically)."""
    analysis = analyse_outcome(review, outcome, data_path)
    write_json(path, analysis)
    return analysis


def write_plots(
    outcome: Outcome,
    data_path: str | Path,
    out_dir: str | Path,
    formats: Sequence[str] = ("png", "svg", "pdf"),
    dpi: int = 200,
) -> None:
    """Forest, cumulative and leave-one-out plots of one outcome into ``out_dir``."""
    from livingmeta.plots import cumulative_plot, forest_plot, leave_one_out_plot, save_figure

    data = read_outcome_data(data_path, outcome)
    options = outcome.pool_options()
    result = pool_outcome(data, outcome, data_path)
    sub = outcome_subgroups(data, outcome)
    out = Path(out_dir)
    figures = {
        "forest": forest_plot(result, outcome, title=outcome.label, subgroups=sub),
        "cumulative": cumulative_plot(
            cumulative(data, **options), outcome, title=f"{outcome.label}: cumulative by year"
        ),
        "leave_one_out": leave_one_out_plot(
            leave_one_out(data, **options), result, outcome, title=f"{outcome.label}: leave-one-out"
        ),
    }
    for name, figure in figures.items():
        save_figure(figure, out / name, formats=formats, dpi=dpi)


def write_summary(
    review: Review,
    pooled_paths: Sequence[str | Path],
    csv_path: str | Path,
    md_path: str | Path,
    tidy_path: str | Path,
) -> None:
    """The review's summary table (Markdown + CSV) and a tidy CSV of every pooled result."""
    analyses = [json.loads(Path(p).read_text(encoding="utf-8")) for p in pooled_paths]
    rows, tidy = [], []
    for analysis in analyses:
        outcome = review.outcome(analysis["outcome"]["name"])
        result = analysis["result"]
        other = analysis["fixed_vs_random"].get(
            "fixed" if result["model"] == "random" else "random"
        )
        row = summary_row(outcome.label, result, analysis["participants"])
        row["sensitivity"] = summary_row(outcome.label, other, None) if other else None
        rows.append(row)
        for r in analysis["fixed_vs_random"].values():
            tidy.append(_tidy_row(review, outcome, r))
    frame = summary_frame([_flat(row) for row in rows])
    write_text(csv_path, frame.to_csv(index=False))
    write_text(md_path, summary_markdown(rows, review.title))
    write_text(tidy_path, pd.DataFrame(tidy).to_csv(index=False))


def _flat(row: dict[str, Any]) -> dict[str, Any]:
    """The summary row with its sensitivity analysis as ``sensitivity_*`` columns."""
    sensitivity = row.get("sensitivity") or {}
    keys = ("method", "estimate", "ci_low", "ci_high", "p")
    extra = {f"sensitivity_{k}": sensitivity.get(k) for k in keys}
    return {**{k: v for k, v in row.items() if k != "sensitivity"}, **extra}


def _tidy_row(review: Review, outcome: Outcome, r: dict[str, Any]) -> dict[str, Any]:
    keys = (
        "measure",
        "method",
        "model",
        "tau2_method",
        "hksj",
        "k",
        "estimate",
        "ci_low",
        "ci_high",
        "z",
        "p",
        "q",
        "df",
        "p_q",
        "i2",
        "tau2",
        "pi_low",
        "pi_high",
    )
    return {"review": review.id, "outcome": outcome.name, **{key: r[key] for key in keys}}
