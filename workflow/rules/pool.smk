rule pool_outcome:
    input:
        extraction=get_extraction,
    output:
        pooled="results/{review}/{outcome}/pooled.json",
    params:
        digest=get_outcome_digest,
    log:
        "logs/pool_outcome/{review}/{outcome}.log",
    conda:
        "../envs/livingmeta.yaml"
    script:
        "../../scripts/pool_outcome.py"
