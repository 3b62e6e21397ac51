rule check_screening:
    input:
        get_screening_files,
    output:
        marker=SCREENING_CHECKED,
    log:
        "logs/check_screening/{review}.log",
    # The search-and-screening chain starts first: the run report waits for it.
    priority: 10
    conda:
        "../envs/livingmeta.yaml"
    params:
        queue=review_file("queue"),
        decisions=review_file("decisions"),
        studies=review_file("studies"),
    script:
        "../../scripts/check_screening.py"


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
    conda:
        "../envs/livingmeta.yaml"
    params:
        # Read, and the queue and studies appended to, in place (the review's files).
        queue=review_file("queue"),
        decisions=review_file("decisions"),
        studies=review_file("studies"),
        registry=review_file("registry"),
        extraction=review_file("extraction"),
    script:
        "../../scripts/screen_new_records.py"
