"""Glue for rule plot_sequential (step: livingmeta.workflow.plot.plot_sequential)."""

from livingmeta.config import reviews
from livingmeta.rulelog import run_rule
from livingmeta.workflow.plot import plot_sequential

review = reviews(snakemake.config)[snakemake.wildcards.review]
outcome = review.outcome(snakemake.wildcards.outcome)
run_rule(
    snakemake.log[0], "plot_sequential", plot_sequential, review, outcome,
    pooled=snakemake.input.pooled, history=snakemake.params.history,
    figures=list(snakemake.output),
)  # fmt: skip
