rule check_extraction:
    input:
        extraction=get_extraction_table,
        drafts=get_extraction_drafts,
    output:
        marker=EXTRACTION_CHECKED,
    log:
        "logs/check_extraction/{review}.log",
    # A quick step (run in Snakemake's process): ahead of the figure jobs, which take seconds.
    priority: 10
    run:
        from livingmeta.workflow.extraction import check_extraction

        run_in_snakemake(
            log[0],
            rule,
            check_extraction,
            get_review(wildcards),
            extraction=input.extraction,
            marker=output.marker,
            drafts=input.drafts,
        )


rule validate_outcome:
    input:
        extraction=get_extraction,
    output:
        # Deleted when the job fails (invalid data); a target of rule all, so the next
        # run validates again (common.smk: intermediate_outputs).
        data="results/{review}/.validated/{outcome}.csv",
    log:
        "logs/validate_outcome/{review}/{outcome}.log",
    # A quick step (run in Snakemake's process): ahead of the figure jobs, which take seconds.
    priority: 10
    params:
        digest=get_outcome_digest,
        studies=review_file("studies"),
        queue=review_file("queue"),
        decisions=review_file("decisions"),
    run:
        from livingmeta.workflow.extraction import validate_outcome

        run_in_snakemake(
            log[0],
            rule,
            validate_outcome,
            get_review(wildcards),
            get_outcome(wildcards),
            extraction=input.extraction,
            studies=params.studies,
            queue=params.queue,
            decisions=params.decisions,
            data=output.data,
        )
