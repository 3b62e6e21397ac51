rule report_run:
    input:
        unpack(get_report_inputs),
        retrieval="results/{review}/retrieval/report.json",
        candidates="results/{review}/retrieval/candidates.csv",
        status="results/{review}/screening/status.json",
        prisma="results/{review}/prisma.json",
    output:
        html="results/{review}/report/latest.html",
        changes="results/{review}/report/changes.json",
    log:
        "logs/report_run/{review}.log",
    conda:
        "../envs/livingmeta.yaml"
    script:
        "../../scripts/report_run.py"


rule plot_history:
    input:
        changes="results/{review}/report/changes.json",
    output:
        expand("results/{{review}}/{{outcome}}/history.{ext}", ext=("png", "svg")),
    log:
        "logs/plot_history/{review}/{outcome}.log",
    conda:
        "../envs/livingmeta.yaml"
    params:
        formats=("png", "svg"),
    script:
        "../../scripts/plot_history.py"


rule collect_history:
    input:
        expand("results/{review}/report/changes.json", review=REVIEWS),
    output:
        "results/history.csv",
    log:
        "logs/collect_history/all.log",
    conda:
        "../envs/livingmeta.yaml"
    script:
        "../../scripts/collect_history.py"


rule build_site:
    input:
        get_site_inputs,
    output:
        directory("results/site"),
    log:
        "logs/build_site/all.log",
    conda:
        "../envs/livingmeta.yaml"
    script:
        "../../scripts/build_site.py"
