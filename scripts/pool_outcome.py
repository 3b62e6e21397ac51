"""Glue for rule pool_outcome (step: livingmeta.workflow.pool.pool_outcome)."""

from livingmeta.config import reviews
from livingmeta.rulelog import run_rule
from livingmeta.workflow.pool import pool_outcome

review = reviews(snakemake.config)[snakemake.wildcards.review]
outcome = review.outcome(snakemake.wildcards.outcome)
run_rule(
    snakemake.log[0], "pool_outcome", pool_outcome, review, outcome,
    data=snakemake.input.data, pooled=snakemake.output.pooled,
    risk_of_bias=snakemake.input.get("risk_of_bias"),
    analyses=snakemake.params.analyses,
)  # fmt: skip
