rule check_extraction:
    input:
        extraction=get_extraction_table,
    output:
        marker="results/{review}/.validated/extraction.json",
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
        data="results/{review}/.validated/{outcome}.csv",
    log:
        "logs/validate_outcome/{review}/{outcome}.log",
    conda:
        "../envs/livingmeta.yaml"
    params:
        digest=get_outcome_digest,
        studies=review_file("studies"),
    script:
        "../../scripts/validate_outcome.py"
