# Metrics: every experiment's per-call rows -> tidy tables and summaries; the kernel benchmark.


rule metrics:
    input:
        experiment_runs(),
    output:
        summary=f"{RESULTS}/metrics/summary.parquet",
        calls=f"{RESULTS}/metrics/calls.parquet",
        runs=f"{RESULTS}/metrics/runs.parquet",
    params:
        prices=as_shell_json(config["prices"]),
        out=lambda w, output: os.path.dirname(output.summary),
    log:
        f"{LOGS}/metrics/metrics.log",
    benchmark:
        f"{BENCHMARKS}/metrics/metrics.tsv"
    conda:
        ENV
    shell:
        "aqbench metrics {input} --prices {params.prices} --out {params.out} > {log} 2>&1"


rule bench_kernels:
    output:
        f"{RESULTS}/bench/kernels.json",
    params:
        size=config["bench"]["object_size"],
        fan_in=config["bench"]["fan_in"],
        repeats=config["bench"]["repeats"],
    log:
        f"{LOGS}/bench_kernels/kernels.log",
    benchmark:
        f"{BENCHMARKS}/bench_kernels/kernels.tsv"
    threads: workflow.cores  # timed: runs alone
    conda:
        ENV
    shell:
        "aqbench bench kernels --size {params.size} --fan-in {params.fan_in} --repeats {params.repeats}"
        " --json {output} > {log} 2>&1"
