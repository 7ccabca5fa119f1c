# Dask baseline: one rule, `dask_experiment`, with a job per enabled experiment (the
# {experiment} wildcard); rerun them all with `snakemake -c2 --forcerun dask_experiment`.


rule dask_experiment:
    input:
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
        store=STORE_ARGS,
        grid=lambda w: as_shell_json(EXPERIMENTS["dask"][w.experiment]["grid"]),
        repetitions=experiment_setting("dask", "repetitions"),
        scheduler=shlex.quote(DASK["scheduler_address"]),
        store_endpoint=shlex.quote(DASK["store_endpoint"]),
        retries=DASK["retries"],
        faults=as_shell_json(config["faults"]),
        terms=lambda w: (
            f"--emulate-lambda --network {as_shell_json(LITHOPS['network'])}"
            if EXPERIMENTS["dask"][w.experiment].get("emulate_lambda")
            else ""
        ),
        out=lambda w, output: os.path.dirname(output.runs),
        ledger=ledger_args(off_aws=not DASK["scheduler_address"]),
    shell:
        "aqbench run-dask --experiment {wildcards.experiment} --grid {params.grid}"
        " --repetitions {params.repetitions} --manifest {input.manifest} --reference {input.reference}"
        " --out {params.out} {params.store} --scheduler-address {params.scheduler}"
        " --store-endpoint {params.store_endpoint}"
        " --retries {params.retries} --faults {params.faults} {params.terms} {params.ledger} > {log} 2>&1"
