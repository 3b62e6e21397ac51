"""Glue for rule report_run (step: livingmeta.workflow.report.report_run)."""

from livingmeta.config import reviews
from livingmeta.rulelog import run_rule
from livingmeta.workflow.report import report_run

review = reviews(snakemake.config)[snakemake.wildcards.review]
inputs, outputs, params = snakemake.input, snakemake.output, snakemake.params
run_rule(
    snakemake.log[0], "report_run", report_run, review,
    retrieval=inputs.retrieval, candidates=inputs.candidates, status=inputs.status,
    prisma=inputs.prisma, pooled={o.name: inputs[f"pooled_{o.name}"] for o in review.outcomes},
    forest={o.name: inputs[f"forest_{o.name}"] for o in review.outcomes},
    decisions=params.decisions, studies=params.studies, queue=params.queue,
    history=params.history, archive=params.archive,
    html=outputs.html, changes=outputs.changes, appraisal=dict(inputs.items()),
    history_figures=list(outputs.history),
)  # fmt: skip
