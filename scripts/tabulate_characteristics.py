"""Glue for rule tabulate_characteristics (step: livingmeta.workflow.characteristics)."""

from livingmeta.config import reviews
from livingmeta.rulelog import run_rule
from livingmeta.workflow.characteristics import tabulate_characteristics

review = reviews(snakemake.config)[snakemake.wildcards.review]
outputs = snakemake.output
run_rule(
    snakemake.log[0], "tabulate_characteristics", tabulate_characteristics, review,
    characteristics=list(snakemake.input.characteristics), studies=snakemake.params.studies,
    markdown=outputs.markdown, csv=outputs.csv, html=outputs.html,
    descriptive=outputs.descriptive, extraction=snakemake.input.extraction,
    queue=snakemake.params.queue, decisions=snakemake.params.decisions,
)  # fmt: skip
