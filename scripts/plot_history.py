"""Glue for rule plot_history (step: livingmeta.workflow.plot.plot_history)."""

from livingmeta.config import reviews
from livingmeta.rulelog import run_rule
from livingmeta.workflow.plot import plot_history

review = reviews(snakemake.config)[snakemake.wildcards.review]
run_rule(
    snakemake.log[0], "plot_history", plot_history, review,
    history=snakemake.params.history, figures=list(snakemake.output),
)  # fmt: skip
