rule draw_prisma:
    input:
        status="results/{review}/screening/status.json",
    output:
        counts="results/{review}/prisma.json",
        figures=expand("results/{{review}}/prisma.{ext}", ext=("png", "svg")),
    log:
        "logs/draw_prisma/{review}.log",
    # The search-and-screening chain starts first: the run report waits for it.
    priority: 10
    params:
        registry=review_file("registry"),
        studies=review_file("studies"),
        queue=review_file("queue"),
        decisions=review_file("decisions"),
        settings=get_prisma_settings,
    run:
        from livingmeta.workflow.report import draw_prisma

        run_forked(
            log[0],
            rule,
            draw_prisma,
            get_review(wildcards),
            status=input.status,
            registry=params.registry,
            studies=params.studies,
            queue=params.queue,
            decisions=params.decisions,
            counts=output.counts,
            figures=list(output.figures),
        )


# The run report shows the estimate-over-time plot of every outcome of its review and
# writes them as files too (one job draws them from the history it has just recorded):
# its outputs depend on the review's outcomes, so each review has a rule of its own,
# report_run_<review id>, in the Slurm profile's group "report" (see risk_of_bias.smk).
for review_id, outcomes in REVIEW_OUTCOMES.items():

    rule:
        name:
            f"report_run_{review_id}"
        input:
            unpack(get_report_inputs),
            unpack(get_appraisal_inputs),
            retrieval="results/{review}/retrieval/report.json",
            candidates="results/{review}/retrieval/candidates.csv",
            status="results/{review}/screening/status.json",
            prisma="results/{review}/prisma.json",
        output:
            html="results/{review}/report/latest.html",
            changes="results/{review}/report/changes.json",
            history_figures=expand(
                "results/{{review}}/{outcome}/history.{ext}",
                outcome=outcomes,
                ext=HISTORY_FORMATS,
            ),
        log:
            "logs/report_run/{review}.log",
        wildcard_constraints:
            review=re.escape(review_id),
        group:
            "report"
        resources:
            # Minutes for the Slurm profile: a third of a second a figure, with room.
            runtime=2 + len(outcomes) // 60,
        params:
            decisions=review_file("decisions"),
            studies=review_file("studies"),
            queue=review_file("queue"),
            # Updated in place: the review's history of estimates, and the report archive.
            history=review_file("history"),
            archive=review_file("reports"),
        run:
            from livingmeta.workflow.report import report_run

            # The outputs and params are named like the step's arguments.
            run_forked(
                log[0],
                "report_run",
                report_run,
                get_review(wildcards),
                **report_run_inputs(wildcards, input),
                **output,
                **params,
            )


rule collect_history:
    input:
        expand("results/{review}/report/changes.json", review=REVIEWS),
    output:
        "results/history.csv",
    log:
        "logs/collect_history/all.log",
    params:
        histories=get_histories,
    run:
        from livingmeta.workflow.report import collect_history

        run_in_snakemake(
            log[0],
            rule,
            collect_history,
            histories=params.histories,
            table=output[0],
        )
