# Lithops experiments: one rule per experiment, each rerunnable alone
# (e.g. `snakemake -c2 --forcerun lithops_memory`). Every run inside is verified.

rule lithops_experiment:
    input:
        manifest=f"{RESULTS}/staged/manifest.json",
        reference=f"{RESULTS}/staged/aggregates.csv",
        verified=f"{RESULTS}/staged/verify.json",
    output:
        calls=f"{RESULTS}/lithops/{{experiment}}/calls.parquet",
        runs=f"{RESULTS}/lithops/{{experiment}}/runs.parquet",
    params:
        store=STORE_ARGS,
        grid=lambda w: as_shell_json(LITHOPS_EXPERIMENTS[w.experiment]["grid"]),
        repetitions=lambda w: LITHOPS_EXPERIMENTS[w.experiment].get("repetitions", LITHOPS["repetitions"]),
        backend=as_shell_json(lithops_backend()),
        emulate="--emulate" if LITHOPS["emulate_lambda"] else "--no-emulate",
        concurrency=LITHOPS["concurrency"],
        out=lambda w: f"{RESULTS}/lithops/{w.experiment}",
        home=f"{RESULTS}/lithops-home",
        retries=LITHOPS["retries"],
        faults=as_shell_json(config["faults"]),
    wildcard_constraints:
        experiment="|".join(LITHOPS_EXPERIMENTS) or "none",
    log:
        f"{LOGS}/lithops_experiment/{{experiment}}.log",
    benchmark:
        f"{BENCHMARKS}/lithops_experiment/{{experiment}}.tsv"
    threads: workflow.cores  # an experiment runs alone: nothing else competes while it is timed
    conda:
        ENV
    shell:
        "aqbench run-lithops --experiment {wildcards.experiment} --grid {params.grid}"
        " --repetitions {params.repetitions} --manifest {input.manifest} --reference {input.reference}"
        " --out {params.out} {params.store} --backend {params.backend} {params.emulate}"
        " --concurrency {params.concurrency} --lithops-home {params.home}"
        " --retries {params.retries} --faults {params.faults} > {log} 2>&1"
