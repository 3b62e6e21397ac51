"""Glue for rule plot_history: one outcome's pooled estimate across runs."""

from pathlib import Path

from livingmeta.config import reviews
from livingmeta.review_pipeline import write_history_plot
from livingmeta.rulelog import run_rule

review = reviews(snakemake.config)[snakemake.wildcards.review]
run_rule(
    snakemake.log[0],
    "plot_history",
    write_history_plot,
    review,
    snakemake.wildcards.outcome,
    Path(snakemake.output[0]).with_suffix(""),
    formats=snakemake.params.formats,
)
