"""Glue for rule plot_risk_of_bias (step: livingmeta.workflow.risk_of_bias.plot_risk_of_bias)."""

from livingmeta.config import reviews
from livingmeta.rulelog import run_rule
from livingmeta.workflow.risk_of_bias import plot_risk_of_bias

review = reviews(snakemake.config)[snakemake.wildcards.review]
inputs = snakemake.input
run_rule(
    snakemake.log[0], "plot_risk_of_bias", plot_risk_of_bias, review,
    judgements=inputs.judgements,
    pooled={o.name: inputs[f"pooled_{o.name}"] for o in review.outcomes},
    figures=list(snakemake.output), dpi=snakemake.params.dpi,
)  # fmt: skip
