"""Glue for rule summarise_review (step: livingmeta.workflow.summary.summarise_review)."""

from livingmeta.config import reviews
from livingmeta.rulelog import run_rule
from livingmeta.workflow.summary import summarise_review

review = reviews(snakemake.config)[snakemake.wildcards.review]
outputs = snakemake.output
run_rule(
    snakemake.log[0], "summarise_review", summarise_review, review,
    pooled=list(snakemake.input.pooled), csv=outputs.csv, markdown=outputs.markdown,
    tidy=outputs.tidy,
)  # fmt: skip
