# Figures: one rule per figure (rerun one alone: `snakemake -c1 --forcerun figure_cost`).
# Each reads only the metrics; restyling a figure reruns no experiment.

for _name in FIGURES:

    rule:
        name:
            f"figure_{_name}"
        input:
            summary=f"{RESULTS}/metrics/summary.parquet",
            calls=f"{RESULTS}/metrics/calls.parquet",
            reference=f"{RESULTS}/staged/aggregates.csv",
            bench=f"{RESULTS}/bench/kernels.json",
        output:
            pdf=f"{RESULTS}/generated/figures/{_name}.pdf",
            png=f"{RESULTS}/generated/figures/{_name}.png",
        params:
            name=_name,
            metrics=lambda w, input: os.path.dirname(input.summary),
        log:
            f"{LOGS}/figures/{_name}.log",
        conda:
            ENV
        shell:
            "aqbench figure {params.name} --metrics {params.metrics} --reference {input.reference}"
            " --bench {input.bench} --pdf {output.pdf} --png {output.png} > {log} 2>&1"
