rule summarise_findings:
    input:
        unpack(get_review_pooled_by_name),
        unpack(get_review_validated_by_name),
        characteristics=get_characteristics_file,
        grade=get_grade_file,
        judgements=get_risk_of_bias_judgements,
        screening=SCREENING_CHECKED,
    output:
        tables=expand(
            "results/{{review}}/summary_of_findings.{ext}",
            ext=("md", "csv", "html", "docx"),
        ),
        inputs="results/{review}/grade_inputs.json",
    log:
        "logs/summarise_findings/{review}.log",
    conda:
        "../envs/livingmeta.yaml"
    params:
        studies=review_file("studies"),
    script:
        "../../scripts/summarise_findings.py"
