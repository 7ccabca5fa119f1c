# Data stage: obtain the measurements, stage them into the bucket, and compute the
# reference aggregates every engine run is checked against.

SOURCE = config["data"]["source"]

if SOURCE == "synthetic":

    rule generate:
        output:
            directory(DATA),
        params:
            size=config["data"]["synthetic"]["size"],
            seed=config["data"]["synthetic"]["seed"],
            days=config["data"]["synthetic"]["days"],
            object_size=config["data"]["object_size"],
            bad=config["data"]["synthetic"]["bad_fraction"],
            sentinel=config["data"]["synthetic"]["sentinel_fraction"],
        log:
            f"{LOGS}/generate/generate.log",
        benchmark:
            f"{BENCHMARKS}/generate/generate.tsv"
        threads: workflow.cores
        conda:
            ENV
        shell:
            "aqbench generate --size {params.size} --seed {params.seed} --days {params.days}"
            " --object-size {params.object_size} --bad-fraction {params.bad}"
            " --sentinel-fraction {params.sentinel} --jobs {threads} --out {output} > {log} 2>&1"

elif SOURCE in ("sample", "legacy"):

    rule import_legacy:
        input:
            config["data"][SOURCE]["paths"],
        output:
            directory(DATA),
        params:
            object_size=config["data"]["object_size"],
        log:
            f"{LOGS}/import_legacy/import.log",
        conda:
            ENV
        shell:
            "aqbench import-legacy {input} --object-size {params.object_size} --out {output} > {log} 2>&1"

elif SOURCE == "openaq-archive":

    rule fetch_openaq:
        output:
            directory(DATA),
        params:
            country=config["data"]["openaq_archive"]["country"],
            start=config["data"]["openaq_archive"]["start"],
            end=config["data"]["openaq_archive"]["end"],
            max_locations=config["data"]["openaq_archive"]["max_locations"],
            object_size=config["data"]["object_size"],
        log:
            f"{LOGS}/fetch_openaq/fetch.log",
        conda:
            ENV
        shell:
            "aqbench fetch-openaq --country {params.country} --start {params.start} --end {params.end}"
            " --max-locations {params.max_locations} --object-size {params.object_size}"
            " --out {output} > {log} 2>&1"


rule reference_aggregate:
    input:
        DATA,
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


rule stage:
    input:
        DATA,
    output:
        manifest=f"{RESULTS}/staged/manifest.json",
    params:
        store=STORE_ARGS,
        prefix=STORAGE["prefix"],
    log:
        f"{LOGS}/stage/stage.log",
    benchmark:
        f"{BENCHMARKS}/stage/stage.tsv"
    threads: workflow.cores
    conda:
        ENV
    shell:
        "aqbench stage {input} {params.store} --prefix {params.prefix} --manifest {output.manifest}"
        " --quiet > {log} 2>&1"


rule reference_staged:
    input:
        manifest=f"{RESULTS}/staged/manifest.json",
    output:
        csv=f"{RESULTS}/staged/aggregates.csv",
        summary=f"{RESULTS}/staged/summary.json",
    params:
        store=STORE_ARGS,
    log:
        f"{LOGS}/reference_staged/reference.log",
    benchmark:
        f"{BENCHMARKS}/reference_staged/reference.tsv"
    threads: workflow.cores
    conda:
        ENV
    shell:
        "aqbench aggregate --manifest {input.manifest} {params.store} --out {output.csv}"
        " --summary {output.summary} --threads {threads} > {log} 2>&1"


rule verify_stage:
    input:
        expected=f"{RESULTS}/reference/aggregates.csv",
        actual=f"{RESULTS}/staged/aggregates.csv",
        summary=f"{RESULTS}/staged/summary.json",
        manifest=f"{RESULTS}/staged/manifest.json",
    output:
        f"{RESULTS}/staged/verify.json",
    log:
        f"{LOGS}/verify_stage/verify.log",
    conda:
        ENV
    shell:
        "aqbench verify --expected {input.expected} --actual {input.actual} --summary {input.summary}"
        " --manifest {input.manifest} --out {output} > {log} 2>&1"
