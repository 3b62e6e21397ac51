rule check_screening:
    input:
        get_screening_files,
    output:
        marker=SCREENING_CHECKED,
    log:
        "logs/check_screening/{review}.log",
    # The search-and-screening chain starts first: the run report waits for it.
    priority: 10
    params:
        queue=review_file("queue"),
        decisions=review_file("decisions"),
        studies=review_file("studies"),
    run:
        from livingmeta.workflow.screening import check_screening

        run_in_snakemake(
            log[0],
            rule,
            check_screening,
            get_review(wildcards),
            queue=params.queue,
            decisions=params.decisions,
            studies=params.studies,
            marker=output.marker,
        )


rule screen_new_records:
    input:
        marker=SCREENING_CHECKED,
        candidates="results/{review}/retrieval/candidates.csv",
        report="results/{review}/retrieval/report.json",
        extraction_checked=EXTRACTION_CHECKED,
        drafts=get_extraction_drafts,
    output:
        status="results/{review}/screening/status.json",
        conflicts="results/{review}/screening/conflicts.csv",
        template="results/{review}/extraction/template.csv",
        differences="results/{review}/extraction/differences.csv",
    log:
        "logs/screen_new_records/{review}.log",
    # The search-and-screening chain starts first: the run report waits for it.
    priority: 10
    params:
        # Read, and the queue and studies appended to, in place (the review's files).
        queue=review_file("queue"),
        decisions=review_file("decisions"),
        studies=review_file("studies"),
        registry=review_file("registry"),
        extraction=review_file("extraction"),
    run:
        from livingmeta.workflow.screening import screen_new_records

        run_in_snakemake(
            log[0],
            rule,
            screen_new_records,
            get_review(wildcards),
            candidates=input.candidates,
            report=input.report,
            status=output.status,
            conflicts=output.conflicts,
            template=output.template,
            differences=output.differences,
        )
