rule check_extraction:
    input:
        extraction=get_extraction_table,
        drafts=get_extraction_drafts,
    output:
        marker=EXTRACTION_CHECKED,
    log:
        "logs/check_extraction/{review}.log",
    conda:
        "../envs/livingmeta.yaml"
    script:
        "../../scripts/check_extraction.py"


rule validate_outcome:
    input:
        extraction=get_extraction,
    output:
        # Removed before the job and not restored when it fails (invalid data), so the
        # next run validates again: Snakemake records a failed update() job's params as
        # if it had finished, and the fixed table would then never be read.
        data="results/{review}/.validated/{outcome}.csv",
    log:
        "logs/validate_outcome/{review}/{outcome}.log",
    conda:
        "../envs/livingmeta.yaml"
    params:
        digest=get_outcome_digest,
        studies=review_file("studies"),
        queue=review_file("queue"),
        decisions=review_file("decisions"),
    script:
        "../../scripts/validate_outcome.py"
