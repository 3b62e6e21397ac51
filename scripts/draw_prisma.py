"""Glue for rule draw_prisma: the PRISMA 2020 flow diagram of the review."""

from pathlib import Path

from livingmeta.config import reviews
from livingmeta.review_pipeline import write_prisma
from livingmeta.rulelog import run_rule

review = reviews(snakemake.config)[snakemake.wildcards.review]
figures = [Path(f) for f in snakemake.output.figures]
run_rule(
    snakemake.log[0],
    "draw_prisma",
    write_prisma,
    review,
    snakemake.input.status,
    snakemake.output.counts,
    figures[0].with_suffix(""),
    formats=[f.suffix[1:] for f in figures],
)
