rule pool_outcome:
    input:
        unpack(get_pool_risk_of_bias),
        data="results/{review}/.validated/{outcome}.csv",
    output:
        pooled="results/{review}/{outcome}/pooled.json",
    log:
        "logs/pool_outcome/{review}/{outcome}.log",
    # A quick step (run in Snakemake's process): ahead of the figure jobs, which take seconds.
    priority: 10
    params:
        # The outcome's analyses beyond pooling: a change reruns this outcome's pooling.
        analyses=get_analyses,
    run:
        from livingmeta.workflow.pool import pool_outcome

        run_in_snakemake(
            log[0],
            rule,
            pool_outcome,
            get_review(wildcards),
            get_outcome(wildcards),
            data=input.data,
            pooled=output.pooled,
            risk_of_bias=input.get("risk_of_bias"),
            analyses=params.analyses,
        )
