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
    conda:
        "../envs/livingmeta.yaml"
    params:
        studies=review_file("studies"),
    script:
        "../../scripts/tabulate_characteristics.py"
