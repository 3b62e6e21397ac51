"""Glue for rule validate_outcome (step: livingmeta.workflow.extraction.validate_outcome)."""

from livingmeta.config import reviews
from livingmeta.rulelog import run_rule
from livingmeta.workflow.extraction import validate_outcome

review = reviews(snakemake.config)[snakemake.wildcards.review]
outcome = review.outcome(snakemake.wildcards.outcome)
run_rule(
    snakemake.log[0], "validate_outcome", validate_outcome, review, outcome,
    extraction=snakemake.input.extraction, studies=snakemake.params.studies,
    queue=snakemake.params.queue, decisions=snakemake.params.decisions,
    data=snakemake.output.data,
)  # fmt: skip
