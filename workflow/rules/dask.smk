# Dask baseline: one rule, `dask_experiment`, with a job per enabled experiment (the
# {experiment} wildcard); rerun them all with `snakemake -c2 --forcerun dask_experiment`.


rule dask_experiment:
    input:
        spec=f"{RESULTS}/specs/dask/{{experiment}}.json",
        manifest=STAGE.output.manifest,
        reference=STAGE.output.reference,
        verified=rules.verify_stage.output.report,
    output:
        calls=f"{RESULTS}/dask/{{experiment}}/calls.parquet",
        runs=f"{RESULTS}/dask/{{experiment}}/runs.parquet",
    log:
        f"{LOGS}/dask_experiment/{{experiment}}.log",
    benchmark:
        f"{BENCHMARKS}/dask_experiment/{{experiment}}.tsv"
    wildcard_constraints:
        experiment="|".join(EXPERIMENTS["dask"]) or "none",
    conda:
        ENV
    threads: workflow.cores  # an experiment runs alone: nothing else competes while it is timed
    params:
        out=lambda w, output: os.path.dirname(output.runs),
    shell:
        "aqbench run-dask --spec {input.spec} --manifest {input.manifest} --reference {input.reference}"
        " --out {params.out} > {log} 2>&1"
