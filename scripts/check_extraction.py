"""Glue for rule check_extraction (step: livingmeta.workflow.extraction.check_extraction)."""

from livingmeta.config import reviews
from livingmeta.rulelog import run_rule
from livingmeta.workflow.extraction import check_extraction

review = reviews(snakemake.config)[snakemake.wildcards.review]
run_rule(
    snakemake.log[0], "check_extraction", check_extraction, review,
    extraction=snakemake.input.extraction, marker=snakemake.output.marker,
    drafts=list(snakemake.input.drafts),
)  # fmt: skip
