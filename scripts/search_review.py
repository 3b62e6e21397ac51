"""Glue for rule search_review: run the review's saved searches and hand over new records."""

from livingmeta.config import reviews
from livingmeta.retrieval.update import search_review
from livingmeta.rulelog import run_rule

review = reviews(snakemake.config)[snakemake.wildcards.review]
run_rule(
    snakemake.log[0],
    "search_review",
    search_review,
    review,
    snakemake.params.settings,
    run_date=snakemake.params.run_date,
    report_path=snakemake.output.report,
    candidates_path=snakemake.output.candidates,
)
