# Dask baseline: one rule per experiment, rerunnable alone (`--forcerun dask_experiment`).


rule dask_experiment:
    input:
        manifest=f"{RESULTS}/staged/manifest.json",
        reference=f"{RESULTS}/staged/aggregates.csv",
        verified=f"{RESULTS}/staged/verify.json",
    output:
        calls=f"{RESULTS}/dask/{{experiment}}/calls.parquet",
        runs=f"{RESULTS}/dask/{{experiment}}/runs.parquet",
    params:
        store=STORE_ARGS,
        grid=lambda w: as_shell_json(DASK_EXPERIMENTS[w.experiment]["grid"]),
        repetitions=lambda w: DASK_EXPERIMENTS[w.experiment].get("repetitions", DASK["repetitions"]),
        scheduler=shlex.quote(DASK["scheduler_address"]),
        retries=DASK["retries"],
        faults=as_shell_json(config["faults"]),
        out=lambda w: f"{RESULTS}/dask/{w.experiment}",
    wildcard_constraints:
        experiment="|".join(DASK_EXPERIMENTS) or "none",
    log:
        f"{LOGS}/dask_experiment/{{experiment}}.log",
    benchmark:
        f"{BENCHMARKS}/dask_experiment/{{experiment}}.tsv"
    threads: workflow.cores  # an experiment runs alone: nothing else competes while it is timed
    conda:
        ENV
    shell:
        "aqbench run-dask --experiment {wildcards.experiment} --grid {params.grid}"
        " --repetitions {params.repetitions} --manifest {input.manifest} --reference {input.reference}"
        " --out {params.out} {params.store} --scheduler-address {params.scheduler}"
        " --retries {params.retries} --faults {params.faults} > {log} 2>&1"
