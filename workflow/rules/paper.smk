# The paper: tables and macros from the metrics, then latexmk. No number is typed by hand.

TIMED_RULES = [
    *("generate", "import_legacy", "fetch_openaq", "stage_openaq", "reference_aggregate", "stage", "reference_staged"),
    "stage_study",
    *("study_env", "study_2023", "study_explain"),
    *(
        "verify_stage",
        "lambda_runtime",
        "lithops_experiment",
        "dask_experiment",
        "duckdb_experiment",
        "metrics",
        "bench_kernels",
        "bench_reducer",
        *([] if AWS_LAMBDA else ["bench_engines"]),
    ),
    *("scale_validation", "scale_projection"),
    *(f"figure_{name}" for name in FIGURES + SCALE_FIGURES),
]
"""Every rule before the report: the sum of their benchmark times is what the paper quotes
as the workflow's time (the report and paper rules, which come after, are not in it)."""


rule report:
    input:
        summary=upstream(rules.metrics.output.summary),
        reference=upstream(rules.reference_aggregate.output.csv),
        reference_summary=upstream(rules.reference_aggregate.output.summary),
        manifest=upstream(STAGE.output.manifest),
        bench=upstream(rules.bench_kernels.output.json),
        reducer=upstream(rules.bench_reducer.output.json),
        # the engines bench runs localhost Lithops: not on the AWS profile
        engines=upstream([] if AWS_LAMBDA else rules.bench_engines.output.json),
        explained=upstream(study_explained()),
        # the other files the report reads, declared so that a change to any reruns it
        calls=upstream(rules.metrics.output.calls),
        runs=upstream(rules.metrics.output.runs),
        environment=upstream(rules.metrics.output.environment),
        data=upstream([rules.generate.output.data] if SOURCE == "synthetic" else []),  # its generation.json
        validation=upstream(rules.scale_validation.output.table),
        calibration=upstream(rules.scale_validation.output.calibration),
        projection=upstream(rules.scale_projection.output.table),
        study_runs=upstream(rules.scale_projection.output.study),
        alternatives=upstream(rules.scale_projection.output.alternatives),
        sensitivity=upstream(rules.scale_projection.output.sensitivity),
        floor=upstream(rules.scale_projection.output.floor),
        crossover=upstream(rules.scale_projection.output.crossover),
        published=upstream(rules.scale_validation.output.published),
        facts=upstream(rules.scale_projection.input.facts),
        held_out=upstream(rules.scale_validation.input.published),
        benchmarks=rule_benchmarks(*TIMED_RULES),
    output:
        macros=f"{RESULTS}/generated/macros.tex",
        summary_table=f"{RESULTS}/generated/tables/summary.tex",
        rejections=f"{RESULTS}/generated/tables/rejections.tex",
        projection=f"{RESULTS}/generated/tables/projection.tex",
        study=f"{RESULTS}/generated/tables/study_scale.tex",
        published=f"{RESULTS}/generated/tables/published_validation.tex",
        facts=f"{RESULTS}/generated/tables/lambda_facts.tex",
        facts_bibliography=f"{RESULTS}/generated/tables/facts_bibliography.tex",
        side_by_side=f"{RESULTS}/generated/tables/side_by_side.tex",
        study_code=f"{RESULTS}/generated/tables/study_code.tex",
        study_decomposition=f"{RESULTS}/generated/tables/study_decomposition.tex",
        study_variants=f"{RESULTS}/generated/tables/study_variants.tex",
        lambda_terms=f"{RESULTS}/generated/tables/lambda_terms.tex",
        cost_per_pass=f"{RESULTS}/generated/tables/cost_per_pass.tex",
        summary_csv=report(f"{RESULTS}/generated/summary.csv", caption="../report/summary.rst", category="Summary"),
    log:
        f"{LOGS}/report/report.log",
    benchmark:
        f"{REPORT_BENCHMARKS}/report/report.tsv"
    conda:
        ENV
    params:
        metrics=lambda w, input: os.path.dirname(input.summary),
        generation=lambda w, input: (f"--generation {input.data}/generation.json" if input.data else ""),
        prices=as_shell_json(config["prices"]),
        out=lambda w, output: os.path.dirname(output.macros),
        scale=lambda w, input: os.path.dirname(input.validation),
        drift=config["report"]["max_probe_drift"],
        engines=lambda w, input: (f"--engines-bench {input.engines}" if input.engines else ""),
        explained=lambda w, input: (f"--explained {input.explained}" if input.explained else ""),
    shell:
        "aqbench report --metrics {params.metrics} --reference {input.reference}"
        " --reference-summary {input.reference_summary} --manifest {input.manifest} {params.generation}"
        " --bench {input.bench} --reducer-bench {input.reducer} {params.engines} {params.explained} --scale {params.scale} --benchmarks {input.benchmarks} --prices {params.prices}"
        " --max-probe-drift {params.drift}"
        " --out {params.out} > {log} 2>&1"


rule paper:
    input:
        sources=paper_sources(),
        macros=rules.report.output.macros,
        tables=[
            rules.report.output[t]
            for t in (
                *("summary_table", "rejections", "projection", "study", "facts", "side_by_side"),
                *(
                    "study_code",
                    "lambda_terms",
                    "facts_bibliography",
                    "study_decomposition",
                    "study_variants",
                    "cost_per_pass",
                ),
            )
        ],
        figures=[getattr(rules, f"figure_{name}").output.pdf for name in FIGURES + SCALE_FIGURES],
    output:
        pdf=report(f"{RESULTS}/paper.pdf", caption="../report/paper.rst", category="Paper"),
    log:
        f"{LOGS}/paper/paper.log",
    benchmark:
        f"{REPORT_BENCHMARKS}/paper/paper.tsv"
    conda:
        ENV
    params:
        generated=lambda w, input: os.path.dirname(input.macros),
    shell:
        "aqbench paper --source paper --generated {params.generated} --out {output.pdf} > {log} 2>&1"
