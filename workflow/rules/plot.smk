rule plot_outcome:
    input:
        data="results/{review}/.validated/{outcome}.csv",
        pooled="results/{review}/{outcome}/pooled.json",
    output:
        report(
            expand("results/{{review}}/{{outcome}}/forest.{ext}", ext=PLOT_FORMATS),
            caption="../report/forest.rst",
            category="Forest plots",
        ),
        expand("results/{{review}}/{{outcome}}/cumulative.{ext}", ext=PLOT_FORMATS),
        expand("results/{{review}}/{{outcome}}/leave_one_out.{ext}", ext=PLOT_FORMATS),
    log:
        "logs/plot_outcome/{review}/{outcome}.log",
    conda:
        "../envs/livingmeta.yaml"
    params:
        settings=get_plot_settings,
    script:
        "../../scripts/plot_outcome.py"
