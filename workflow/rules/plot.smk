rule plot_outcome:
    input:
        pooled="results/{review}/{outcome}/pooled.json",
        extraction=get_extraction,
    output:
        report(
            expand("results/{{review}}/{{outcome}}/forest.{ext}", ext=PLOT_FORMATS),
            caption="../report/forest.rst",
            category="Forest plots",
        ),
        expand("results/{{review}}/{{outcome}}/cumulative.{ext}", ext=PLOT_FORMATS),
        expand("results/{{review}}/{{outcome}}/leave_one_out.{ext}", ext=PLOT_FORMATS),
    params:
        digest=get_outcome_digest,
        settings=get_plot_settings,
    log:
        "logs/plot_outcome/{review}/{outcome}.log",
    conda:
        "../envs/livingmeta.yaml"
    script:
        "../../scripts/plot_outcome.py"
