"""Glue for rule build_site: the static results site of the portfolio."""

from livingmeta.config import reviews
from livingmeta.review_pipeline import write_site
from livingmeta.rulelog import run_rule

portfolio = list(reviews(snakemake.config).values())
run_rule(snakemake.log[0], "build_site", write_site, portfolio, snakemake.output[0])
