"""Glue for rule summarise_review: the review's summary table and tidy results CSV."""

from livingmeta.config import reviews
from livingmeta.pipeline import write_summary
from livingmeta.rulelog import run_rule

review = reviews(snakemake.config)[snakemake.wildcards.review]
run_rule(
    snakemake.log[0],
    "summarise_review",
    write_summary,
    review,
    list(snakemake.input.pooled),
    csv_path=snakemake.output.csv,
    md_path=snakemake.output.markdown,
    tidy_path=snakemake.output.tidy,
)
