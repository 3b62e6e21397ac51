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
    # A quick step (run in Snakemake's process): ahead of the figure jobs, which take seconds.
    priority: 10
    params:
        studies=review_file("studies"),
    run:
        from livingmeta.workflow.grade import summarise_findings

        run_in_snakemake(
            log[0],
            rule,
            summarise_findings,
            get_review(wildcards),
            **inputs_by_outcome(wildcards, input, "pooled", "data"),
            studies=params.studies,
            characteristics=input.characteristics,
            grade=input.grade,
            judgements=input.judgements,
            tables=output.tables,
            inputs=output.inputs,
        )
