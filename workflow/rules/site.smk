rule build_site:
    input:
        get_site_inputs,
    output:
        directory("results/site"),
    log:
        "logs/build_site/all.log",
    params:
        pages=get_site_pages,
    run:
        from livingmeta.workflow.site import build_site

        run_in_snakemake(
            log[0],
            rule,
            build_site,
            list(REVIEWS.values()),
            pages=params.pages,
            site=output[0],
        )
