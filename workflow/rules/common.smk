# Shared helpers: config validation at load, the portfolio of reviews, and the named
# get_* functions every rule takes its inputs and params from. Every path comes from a
# review's ReviewFiles (livingmeta.config), so a file is named in one place.
import re
from datetime import date
from functools import cache

import livingmeta.config as lm_config
import livingmeta.fingerprints as lm_fingerprints
from livingmeta.fork_server import draw_here, forks_jobs, start_in_background
from livingmeta.rulelog import run_forked, run_in_snakemake
from livingmeta.analysis_settings import merged_analyses
from livingmeta.workflow.plot import analysis_figure_kinds
from livingmeta.workflow.risk_of_bias import figure_specs
from livingmeta.workflow.site import result_inputs, site_files

try:
    lm_config.validate_config(config, "config/config.yaml")
except lm_config.ConfigError as error:
    raise WorkflowError(str(error))

REVIEWS = lm_config.reviews(config)
# A Snakemake started for one job (run without force-use-threads) draws in its process.
if workflow.subprocess_exec:
    draw_here()
# The outcomes of each review (each has an estimate-over-time plot).
REVIEW_OUTCOMES = {rid: [o.name for o in r.outcomes] for rid, r in REVIEWS.items()}
# The risk-of-bias figures (stems) of each review that declares a tool.
RISK_OF_BIAS_FIGURES = {
    rid: list(figures) for rid, r in REVIEWS.items() if (figures := figure_specs(r))
}
PLOT_FORMATS = config["plots"]["formats"]
PLOT_KINDS = ("forest", "cumulative", "leave_one_out")
HISTORY_FORMATS = ("png", "svg")
# Markers of passed checks, kept outside results/: Snakemake deletes a job's outputs
# before it runs, so a failing check may delete its own marker but never a result.
EXTRACTION_CHECKED = "logs/checked/{review}/extraction.json"
SCREENING_CHECKED = "logs/checked/{review}/screening.json"


wildcard_constraints:
    review="|".join(REVIEWS),
    outcome="[A-Za-z0-9][A-Za-z0-9_-]*",


def get_review(wildcards):
    return REVIEWS[wildcards.review]


def get_outcome(wildcards):
    return get_review(wildcards).outcome(wildcards.outcome)


def inputs_by_outcome(wildcards, input, *prefixes):
    """A review job's inputs named ``<prefix>_<outcome>``: by prefix, then outcome."""
    outcomes = get_review(wildcards).outcomes
    return {p: {o.name: input[f"{p}_{o.name}"] for o in outcomes} for p in prefixes}


def report_run_inputs(wildcards, input):
    """report_run's inputs as the step takes them: its four files by name, each outcome's
    pooled result and forest plot by outcome, and all of them for the appraisal."""
    named = {n: input[n] for n in ("retrieval", "candidates", "status", "prisma")}
    by_outcome = inputs_by_outcome(wildcards, input, "pooled", "forest")
    return {**named, **by_outcome, "appraisal": dict(input.items())}


def get_files(wildcards):
    return get_review(wildcards).files


def get_extraction(wildcards):
    """The review's extraction table; marked ancient so that only a change in an
    outcome's own rows (its digest param) reruns that outcome's jobs."""
    return ancient(str(get_files(wildcards).extraction))


def get_extraction_table(wildcards):
    """The review's extraction table (a change revalidates it)."""
    return str(get_files(wildcards).extraction)


# What the DAG reads from reviewers' files, remembered by their bytes between runs.
MEMORY = lm_fingerprints.FileMemory()


@cache
def removed_study_ids(review_id):
    """Studies removed after inclusion (retraction decision, exclusion recorded after
    inclusion), read once per run for every outcome's digest."""
    return lm_fingerprints.removed_study_ids(MEMORY, REVIEWS[review_id])


def get_removed_studies(wildcards):
    """The studies removed after inclusion (a change reruns the step that names them)."""
    return list(removed_study_ids(wildcards.review))


def get_outcome_digest(wildcards):
    """Fingerprint of the outcome's rows and of the studies removed by decision."""
    review = get_review(wildcards)
    return lm_fingerprints.outcome_digest(
        review.files.extraction,
        review.outcome(wildcards.outcome),
        removed_study_ids(review.id),
        MEMORY,
    )


def get_study_labels(wildcards):
    """Each study's labels in the analyses (from the extraction table), by study id."""
    return lm_fingerprints.study_labels(MEMORY, get_review(wildcards))


def get_prisma_settings(wildcards):
    """What the PRISMA diagram takes from the config (a change redraws it): the previous
    version's counts, the searched sources and the title."""
    review = get_review(wildcards)
    return {
        "previous_version": review.spec.get("previous_version"),
        "sources": [s["source"] for s in review.spec.get("searches", [])],
        "title": review.title,
    }


def get_analyses(wildcards):
    """The outcome's analyses beyond pooling: its review's settings, its own on top."""
    return merged_analyses(get_review(wildcards).spec, wildcards.outcome)


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
                + analysis_figure_kinds(review.spec, outcome.name)
                for ext in PLOT_FORMATS
            ]
        outputs += appraisal_outputs(review)
        outputs += intermediate_outputs(review)
    return outputs


def intermediate_outputs(review):
    """An output of each job that only other jobs read: targets too, so that a job that
    failed runs again next time. Snakemake deletes a failed job's outputs but records
    its params and input checksums as if it had finished, and would otherwise take the
    existing results downstream as up to date ("Nothing to be done" after a failed run).
    """
    root = f"results/{review.id}"
    outputs = [
        EXTRACTION_CHECKED.format(review=review.id),
        SCREENING_CHECKED.format(review=review.id),
        f"{root}/screening/status.json",
        f"{root}/prisma.json",
        f"{root}/report/changes.json",
    ]
    for outcome in review.outcomes:
        outputs += [
            f"{root}/.validated/{outcome.name}.csv",
            f"{root}/{outcome.name}/pooled.json",
        ]
    if has_risk_of_bias(review):
        outputs.append(f"{root}/risk_of_bias/judgements.json")
    return outputs


def appraisal_outputs(review):
    """Risk-of-bias figures, characteristics tables and the summary of findings."""
    root = f"results/{review.id}"
    outputs = [
        f"{root}/risk_of_bias/{stem}.{ext}"
        for stem in RISK_OF_BIAS_FIGURES.get(review.id, ())
        for ext in PLOT_FORMATS
    ]
    if has_characteristics(review):
        outputs += [f"{root}/characteristics.{ext}" for ext in ("md", "csv", "html")]
    if review.outcomes:
        outputs += [
            f"{root}/summary_of_findings.{ext}" for ext in ("md", "csv", "html", "docx")
        ]
    outputs += [
        f"{root}/{o.name}/sequential.{ext}"
        for o in review.outcomes
        if review.sequential(o.name) is not None
        for ext in HISTORY_FORMATS
    ]
    return outputs


def has_characteristics(review):
    """Whether the review declares characteristics fields or descriptive outcomes."""
    return "characteristics" in review.spec or bool(review.descriptive)


def has_risk_of_bias(review):
    return "risk_of_bias" in review.spec


def get_risk_of_bias_files(wildcards):
    """The assessors' files and the consensus file of the review (a change settles again)."""
    folder = get_files(wildcards).risk_of_bias
    return [str(p) for p in sorted(folder.glob("*.csv"))]


def get_risk_of_bias_judgements(wildcards):
    """The settled judgements, for reviews that declare risk-of-bias tools."""
    if not has_risk_of_bias(get_review(wildcards)):
        return []
    return [f"results/{wildcards.review}/risk_of_bias/judgements.json"]


def get_pool_risk_of_bias(wildcards):
    """Pooling's settled judgements (the restricted sensitivity analysis), if any."""
    found = get_risk_of_bias_judgements(wildcards)
    return {"risk_of_bias": found[0]} if found else {}


def get_characteristics_file(wildcards):
    return get_files(wildcards).existing("characteristics")


def get_grade_file(wildcards):
    return get_files(wildcards).existing("grade")


def get_review_pooled_by_name(wildcards):
    """Every outcome's pooled.json, named ``pooled_<outcome>``."""
    review = get_review(wildcards)
    return {
        f"pooled_{o.name}": f"results/{review.id}/{o.name}/pooled.json"
        for o in review.outcomes
    }


def get_review_validated_by_name(wildcards):
    """Every outcome's validated rows, named ``data_<outcome>``."""
    review = get_review(wildcards)
    return {
        f"data_{o.name}": f"results/{review.id}/.validated/{o.name}.csv"
        for o in review.outcomes
    }


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
    """The reviewers' screening files and assessments that exist (a change revalidates
    them)."""
    files = get_files(wildcards)
    folder = files.risk_of_bias
    ratings = sorted(folder.glob("*.csv")) if folder.is_dir() else []
    checked = files.existing("decisions", "studies", "grade", "characteristics")
    return checked + [str(p) for p in ratings]


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


def get_appraisal_inputs(wildcards):
    """The run report's appraisal results (named ``appraisal_<what>``) the review has."""
    review, root = get_review(wildcards), f"results/{wildcards.review}"
    inputs = {}
    if has_risk_of_bias(review):
        inputs["appraisal_judgements"] = f"{root}/risk_of_bias/judgements.json"
    if has_characteristics(review):
        inputs["appraisal_characteristics"] = f"{root}/characteristics.html"
        inputs["appraisal_descriptive"] = f"{root}/descriptive.json"
    if review.outcomes:
        inputs["appraisal_summary_of_findings"] = f"{root}/summary_of_findings.html"
        # Each outcome's certainty, recorded in the history with its estimate.
        inputs["appraisal_grade_inputs"] = f"{root}/grade_inputs.json"
    return inputs


def get_histories(wildcards):
    """Every review's history file (the review's own state, kept in its folder)."""
    return [str(review.files.history) for review in REVIEWS.values()]


def get_site_pages(wildcards):
    """Per review, every file its page shows (livingmeta.workflow.site.site_files)."""
    return {rid: site_files(r, PLOT_FORMATS) for rid, r in REVIEWS.items()}


def get_site_inputs(wildcards):
    return result_inputs(get_site_pages(wildcards))
