rule search_review:
    input:
        imports=get_imports_log,
        screening="results/{review}/.validated/screening.json",
    output:
        report="results/{review}/retrieval/report.json",
        candidates="results/{review}/retrieval/candidates.csv",
    log:
        "logs/search_review/{review}.log",
    conda:
        "../envs/livingmeta.yaml"
    params:
        run_date=get_run_date,
        searches=get_searches,
        settings=get_retrieval_settings,
        # Updated in place: the registry, search state and snapshots of the review.
        state=review_file("state"),
    script:
        "../../scripts/search_review.py"
