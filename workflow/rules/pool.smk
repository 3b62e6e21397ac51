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
    script:
        "../../scripts/validate_outcome.py"


rule pool_outcome:
    input:
        data="results/{review}/.validated/{outcome}.csv",
    output:
        pooled="results/{review}/{outcome}/pooled.json",
    log:
        "logs/pool_outcome/{review}/{outcome}.log",
    conda:
        "../envs/livingmeta.yaml"
    script:
        "../../scripts/pool_outcome.py"
