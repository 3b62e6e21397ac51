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
