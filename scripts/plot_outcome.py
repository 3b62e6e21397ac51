"""Glue for rule plot_outcome: forest, cumulative and leave-one-out plots of one outcome."""

from pathlib import Path

from livingmeta.config import reviews
from livingmeta.pipeline import write_plots
from livingmeta.rulelog import run_rule

review = reviews(snakemake.config)[snakemake.wildcards.review]
settings = snakemake.params.settings
run_rule(
    snakemake.log[0],
    "plot_outcome",
    write_plots,
    review.outcome(snakemake.wildcards.outcome),
    snakemake.input.data,
    Path(snakemake.output[0]).parent,
    formats=settings["formats"],
    dpi=settings["dpi"],
)
