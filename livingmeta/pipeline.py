"""What the pooling rules do, as plain functions (the Snakemake scripts only call these).

Each function reads its inputs, validates the *whole* extraction table, and writes its
outputs atomically only after everything succeeded, so invalid input never replaces a
previous result.
"""

from __future__ import annotations

import hashlib
import json
import platform
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from livingmeta import __version__
from livingmeta.atomic import write_json, write_text
from livingmeta.config import Review
from livingmeta.extraction import load_extraction, outcome_data, read_table
from livingmeta.outcomes import Outcome
from livingmeta.stats import cumulative, fixed_and_random, leave_one_out, pool, subgroups
from livingmeta.stats.data import BinaryData, ContinuousData, StudyData
from livingmeta.stats.result import PooledResult
from livingmeta.summary import summary_frame, summary_markdown, summary_row
from livingmeta.validation import InputError, Problem


def outcome_digest(extraction: str | Path, outcome: Outcome) -> str:
    """A fingerprint of one outcome's rows and options.

    Used as a Snakemake ``params`` value: editing one outcome's rows changes only that
    outcome's digest, so only its jobs rerun. Reads the raw text (never fails on invalid
    input: validation happens in the job, where it can be reported).
    """
    hasher = hashlib.sha256(json.dumps(outcome.pool_options(), sort_keys=True).encode())
    hasher.update(outcome.label.encode())
    try:
        frame = read_table(extraction)
    except InputError as exc:
        hasher.update(str(exc).encode())
        return hasher.hexdigest()[:16]
    if "outcome" in frame.columns:
        frame = frame[frame["outcome"] == outcome.name]
    hasher.update(frame.to_csv(index=False).encode())
    return hasher.hexdigest()[:16]


def load_outcome(review: Review, outcome: Outcome) -> StudyData:
    """Validate the review's whole extraction table, then return one outcome's data."""
    frame = load_extraction(review.extraction, {o.name: o for o in review.outcomes})
    data = outcome_data(frame, outcome)
    if data.k == 0:
        raise InputError([_no_rows(review, outcome)])
    return data


def _no_rows(review: Review, outcome: Outcome) -> Problem:
    return Problem(str(review.extraction), None, "outcome", f"no rows for outcome {outcome.name!r}")


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


def analyse_outcome(review: Review, outcome: Outcome) -> dict[str, Any]:
    """Everything the review reports for one outcome, as a JSON-ready dict."""
    data = load_outcome(review, outcome)
    options = outcome.pool_options()
    main = pool(data, **options)
    side_by_side = fixed_and_random(
        data, **{k: v for k, v in options.items() if k not in ("model", "hksj")}
    )
    has_subgroups = len({s for s in data.subgroup if s}) > 1
    sub = subgroups(data, **options) if has_subgroups else None
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
            "q_between": sub.q_between,
            "df_between": sub.df_between,
            "p_between": sub.p_between,
            "i2_between": sub.i2_between,
        },
        "provenance": provenance(review.extraction),
    }


def provenance(extraction: str | Path) -> dict[str, Any]:
    """Where the numbers came from: input checksum and software versions."""
    import matplotlib
    import scipy

    return {
        "extraction": str(extraction),
        "extraction_sha256": hashlib.sha256(Path(extraction).read_bytes()).hexdigest(),
        "livingmeta": __version__,
        "python": platform.python_version(),
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "pandas": pd.__version__,
        "matplotlib": matplotlib.__version__,
    }


def write_pooled(review: Review, outcome: Outcome, path: str | Path) -> dict[str, Any]:
    """Analyse one outcome and write ``pooled.json`` (atomically)."""
    analysis = analyse_outcome(review, outcome)
    write_json(path, analysis)
    return analysis


def write_plots(
    review: Review,
    outcome: Outcome,
    out_dir: str | Path,
    formats: Sequence[str] = ("png", "svg", "pdf"),
    dpi: int = 200,
) -> None:
    """Forest, cumulative and leave-one-out plots of one outcome into ``out_dir``."""
    from livingmeta.plots import cumulative_plot, forest_plot, leave_one_out_plot, save_figure

    data = load_outcome(review, outcome)
    options = outcome.pool_options()
    result = pool(data, **options)
    has_subgroups = len({s for s in data.subgroup if s}) > 1
    sub = subgroups(data, **options) if has_subgroups else None
    out = Path(out_dir)
    figures = {
        "forest": forest_plot(result, outcome, title=outcome.label, subgroups=sub),
        "cumulative": cumulative_plot(cumulative(data, **options), outcome),
        "leave_one_out": leave_one_out_plot(leave_one_out(data, **options), result, outcome),
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
        rows.append(summary_row(outcome.label, result, analysis["participants"]))
        for r in analysis["fixed_vs_random"].values():
            tidy.append(_tidy_row(review, outcome, r))
    frame = summary_frame(rows)
    write_text(csv_path, frame.to_csv(index=False))
    write_text(md_path, summary_markdown(rows, review.title))
    write_text(tidy_path, pd.DataFrame(tidy).to_csv(index=False))


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
