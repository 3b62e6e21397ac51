# Shared helpers: config validation at load, the portfolio of reviews, and the named
# get_* functions every rule takes its inputs and params from.
from datetime import date

import livingmeta.config as lm_config
from livingmeta.approval import excluded_studies
from livingmeta.pipeline import outcome_digest

try:
    lm_config.validate_config(config, "config/config.yaml")
except lm_config.ConfigError as error:
    raise WorkflowError(str(error))

REVIEWS = lm_config.reviews(config)
PLOT_FORMATS = config["plots"]["formats"]
PLOT_KINDS = ("forest", "cumulative", "leave_one_out")


wildcard_constraints:
    review="|".join(REVIEWS),
    outcome="[A-Za-z0-9][A-Za-z0-9_-]*",


def get_review(wildcards):
    return REVIEWS[wildcards.review]


def get_extraction(wildcards):
    """The review's extraction table; marked ancient so that only a change in an
    outcome's own rows (its digest param) reruns that outcome's jobs."""
    return ancient(str(get_review(wildcards).extraction))


def get_outcome_digest(wildcards):
    """Fingerprint of the outcome's rows and of the studies excluded by decision."""
    review = get_review(wildcards)
    excluded = excluded_studies(review.folder / "studies.csv")
    return outcome_digest(
        review.extraction, review.outcome(wildcards.outcome), excluded
    )


def get_plot_settings(wildcards):
    return {"formats": PLOT_FORMATS, "dpi": config["plots"]["dpi"]}


def get_review_pooled(wildcards):
    review = get_review(wildcards)
    return [
        f"results/{review.id}/{outcome.name}/pooled.json" for outcome in review.outcomes
    ]


def get_final_outputs():
    outputs = ["results/site", "results/history.csv"]
    for review in REVIEWS.values():
        outputs += [
            f"results/{review.id}/retrieval/report.json",
            f"results/{review.id}/summary.md",
            f"results/{review.id}/summary.csv",
            f"results/{review.id}/pooled.csv",
        ]
        for outcome in review.outcomes:
            outputs += [
                f"results/{review.id}/{outcome.name}/{kind}.{ext}"
                for kind in PLOT_KINDS
                for ext in PLOT_FORMATS
            ]
    return outputs


def get_run_date(wildcards):
    """Today's date (UTC), or --config run_date=YYYY-MM-DD: the searches rerun once a day."""
    return str(config.get("run_date") or date.today().isoformat())


def get_searches(wildcards):
    """The review's saved searches: editing one reruns the search job."""
    return get_review(wildcards).spec.get("searches", [])


def get_retrieval_settings(wildcards):
    return config["retrieval"]


def get_imports_log(wildcards):
    """`livingmeta import` appends here, so the next run hands imported records over."""
    log = get_review(wildcards).state / "imports.log"
    return [str(log)] if log.exists() else []


def get_screening_files(wildcards):
    """The reviewers' screening files that exist (a change revalidates them)."""
    folder = get_review(wildcards).folder
    files = [folder / "screening" / "decisions.csv", folder / "studies.csv"]
    return [str(f) for f in files if f.exists()]


def get_report_inputs(wildcards):
    """Every outcome's pooled result and forest plot, named by outcome."""
    review = get_review(wildcards)
    inputs = {}
    for outcome in review.outcomes:
        inputs[f"pooled_{outcome.name}"] = (
            f"results/{review.id}/{outcome.name}/pooled.json"
        )
        inputs[f"forest_{outcome.name}"] = (
            f"results/{review.id}/{outcome.name}/forest.png"
        )
    return inputs


def get_site_inputs(wildcards):
    """Everything the results site shows, for every review."""
    inputs = []
    for review in REVIEWS.values():
        inputs += [
            f"results/{review.id}/report/latest.html",
            f"results/{review.id}/prisma.png",
            f"results/{review.id}/summary.csv",
        ]
        for outcome in review.outcomes:
            inputs += [
                f"results/{review.id}/{outcome.name}/forest.png",
                f"results/{review.id}/{outcome.name}/history.png",
            ]
    return inputs


def get_extraction_table(wildcards):
    """The review's extraction table (a change refreshes the extraction template)."""
    return str(get_review(wildcards).extraction)


def get_extraction_drafts(wildcards):
    """Extractors' drafts: a change refreshes the list of disagreements."""
    folder = get_review(wildcards).folder / "extraction"
    return [str(p) for p in sorted(folder.glob("*.csv"))]
