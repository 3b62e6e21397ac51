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
    conda:
        "../envs/livingmeta.yaml"
    params:
        dpi=config["plots"]["dpi"],
    script:
        "../../scripts/plot_outcome.py"


rule plot_bubble:
    input:
        pooled="results/{review}/{outcome}/pooled.json",
    output:
        expand("results/{{review}}/{{outcome}}/bubble.{ext}", ext=PLOT_FORMATS),
    log:
        "logs/plot_bubble/{review}/{outcome}.log",
    conda:
        "../envs/livingmeta.yaml"
    params:
        dpi=config["plots"]["dpi"],
    script:
        "../../scripts/plot_bubble.py"


rule plot_sequential:
    input:
        changes="results/{review}/report/changes.json",
        pooled="results/{review}/{outcome}/pooled.json",
    output:
        expand("results/{{review}}/{{outcome}}/sequential.{ext}", ext=HISTORY_FORMATS),
    log:
        "logs/plot_sequential/{review}/{outcome}.log",
    conda:
        "../envs/livingmeta.yaml"
    params:
        # Written by report_run (the review's own state, kept in its folder).
        history=review_file("history"),
    script:
        "../../scripts/plot_sequential.py"
