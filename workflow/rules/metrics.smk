# Metrics: every experiment's per-call rows -> tidy tables and summaries; the kernel benchmark.


rule metrics:
    input:
        runs=experiment_runs(),
    output:
        summary=f"{RESULTS}/metrics/summary.parquet",
        calls=f"{RESULTS}/metrics/calls.parquet",
        runs=f"{RESULTS}/metrics/runs.parquet",
        environment=f"{RESULTS}/metrics/environment.json",
    log:
        f"{LOGS}/metrics/metrics.log",
    benchmark:
        f"{BENCHMARKS}/metrics/metrics.tsv"
    conda:
        ENV
    params:
        prices=as_shell_json(config["prices"]),
        out=lambda w, output: os.path.dirname(output.summary),
    shell:
        "aqbench metrics {input.runs} --prices {params.prices} --out {params.out} > {log} 2>&1"


rule bench_kernels:
    input:
        record=RUN_RECORD,
    output:
        json=f"{RESULTS}/bench/kernels.json",
    log:
        f"{LOGS}/bench_kernels/kernels.log",
    benchmark:
        f"{BENCHMARKS}/bench_kernels/kernels.tsv"
    conda:
        ENV
    threads: workflow.cores  # timed: runs alone
    params:
        size=config["bench"]["object_size"],
        fan_in=config["bench"]["fan_in"],
        repeats=config["bench"]["repeats"],
    shell:
        "aqbench bench kernels --size {params.size} --fan-in {params.fan_in} --repeats {params.repeats}"
        " --json {output.json} > {log} 2>&1"


# A reducer's fetch and merge of many partials from a local S3 server: one request at a time
# (the old reducer) against Lithops' 64, interleaved, in one run (aqbench bench reducer).
rule bench_reducer:
    input:
        record=RUN_RECORD,
    output:
        json=f"{RESULTS}/bench/reducer.json",
    log:
        f"{LOGS}/bench_reducer/reducer.log",
    benchmark:
        f"{BENCHMARKS}/bench_reducer/reducer.tsv"
    conda:
        ENV
    threads: workflow.cores  # timed: runs alone
    params:
        fan_in=config["bench"]["fan_in"],
        delayed=max(1, config["bench"]["fan_in"] // 20),
        delay_ms=config["lithops"]["network"]["remote_latency_ms"],
        threads=config["lithops"]["reduce_fetch_threads"],
        repeats=config["bench"]["repeats"],
    shell:
        "aqbench bench reducer --fan-in {params.fan_in} --fan-in-delayed {params.delayed}"
        " --delay-ms {params.delay_ms} --threads {params.threads} --repeats {params.repeats}"
        " --json {output.json} > {log} 2>&1"


# Every engine under the same terms (this machine's cores, no Lambda emulation, the same store)
# on the first staged objects, interleaved, beside the bare parse and the fastest reader
# (aqbench bench engines): the paper's ranking of the engines. Localhost Lithops only.
rule bench_engines:
    input:
        manifest=STAGE.output.manifest,
        reference=STAGE.output.reference,
        verified=rules.verify_stage.output.report,
    output:
        json=f"{RESULTS}/bench/engines.json",
    log:
        f"{LOGS}/bench_engines/engines.log",
    benchmark:
        f"{BENCHMARKS}/bench_engines/engines.tsv"
    conda:
        ENV
    threads: workflow.cores  # timed: runs alone
    params:
        ledger=ledger_args(off_aws=True),
        store=STORE_ARGS,
        objects=config["bench"]["engine_objects"],
        repeats=config["bench"]["repeats"],
        home=f"{RESULTS}/lithops-home",
    shell:
        "aqbench bench engines {params.store} --manifest {input.manifest} --reference {input.reference}"
        " --objects {params.objects} --repeats {params.repeats} --lithops-home {params.home}"
        " --json {output.json} {params.ledger} > {log} 2>&1"
