"""Glue for rule summarise_findings (step: livingmeta.workflow.grade.summarise_findings)."""

from livingmeta.config import reviews
from livingmeta.rulelog import run_rule
from livingmeta.workflow.grade import summarise_findings

review = reviews(snakemake.config)[snakemake.wildcards.review]
inputs = snakemake.input
run_rule(
    snakemake.log[0], "summarise_findings", summarise_findings, review,
    pooled={o.name: inputs[f"pooled_{o.name}"] for o in review.outcomes},
    data={o.name: inputs[f"data_{o.name}"] for o in review.outcomes},
    studies=snakemake.params.studies, characteristics=list(inputs.characteristics),
    grade=list(inputs.grade), judgements=list(inputs.judgements),
    tables=list(snakemake.output.tables), inputs=snakemake.output.inputs,
)  # fmt: skip
