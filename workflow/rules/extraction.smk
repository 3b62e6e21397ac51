rule check_extraction:
    input:
        extraction=get_extraction_table,
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
        # update(): kept while the job runs and restored if it fails (invalid data), as
        # Snakemake would otherwise delete it first.
        data=update("results/{review}/.validated/{outcome}.csv"),
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
