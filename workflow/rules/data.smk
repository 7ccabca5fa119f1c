# Data stage: the reference aggregates every engine run is checked against.


rule reference_aggregate:
    input:
        input_paths(),
    output:
        csv=f"{RESULTS}/reference/aggregates.csv",
        summary=f"{RESULTS}/reference/summary.json",
    log:
        f"{LOGS}/reference_aggregate/reference.log",
    benchmark:
        f"{BENCHMARKS}/reference_aggregate/reference.tsv"
    threads: workflow.cores
    conda:
        ENV
    shell:
        "aqbench aggregate {input} --out {output.csv} --summary {output.summary}"
        " --threads {threads} > {log} 2>&1"
