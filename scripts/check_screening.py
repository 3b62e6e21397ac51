"""Glue for rule check_screening: validate the reviewers' screening files."""

from livingmeta.config import reviews
from livingmeta.review_pipeline import check_screening
from livingmeta.rulelog import run_rule

review = reviews(snakemake.config)[snakemake.wildcards.review]
run_rule(snakemake.log[0], "check_screening", check_screening, review, snakemake.output.marker)
