"""Glue for rule report_run: history of estimates, run report and changes.json."""

from livingmeta.config import reviews
from livingmeta.review_pipeline import write_run_report
from livingmeta.rulelog import run_rule

review = reviews(snakemake.config)[snakemake.wildcards.review]
inputs = snakemake.input
run_rule(
    snakemake.log[0],
    "report_run",
    write_run_report,
    review,
    retrieval_report=inputs.retrieval,
    candidates_csv=inputs.candidates,
    status_json=inputs.status,
    prisma_json=inputs.prisma,
    pooled={o.name: inputs[f"pooled_{o.name}"] for o in review.outcomes},
    forest={o.name: inputs[f"forest_{o.name}"] for o in review.outcomes},
    html_path=snakemake.output.html,
    changes_path=snakemake.output.changes,
)
