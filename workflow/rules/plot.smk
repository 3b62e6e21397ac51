# One job draws every plot of an outcome from its pooled.json (the funnel plot too): a
# job's start-up and imports cost far more than a figure.
rule plot_outcome:
    input:
        unpack(get_pool_risk_of_bias),
        pooled="results/{review}/{outcome}/pooled.json",
    output:
        report(
            expand("results/{{review}}/{{outcome}}/forest.{ext}", ext=PLOT_FORMATS),
            caption="../report/forest.rst",
            category="Forest plots",
        ),
        expand("results/{{review}}/{{outcome}}/cumulative.{ext}", ext=PLOT_FORMATS),
        expand("results/{{review}}/{{outcome}}/leave_one_out.{ext}", ext=PLOT_FORMATS),
        expand("results/{{review}}/{{outcome}}/funnel.{ext}", ext=PLOT_FORMATS),
    log:
        "logs/plot_outcome/{review}/{outcome}.log",
    # The run report waits for the forest plots; the risk-of-bias figures can wait.
    priority: 5
    params:
        dpi=config["plots"]["dpi"],
    run:
        from livingmeta.workflow.plot import plot_outcome

        # pooled (and risk_of_bias when the review rates it), dpi: the step's names.
        run_forked(
            log[0],
            rule,
            plot_outcome,
            get_outcome(wildcards),
            review=get_review(wildcards),
            figures=list(output),
            **input,
            **params,
        )


rule plot_bubble:
    input:
        pooled="results/{review}/{outcome}/pooled.json",
    output:
        expand("results/{{review}}/{{outcome}}/bubble.{ext}", ext=PLOT_FORMATS),
    log:
        "logs/plot_bubble/{review}/{outcome}.log",
    params:
        dpi=config["plots"]["dpi"],
    run:
        from livingmeta.workflow.plot import plot_bubble

        run_forked(
            log[0],
            rule,
            plot_bubble,
            get_outcome(wildcards),
            pooled=input.pooled,
            figures=list(output),
            dpi=params.dpi,
        )


rule plot_sequential:
    input:
        changes="results/{review}/report/changes.json",
        pooled="results/{review}/{outcome}/pooled.json",
    output:
        expand("results/{{review}}/{{outcome}}/sequential.{ext}", ext=HISTORY_FORMATS),
    log:
        "logs/plot_sequential/{review}/{outcome}.log",
    params:
        # Written by report_run (the review's own state, kept in its folder).
        history=review_file("history"),
    run:
        from livingmeta.workflow.plot import plot_sequential

        run_forked(
            log[0],
            rule,
            plot_sequential,
            get_review(wildcards),
            get_outcome(wildcards),
            pooled=input.pooled,
            history=params.history,
            figures=list(output),
        )
