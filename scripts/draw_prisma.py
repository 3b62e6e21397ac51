"""Glue for rule draw_prisma (step: livingmeta.workflow.report.draw_prisma)."""

from livingmeta.config import reviews
from livingmeta.rulelog import run_rule
from livingmeta.workflow.report import draw_prisma

review = reviews(snakemake.config)[snakemake.wildcards.review]
params, outputs = snakemake.params, snakemake.output
run_rule(
    snakemake.log[0], "draw_prisma", draw_prisma, review,
    status=snakemake.input.status, registry=params.registry, studies=params.studies,
    queue=params.queue, decisions=params.decisions,
    counts=outputs.counts, figures=list(outputs.figures),
)  # fmt: skip
