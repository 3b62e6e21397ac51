rule settle_risk_of_bias:
    input:
        assessments=get_risk_of_bias_files,
        screening=SCREENING_CHECKED,
    output:
        judgements="results/{review}/risk_of_bias/judgements.json",
    log:
        "logs/settle_risk_of_bias/{review}.log",
    # A quick step (run in Snakemake's process): ahead of the figure jobs, which take seconds.
    priority: 10
    params:
        studies=review_file("studies"),
        # The analyses' label of each study (its extraction rows'): a change relabels.
        labels=get_study_labels,
    run:
        from livingmeta.workflow.risk_of_bias import settle_risk_of_bias

        run_in_snakemake(
            log[0],
            rule,
            settle_risk_of_bias,
            get_review(wildcards),
            assessments=input.assessments,
            studies=params.studies,
            judgements=output.judgements,
            labels=params.labels,
        )


# One job draws every risk-of-bias figure of a review: a job's start-up and imports cost
# far more than a figure. Which figures a review has depends on its tools and outcomes,
# so each review with a tool has a rule of its own, plot_risk_of_bias_<review id>; the
# Slurm profile cannot name these rules, so they join its group "prepare" here (groups
# are ignored when Snakemake runs jobs locally).
for review_id, figures in RISK_OF_BIAS_FIGURES.items():

    rule:
        name:
            f"plot_risk_of_bias_{review_id}"
        input:
            unpack(get_review_pooled_by_name),
            judgements="results/{review}/risk_of_bias/judgements.json",
        output:
            expand(
                "results/{{review}}/risk_of_bias/{figure}.{ext}",
                figure=figures,
                ext=PLOT_FORMATS,
            ),
        log:
            "logs/plot_risk_of_bias/{review}.log",
        wildcard_constraints:
            review=re.escape(review_id),
        group:
            "prepare"
        resources:
            # Minutes for the Slurm profile: a third of a second a figure, with room.
            runtime=2 + len(figures) // 60,
        params:
            dpi=config["plots"]["dpi"],
        run:
            from livingmeta.workflow.risk_of_bias import plot_risk_of_bias

            run_forked(
                log[0],
                "plot_risk_of_bias",
                plot_risk_of_bias,
                get_review(wildcards),
                judgements=input.judgements,
                pooled=inputs_by_outcome(wildcards, input, "pooled")["pooled"],
                figures=list(output),
                dpi=params.dpi,
            )
