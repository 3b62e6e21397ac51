"""Glue for rule settle_risk_of_bias (step: livingmeta.workflow.risk_of_bias)."""

from livingmeta.config import reviews
from livingmeta.rulelog import run_rule
from livingmeta.workflow.risk_of_bias import settle_risk_of_bias

review = reviews(snakemake.config)[snakemake.wildcards.review]
run_rule(
    snakemake.log[0], "settle_risk_of_bias", settle_risk_of_bias, review,
    assessments=list(snakemake.input.assessments), studies=snakemake.params.studies,
    judgements=snakemake.output.judgements, labels=snakemake.params.labels,
)  # fmt: skip
