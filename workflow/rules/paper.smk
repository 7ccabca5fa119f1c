# The paper: tables and macros from the metrics, then latexmk. No number is typed by hand.

TIMED_RULES = [
    *("generate", "import_legacy", "fetch_openaq", "stage_openaq", "reference_aggregate", "stage", "reference_staged"),
    *("verify_stage", "lambda_runtime", "lithops_experiment", "dask_experiment", "metrics", "bench_kernels"),
    *(f"figure_{name}" for name in FIGURES),
]
"""Every rule before the report: the sum of their benchmark times is what the paper quotes
as the workflow's time (the report and paper rules, which come after, are not in it)."""


rule report:
    input:
        summary=rules.metrics.output.summary,
        reference=rules.reference_aggregate.output.csv,
        reference_summary=rules.reference_aggregate.output.summary,
        manifest=STAGE.output.manifest,
        bench=rules.bench_kernels.output.json,
        benchmarks=rule_benchmarks(*TIMED_RULES),
    output:
        macros=f"{RESULTS}/generated/macros.tex",
        summary_table=f"{RESULTS}/generated/tables/summary.tex",
        rejections=f"{RESULTS}/generated/tables/rejections.tex",
    log:
        f"{LOGS}/report/report.log",
    benchmark:
        f"{BENCHMARKS}/report/report.tsv"
    conda:
        ENV
    params:
        metrics=lambda w, input: os.path.dirname(input.summary),
        generation=(f"--generation {rules.generate.output.data}/generation.json" if SOURCE == "synthetic" else ""),
        prices=as_shell_json(config["prices"]),
        out=lambda w, output: os.path.dirname(output.macros),
    shell:
        "aqbench report --metrics {params.metrics} --reference {input.reference}"
        " --reference-summary {input.reference_summary} --manifest {input.manifest} {params.generation}"
        " --bench {input.bench} --benchmarks {input.benchmarks} --prices {params.prices}"
        " --out {params.out} > {log} 2>&1"


rule paper:
    input:
        sources=paper_sources(),
        macros=rules.report.output.macros,
        tables=[rules.report.output.summary_table, rules.report.output.rejections],
        figures=[getattr(rules, f"figure_{name}").output.pdf for name in FIGURES],
    output:
        pdf=f"{RESULTS}/paper.pdf",
    log:
        f"{LOGS}/paper/paper.log",
    benchmark:
        f"{BENCHMARKS}/paper/paper.tsv"
    conda:
        ENV
    params:
        generated=lambda w, input: os.path.dirname(input.macros),
    shell:
        "aqbench paper --source paper --generated {params.generated} --out {output.pdf} > {log} 2>&1"
