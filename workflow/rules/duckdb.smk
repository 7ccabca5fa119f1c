# The single machine: one rule, `duckdb_experiment`, with a job per enabled experiment (the
# {experiment} wildcard): one DuckDB query over every staged object on every core; rerun with
# `snakemake -c2 --forcerun duckdb_experiment`.


rule duckdb_experiment:
    input:
        spec=f"{RESULTS}/specs/duckdb/{{experiment}}.json",
        manifest=STAGE.output.manifest,
        reference=STAGE.output.reference,
        verified=rules.verify_stage.output.report,
    output:
        calls=f"{RESULTS}/duckdb/{{experiment}}/calls.parquet",
        runs=f"{RESULTS}/duckdb/{{experiment}}/runs.parquet",
    log:
        f"{LOGS}/duckdb_experiment/{{experiment}}.log",
    benchmark:
        f"{BENCHMARKS}/duckdb_experiment/{{experiment}}.tsv"
    wildcard_constraints:
        experiment="|".join(EXPERIMENTS["duckdb"]) or "none",
    conda:
        ENV
    threads: workflow.cores  # an experiment runs alone: nothing else competes while it is timed
    params:
        out=lambda w, output: os.path.dirname(output.runs),
    shell:
        "aqbench run-duckdb --spec {input.spec} --manifest {input.manifest} --reference {input.reference}"
        " --out {params.out} > {log} 2>&1"
