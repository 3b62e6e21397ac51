rule summarise_review:
    input:
        pooled=get_review_pooled,
    output:
        markdown="results/{review}/summary.md",
        csv="results/{review}/summary.csv",
        tidy="results/{review}/pooled.csv",
    log:
        "logs/summarise_review/{review}.log",
    conda:
        "../envs/livingmeta.yaml"
    script:
        "../../scripts/summarise_review.py"
