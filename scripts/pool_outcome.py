"""Glue for rule pool_outcome: pool one outcome's validated rows."""

from livingmeta.config import reviews
from livingmeta.pipeline import write_pooled
from livingmeta.rulelog import run_rule

review = reviews(snakemake.config)[snakemake.wildcards.review]
outcome = review.outcome(snakemake.wildcards.outcome)
run_rule(
    snakemake.log[0],
    "pool_outcome",
    write_pooled,
    review,
    outcome,
    snakemake.input.data,
    snakemake.output.pooled,
)
