"""Glue for rule check_extraction: validate the review's whole extraction table."""

from livingmeta.config import reviews
from livingmeta.review_pipeline import check_extraction
from livingmeta.rulelog import run_rule

review = reviews(snakemake.config)[snakemake.wildcards.review]
run_rule(snakemake.log[0], "check_extraction", check_extraction, review, snakemake.output.marker)
