# The paper: tables and macros from the metrics, then latexmk. No number is typed by hand.


rule report:
    input:
        summary=f"{RESULTS}/metrics/summary.parquet",
        reference=f"{RESULTS}/staged/aggregates.csv",
        reference_summary=f"{RESULTS}/staged/summary.json",
        manifest=f"{RESULTS}/staged/manifest.json",
        bench=f"{RESULTS}/bench/kernels.json",
        benchmarks=timed_benchmarks(),
    output:
        macros=f"{RESULTS}/generated/macros.tex",
        summary_table=f"{RESULTS}/generated/tables/summary.tex",
        rejections=f"{RESULTS}/generated/tables/rejections.tex",
    params:
        metrics=lambda w, input: os.path.dirname(input.summary),
        generation=generation_option(),
        prices=as_shell_json(config["prices"]),
        out=lambda w, output: os.path.dirname(output.macros),
    log:
        f"{LOGS}/report/report.log",
    conda:
        ENV
    shell:
        "aqbench report --metrics {params.metrics} --reference {input.reference}"
        " --reference-summary {input.reference_summary} --manifest {input.manifest} {params.generation}"
        " --bench {input.bench} --benchmarks {input.benchmarks} --prices {params.prices}"
        " --out {params.out} > {log} 2>&1"


rule paper:
    input:
        sources=paper_sources(),
        macros=f"{RESULTS}/generated/macros.tex",
        tables=[f"{RESULTS}/generated/tables/summary.tex", f"{RESULTS}/generated/tables/rejections.tex"],
        figures=expand(f"{RESULTS}/generated/figures/{{name}}.pdf", name=FIGURES),
    output:
        f"{RESULTS}/paper.pdf",
    params:
        generated=lambda w, input: os.path.dirname(input.macros),
    log:
        f"{LOGS}/paper/paper.log",
    benchmark:
        f"{BENCHMARKS}/paper/paper.tsv"
    conda:
        ENV
    shell:
        "aqbench paper --source paper --generated {params.generated} --out {output} > {log} 2>&1"
