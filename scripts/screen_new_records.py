"""Glue for rule screen_new_records: queue new candidates, settle screening, append studies."""

from livingmeta.config import reviews
from livingmeta.review_pipeline import screen_new_records
from livingmeta.rulelog import run_rule

review = reviews(snakemake.config)[snakemake.wildcards.review]
run_rule(
    snakemake.log[0],
    "screen_new_records",
    screen_new_records,
    review,
    snakemake.input.candidates,
    snakemake.input.report,
    status_json=snakemake.output.status,
    conflicts_csv=snakemake.output.conflicts,
    template_csv=snakemake.output.template,
    differences_csv=snakemake.output.differences,
)
