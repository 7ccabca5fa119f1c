# At the study's scale: the simulation of Lithops on Lambda (aqbench simulate), calibrated on
# this profile's own Lithops calls. scale_validation simulates every configuration the profile
# measured and sets predicted beside measured wall times, and the held-out published jobs
# (workflow/config/published_jobs.yaml) beside their published times; scale_projection simulates one 50 GB
# job per configuration of the study's grid and the study's own runs, and prices a single large
# instance (DuckDB) and a Dask cluster from this machine's measured rates.


rule scale_validation:
    input:
        calls=rules.metrics.output.calls,
        runs=rules.metrics.output.runs,
        bench=rules.bench_kernels.output.json,
        facts="workflow/config/lambda_facts.yaml",
        published="workflow/config/published_jobs.yaml",
    output:
        table=f"{RESULTS}/scale/validation.csv",
        published=f"{RESULTS}/scale/published.csv",
        calibration=f"{RESULTS}/scale/calibration.json",
    log:
        f"{LOGS}/scale/validation.log",
    benchmark:
        f"{BENCHMARKS}/scale/validation.tsv"
    conda:
        ENV
    params:
        metrics=lambda w, input: os.path.dirname(input.calls),
        out=lambda w, output: os.path.dirname(output.table),
        network=NETWORK_ARGS,
    shell:
        "aqbench simulate --validate --metrics {params.metrics} --bench {input.bench} {params.network}"
        " --facts {input.facts} --published {input.published} --out {params.out} > {log} 2>&1"


rule scale_projection:
    input:
        calls=rules.metrics.output.calls,
        runs=rules.metrics.output.runs,
        bench=rules.bench_kernels.output.json,
        facts="workflow/config/lambda_facts.yaml",
    output:
        table=f"{RESULTS}/scale/projection.csv",
        optimum=f"{RESULTS}/scale/optimum.csv",
        study=f"{RESULTS}/scale/study.csv",
        alternatives=f"{RESULTS}/scale/alternatives.csv",
        lambda_sizes=f"{RESULTS}/scale/lambda_sizes.csv",
        crossover=f"{RESULTS}/scale/crossover.json",
        sensitivity=f"{RESULTS}/scale/sensitivity.csv",
        floor=f"{RESULTS}/scale/floor.json",
    log:
        f"{LOGS}/scale/projection.log",
    benchmark:
        f"{BENCHMARKS}/scale/projection.tsv"
    conda:
        ENV
    params:
        metrics=lambda w, input: os.path.dirname(input.calls),
        out=lambda w, output: os.path.dirname(output.table),
        network=NETWORK_ARGS,
        prices=as_shell_json(config["prices"]),
        seeds=config["scale"]["seeds"],
    shell:
        "aqbench simulate --project --metrics {params.metrics} --bench {input.bench} {params.network}"
        " --facts {input.facts} --seeds {params.seeds}"
        " --prices {params.prices} --out {params.out} > {log} 2>&1"
