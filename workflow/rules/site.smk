rule build_site:
    input:
        get_site_inputs,
    output:
        directory("results/site"),
    log:
        "logs/build_site/all.log",
    conda:
        "../envs/livingmeta.yaml"
    params:
        pages=get_site_pages,
    script:
        "../../scripts/build_site.py"
