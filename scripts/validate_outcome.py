"""Glue for rule validate_outcome: check the whole extraction table, keep one outcome's rows."""

from livingmeta.config import reviews
from livingmeta.pipeline import write_outcome_data
from livingmeta.rulelog import run_rule

review = reviews(snakemake.config)[snakemake.wildcards.review]
outcome = review.outcome(snakemake.wildcards.outcome)
run_rule(
    snakemake.log[0], "validate_outcome", write_outcome_data, review, outcome, snakemake.output.data
)
