"""Glue for rule collect_history (step: livingmeta.workflow.report.collect_history)."""

from livingmeta.rulelog import run_rule
from livingmeta.workflow.report import collect_history

run_rule(
    snakemake.log[0], "collect_history", collect_history,
    histories=list(snakemake.params.histories), table=snakemake.output[0],
)  # fmt: skip
