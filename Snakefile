# livingmeta: keep living systematic reviews and meta-analyses up to date.
# Run with `snakemake --cores 4` (or `make run`); config/README.md documents the config.
from snakemake.utils import min_version

min_version("9.0")


# Snakemake's own message for a YAML syntax error names no line: check it first.
import livingmeta.config as lm_config

try:
    if os.path.exists("config/config.yaml"):
        lm_config.read_yaml("config/config.yaml")
except lm_config.ConfigError as error:
    raise WorkflowError(str(error))


configfile: "config/config.yaml"


include: "workflow/rules/common.smk"
include: "workflow/rules/search.smk"
include: "workflow/rules/screening.smk"
include: "workflow/rules/extraction.smk"
include: "workflow/rules/pool.smk"
include: "workflow/rules/plot.smk"
include: "workflow/rules/summary.smk"
include: "workflow/rules/risk_of_bias.smk"
include: "workflow/rules/characteristics.smk"
include: "workflow/rules/grade.smk"
include: "workflow/rules/report.smk"
include: "workflow/rules/site.smk"


# The figure jobs fork from a process that imports matplotlib once a run: start it while
# the quick steps run, if jobs run here as threads (a cluster's jobs start their own;
# without threads, each job has a Snakemake of its own, which draws itself).
onstart:
    if workflow.local_exec and workflow.use_threads and forks_jobs(workflow):
        start_in_background()


# Searches talk to the internet, which cluster nodes often cannot reach.
localrules:
    search_review,


rule all:
    default_target: True
    input:
        get_final_outputs(),
