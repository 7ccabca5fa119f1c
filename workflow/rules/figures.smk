# Figures: one rule per figure, named figure_<name> (rerun one alone:
# `snakemake -c1 --forcerun figure_cost`). The names come from aqbench.report.figure_names.
# Each reads only the metrics (the scale_* figures: the simulation's tables); restyling a
# figure reruns no experiment.

for _name in FIGURES:

    rule:
        name:
            f"figure_{_name}"
        input:
            summary=upstream(rules.metrics.output.summary),
            calls=upstream(rules.metrics.output.calls),
            reference=upstream(rules.reference_aggregate.output.csv),
            bench=upstream(rules.bench_kernels.output.json),
            # the engines figure only: the engines bench
            engines=upstream(rules.bench_engines.output.json if _name == "engines" and not AWS_LAMBDA else []),
        output:
            pdf=f"{RESULTS}/generated/figures/{_name}.pdf",
            png=report(
                f"{RESULTS}/generated/figures/{_name}.png",
                caption=f"../report/figures/{_name}.rst",
                category="Figures",
                subcategory="Measured",
            ),
        log:
            f"{LOGS}/figures/{_name}.log",
        benchmark:
            f"{REPORT_BENCHMARKS}/figures/{_name}.tsv"
        conda:
            ENV
        params:
            name=_name,
            metrics=lambda w, input: os.path.dirname(input.summary),
            engines=lambda w, input: (f"--engines-bench {input.engines}" if input.engines else ""),
        shell:
            "aqbench figure {params.name} --metrics {params.metrics} --reference {input.reference}"
            " --bench {input.bench} {params.engines} --pdf {output.pdf} --png {output.png} > {log} 2>&1"


for _name in SCALE_FIGURES:

    rule:
        name:
            f"figure_{_name}"
        input:
            validation=upstream(rules.scale_validation.output.table),
            projection=upstream(rules.scale_projection.output.table),
            optimum=upstream(rules.scale_projection.output.optimum),
            alternatives=upstream(rules.scale_projection.output.alternatives),
            sensitivity=upstream(rules.scale_projection.output.sensitivity),
        output:
            pdf=f"{RESULTS}/generated/figures/{_name}.pdf",
            png=report(
                f"{RESULTS}/generated/figures/{_name}.png",
                caption=f"../report/figures/{_name}.rst",
                category="Figures",
                subcategory="At the study's scale",
            ),
        log:
            f"{LOGS}/figures/{_name}.log",
        benchmark:
            f"{REPORT_BENCHMARKS}/figures/{_name}.tsv"
        conda:
            ENV
        params:
            name=_name,
            scale=lambda w, input: os.path.dirname(input.validation),
            metrics=f"{RESULTS}/metrics",
        shell:
            "aqbench figure {params.name} --metrics {params.metrics} --scale {params.scale}"
            " --pdf {output.pdf} --png {output.png} > {log} 2>&1"
