rule summarise_review:
    input:
        pooled=get_review_pooled,
    output:
        markdown="results/{review}/summary.md",
        csv="results/{review}/summary.csv",
        tidy="results/{review}/pooled.csv",
    log:
        "logs/summarise_review/{review}.log",
    # A quick step (run in Snakemake's process): ahead of the figure jobs, which take seconds.
    priority: 10
    run:
        from livingmeta.workflow.summary import summarise_review

        run_in_snakemake(
            log[0],
            rule,
            summarise_review,
            get_review(wildcards),
            pooled=input.pooled,
            csv=output.csv,
            markdown=output.markdown,
            tidy=output.tidy,
        )
