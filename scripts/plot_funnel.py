"""Glue for rule plot_funnel (step: livingmeta.workflow.plot.plot_funnel)."""

from livingmeta.config import reviews
from livingmeta.rulelog import run_rule
from livingmeta.workflow.plot import plot_funnel

review = reviews(snakemake.config)[snakemake.wildcards.review]
outcome = review.outcome(snakemake.wildcards.outcome)
run_rule(
    snakemake.log[0], "plot_funnel", plot_funnel, outcome,
    pooled=snakemake.input.pooled, figures=list(snakemake.output), dpi=snakemake.params.dpi,
)  # fmt: skip
