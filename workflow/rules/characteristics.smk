rule tabulate_characteristics:
    input:
        characteristics=get_characteristics_file,
        # Outcomes a study did not report are named under the tables.
        extraction=get_extraction_table,
        screening=SCREENING_CHECKED,
    output:
        markdown="results/{review}/characteristics.md",
        csv="results/{review}/characteristics.csv",
        html="results/{review}/characteristics.html",
        descriptive="results/{review}/descriptive.json",
    log:
        "logs/tabulate_characteristics/{review}.log",
    # A quick step (run in Snakemake's process): ahead of the figure jobs, which take seconds.
    priority: 10
    params:
        # Studies removed after inclusion get no row and are named under the tables:
        # read from these files as pool_outcome's data are (a change reruns the step).
        studies=review_file("studies"),
        queue=review_file("queue"),
        decisions=review_file("decisions"),
        removed=get_removed_studies,
    run:
        from livingmeta.workflow.characteristics import tabulate_characteristics

        run_in_snakemake(
            log[0],
            rule,
            tabulate_characteristics,
            get_review(wildcards),
            characteristics=input.characteristics,
            studies=params.studies,
            markdown=output.markdown,
            csv=output.csv,
            html=output.html,
            descriptive=output.descriptive,
            extraction=input.extraction,
            queue=params.queue,
            decisions=params.decisions,
        )
