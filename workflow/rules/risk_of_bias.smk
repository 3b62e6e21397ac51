rule settle_risk_of_bias:
    input:
        assessments=get_risk_of_bias_files,
        screening=SCREENING_CHECKED,
    output:
        judgements="results/{review}/risk_of_bias/judgements.json",
    log:
        "logs/settle_risk_of_bias/{review}.log",
    conda:
        "../envs/livingmeta.yaml"
    params:
        studies=review_file("studies"),
        # The analyses' label of each study (its extraction rows'): a change relabels.
        labels=get_study_labels,
    script:
        "../../scripts/settle_risk_of_bias.py"


rule plot_risk_of_bias:
    input:
        unpack(get_review_pooled_by_name),
        judgements="results/{review}/risk_of_bias/judgements.json",
    output:
        expand("results/{{review}}/risk_of_bias/{{figure}}.{ext}", ext=PLOT_FORMATS),
    log:
        "logs/plot_risk_of_bias/{review}/{figure}.log",
    wildcard_constraints:
        figure="(traffic_light|summary)_[A-Za-z0-9_-]+",
    conda:
        "../envs/livingmeta.yaml"
    params:
        dpi=config["plots"]["dpi"],
    script:
        "../../scripts/plot_risk_of_bias.py"
