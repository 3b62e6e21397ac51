"""Glue for rule plot_outcome (step: livingmeta.workflow.plot.plot_outcome)."""

from livingmeta.config import reviews
from livingmeta.rulelog import run_rule
from livingmeta.workflow.plot import plot_outcome

review = reviews(snakemake.config)[snakemake.wildcards.review]
outcome = review.outcome(snakemake.wildcards.outcome)
run_rule(
    snakemake.log[0], "plot_outcome", plot_outcome, outcome,
    pooled=snakemake.input.pooled, figures=list(snakemake.output), dpi=snakemake.params.dpi,
    review=review, risk_of_bias=snakemake.input.get("risk_of_bias"),
)  # fmt: skip
