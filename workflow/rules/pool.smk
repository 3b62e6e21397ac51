rule pool_outcome:
    input:
        unpack(get_pool_risk_of_bias),
        data="results/{review}/.validated/{outcome}.csv",
    output:
        pooled="results/{review}/{outcome}/pooled.json",
    log:
        "logs/pool_outcome/{review}/{outcome}.log",
    conda:
        "../envs/livingmeta.yaml"
    params:
        # The outcome's analyses beyond pooling: a change reruns this outcome's pooling.
        analyses=get_analyses,
    script:
        "../../scripts/pool_outcome.py"
