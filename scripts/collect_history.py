"""Glue for rule collect_history: every review's estimate history in one table."""

from livingmeta.config import reviews
from livingmeta.review_pipeline import collect_history
from livingmeta.rulelog import run_rule

portfolio = list(reviews(snakemake.config).values())
run_rule(snakemake.log[0], "collect_history", collect_history, portfolio, snakemake.output[0])
