"""Glue for rule screen_new_records (step: livingmeta.workflow.screening.screen_new_records)."""

from livingmeta.config import reviews
from livingmeta.rulelog import run_rule
from livingmeta.workflow.screening import screen_new_records

review = reviews(snakemake.config)[snakemake.wildcards.review]
inputs, outputs = snakemake.input, snakemake.output
run_rule(
    snakemake.log[0], "screen_new_records", screen_new_records, review,
    candidates=inputs.candidates, report=inputs.report, status=outputs.status,
    conflicts=outputs.conflicts, template=outputs.template, differences=outputs.differences,
)  # fmt: skip
