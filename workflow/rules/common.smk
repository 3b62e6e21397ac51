# Shared helpers: config validation at load, the portfolio of reviews, and the named
# get_* functions every rule takes its inputs and params from. Every path comes from a
# review's ReviewFiles (livingmeta.config), so a file is named in one place.
from datetime import date

import livingmeta.config as lm_config
from livingmeta.approval import excluded_studies
from livingmeta.extraction import outcome_digest
from livingmeta.workflow.site import result_inputs, site_files

try:
    lm_config.validate_config(config, "config/config.yaml")
except lm_config.ConfigError as error:
    raise WorkflowError(str(error))

REVIEWS = lm_config.reviews(config)
PLOT_FORMATS = config["plots"]["formats"]
PLOT_KINDS = ("forest", "cumulative", "leave_one_out")
HISTORY_FORMATS = ("png", "svg")


wildcard_constraints:
    review="|".join(REVIEWS),
    outcome="[A-Za-z0-9][A-Za-z0-9_-]*",


def get_review(wildcards):
    return REVIEWS[wildcards.review]


def get_files(wildcards):
    return get_review(wildcards).files


def get_extraction(wildcards):
    """The review's extraction table; marked ancient so that only a change in an
    outcome's own rows (its digest param) reruns that outcome's jobs."""
    return ancient(str(get_files(wildcards).extraction))


def get_extraction_table(wildcards):
    """The review's extraction table (a change revalidates it)."""
    return str(get_files(wildcards).extraction)


def get_outcome_digest(wildcards):
    """Fingerprint of the outcome's rows and of the studies excluded by decision."""
    review = get_review(wildcards)
    excluded = excluded_studies(review.files.studies)
    return outcome_digest(
        review.files.extraction, review.outcome(wildcards.outcome), excluded
    )


def review_file(name):
    """A param function: the path of one file of the review (see ReviewFiles)."""

    def path(wildcards):
        return str(getattr(get_files(wildcards), name))

    return path


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
    return get_files(wildcards).existing("imports_log")


def get_screening_files(wildcards):
    """The reviewers' screening files that exist (a change revalidates them)."""
    return get_files(wildcards).existing("decisions", "studies")


def get_extraction_drafts(wildcards):
    """Extractors' drafts: a change refreshes the list of disagreements."""
    return [str(p) for p in sorted(get_files(wildcards).drafts.glob("*.csv"))]


def get_review_pooled(wildcards):
    review = get_review(wildcards)
    return [
        f"results/{review.id}/{outcome.name}/pooled.json" for outcome in review.outcomes
    ]


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


def get_histories(wildcards):
    """Every review's history file (the review's own state, kept in its folder)."""
    return [str(review.files.history) for review in REVIEWS.values()]


def get_site_pages(wildcards):
    """Per review, every file its page shows (livingmeta.workflow.site.site_files)."""
    return {rid: site_files(r, PLOT_FORMATS) for rid, r in REVIEWS.items()}


def get_site_inputs(wildcards):
    return result_inputs(get_site_pages(wildcards))
