# Lithops experiments: one rule, `lithops_experiment`, with a job per enabled experiment
# (the {experiment} wildcard). Rerun them all with `snakemake -c2 --forcerun lithops_experiment`,
# one with `snakemake -c2 --forcerun results/<profile>/lithops/memory/runs.parquet`.
# Every run inside is verified. Its settings reach it in one file, its spec (specs.smk).


rule lithops_experiment:
    input:
        spec=f"{RESULTS}/specs/lithops/{{experiment}}.json",
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
        out=lambda w, output: os.path.dirname(output.runs),
    shell:
        "aqbench run-lithops --spec {input.spec} --manifest {input.manifest} --reference {input.reference}"
        " --out {params.out} > {log} 2>&1"
