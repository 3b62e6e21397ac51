rule search_review:
    input:
        imports=get_imports_log,
        screening=SCREENING_CHECKED,
    output:
        report="results/{review}/retrieval/report.json",
        candidates="results/{review}/retrieval/candidates.csv",
    log:
        "logs/search_review/{review}.log",
    # The search-and-screening chain starts first: the run report waits for it.
    priority: 10
    conda:
        "../envs/livingmeta.yaml"
    params:
        run_date=get_run_date,
        searches=get_searches,
        settings=get_retrieval_settings,
        # Updated in place: the registry, search state and snapshots of the review.
        state=review_file("state"),
        # Read: records handed over earlier but never queued are handed over again.
        queue=review_file("queue"),
    script:
        "../../scripts/search_review.py"
