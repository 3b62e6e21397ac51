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
        # Studies removed after inclusion get no row and are named under the tables:
        # read from these files as pool_outcome's data are (a change reruns the step).
        studies=review_file("studies"),
        queue=review_file("queue"),
        decisions=review_file("decisions"),
        removed=get_removed_studies,
    script:
        "../../scripts/tabulate_characteristics.py"
