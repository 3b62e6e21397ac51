"""Glue for rule search_review (step: livingmeta.workflow.search.search_review)."""

from livingmeta.config import reviews
from livingmeta.rulelog import run_rule
from livingmeta.workflow.search import search_review

review = reviews(snakemake.config)[snakemake.wildcards.review]
inputs, outputs, params = snakemake.input, snakemake.output, snakemake.params
run_rule(
    snakemake.log[0], "search_review", search_review, review, params.settings,
    run_date=params.run_date, state=params.state,
    report=outputs.report, candidates=outputs.candidates, queue=params.queue,
)  # fmt: skip
