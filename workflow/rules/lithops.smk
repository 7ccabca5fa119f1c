# Lithops experiments: one rule, `lithops_experiment`, with a job per enabled experiment
# (the {experiment} wildcard). Rerun them all with `snakemake -c2 --forcerun lithops_experiment`,
# one with `snakemake -c2 --forcerun results/<profile>/lithops/memory/runs.parquet`.
# Every run inside is verified.


rule lithops_experiment:
    input:
        manifest=staged("manifest"),
        reference=staged("reference"),
        verified=rules.verify_stage.output.report,
        budget=budget_input,
    output:
        calls=f"{RESULTS}/lithops/{{experiment}}/calls.parquet",
        runs=f"{RESULTS}/lithops/{{experiment}}/runs.parquet",
    log:
        f"{LOGS}/lithops_experiment/{{experiment}}.log",
    benchmark:
        f"{BENCHMARKS}/lithops_experiment/{{experiment}}.tsv"
    wildcard_constraints:
        experiment="|".join(EXPERIMENTS["lithops"]) or "none",
    conda:
        ENV
    threads: workflow.cores  # an experiment runs alone: nothing else competes while it is timed
    params:
        store=STORE_ARGS,
        grid=lambda w: as_shell_json(EXPERIMENTS["lithops"][w.experiment]["grid"]),
        repetitions=experiment_setting("lithops", "repetitions"),
        backend=as_shell_json(lithops_backend()),
        emulate="--emulate" if LITHOPS["emulate_lambda"] else "--no-emulate",
        warm=(
            f"--warm --keep-alive {LITHOPS['keep_alive_s']} --network {as_shell_json(LITHOPS['network'])}"
            if LITHOPS["warm_environments"]
            else "--no-warm"
        ),
        concurrency=LITHOPS["concurrency"],
        fetch=LITHOPS["reduce_fetch_threads"],
        out=lambda w, output: os.path.dirname(output.runs),
        home=f"{RESULTS}/lithops-home",
        retries=LITHOPS["retries"],
        faults=as_shell_json(config["faults"]),
        ledger=ledger_args(),
    shell:
        "aqbench run-lithops --experiment {wildcards.experiment} --grid {params.grid}"
        " --repetitions {params.repetitions} --manifest {input.manifest} --reference {input.reference}"
        " --out {params.out} {params.store} --backend {params.backend} {params.emulate} {params.warm}"
        " --concurrency {params.concurrency} --reduce-fetch-threads {params.fetch} --lithops-home {params.home}"
        " --retries {params.retries} --faults {params.faults} {params.ledger} > {log} 2>&1"
