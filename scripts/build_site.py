"""Glue for rule build_site (step: livingmeta.workflow.site.build_site)."""

from livingmeta.config import reviews
from livingmeta.rulelog import run_rule
from livingmeta.workflow.site import build_site

portfolio = list(reviews(snakemake.config).values())
run_rule(
    snakemake.log[0], "build_site", build_site, portfolio,
    pages=snakemake.params.pages, site=snakemake.output[0],
)  # fmt: skip
