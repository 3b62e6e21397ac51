"""Glue for rule check_screening (step: livingmeta.workflow.screening.check_screening)."""

from livingmeta.config import reviews
from livingmeta.rulelog import run_rule
from livingmeta.workflow.screening import check_screening

review = reviews(snakemake.config)[snakemake.wildcards.review]
params = snakemake.params
run_rule(
    snakemake.log[0], "check_screening", check_screening, review,
    queue=params.queue, decisions=params.decisions, studies=params.studies,
    marker=snakemake.output.marker,
)  # fmt: skip
