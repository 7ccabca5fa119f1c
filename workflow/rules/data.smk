# Data stage: obtain the measurements, stage them into the bucket, and compute the
# references: the whole dataset's in one query, and one partial per object from the source
# files (staging), whose merge is the reference of any subset an engine run reads.
# reference_staged reads the bucket back (every object checksummed) and verify_stage checks
# it equals the source's reference.
# openaq-lithops (staging at scale): Lithops calls fetch the public archive straight into the
# bucket; nothing passes through this machine, so the references are the merge of the partials
# the calls computed from the bytes they uploaded (and read back), and verify_stage checks
# that every object is still in the bucket as staged, without downloading it.

SOURCE = config["data"]["source"]

if SOURCE == "synthetic":

    rule generate:
        input:
            record=RUN_RECORD,
        output:
            data=directory(DATA),
        log:
            f"{LOGS}/generate/generate.log",
        benchmark:
            f"{BENCHMARKS}/generate/generate.tsv"
        conda:
            ENV
        threads: workflow.cores
        params:
            size=config["data"]["synthetic"]["size"],
            seed=config["data"]["synthetic"]["seed"],
            days=config["data"]["synthetic"]["days"],
            object_size=config["data"]["object_size"],
            bad=config["data"]["synthetic"]["bad_fraction"],
            sentinel=config["data"]["synthetic"]["sentinel_fraction"],
        shell:
            "aqbench generate --size {params.size} --seed {params.seed} --days {params.days}"
            " --object-size {params.object_size} --bad-fraction {params.bad}"
            " --sentinel-fraction {params.sentinel} --jobs {threads} --out {output.data} > {log} 2>&1"

    DATA_RULE = rules.generate

elif SOURCE in ("sample", "legacy"):

    rule import_legacy:
        input:
            paths=config["data"][SOURCE]["paths"],
            record=RUN_RECORD,
        output:
            data=directory(DATA),
        log:
            f"{LOGS}/import_legacy/import.log",
        benchmark:
            f"{BENCHMARKS}/import_legacy/import.tsv"
        conda:
            ENV
        params:
            object_size=config["data"]["object_size"],
        shell:
            "aqbench import-legacy {input.paths} --object-size {params.object_size} --out {output.data} > {log} 2>&1"

    DATA_RULE = rules.import_legacy

elif SOURCE == "openaq-archive":

    rule fetch_openaq:
        input:
            record=RUN_RECORD,
        output:
            data=directory(DATA),
        log:
            f"{LOGS}/fetch_openaq/fetch.log",
        benchmark:
            f"{BENCHMARKS}/fetch_openaq/fetch.tsv"
        conda:
            ENV
        params:
            country=config["data"]["openaq_archive"]["country"],
            start=config["data"]["openaq_archive"]["start"],
            end=config["data"]["openaq_archive"]["end"],
            max_locations=config["data"]["openaq_archive"]["max_locations"],
            object_size=config["data"]["object_size"],
        shell:
            "aqbench fetch-openaq --country {params.country} --start {params.start} --end {params.end}"
            " --max-locations {params.max_locations} --object-size {params.object_size}"
            " --out {output.data} > {log} 2>&1"

    DATA_RULE = rules.fetch_openaq

elif SOURCE == "openaq-lithops":

    rule stage_openaq:
        input:
            runtime=lambda w: [rules.lambda_runtime.output.runtime] if AWS_LAMBDA else [],
            record=RUN_RECORD,
        output:
            manifest=f"{RESULTS}/staged/manifest.json",
            reference=f"{RESULTS}/staged/reference.parquet",
        log:
            f"{LOGS}/stage_openaq/stage.log",
        benchmark:
            f"{BENCHMARKS}/stage_openaq/stage.tsv"
        conda:
            ENV
        params:
            store=STORE_ARGS,
            prefix=STORAGE["prefix"],
            backend=as_shell_json(lithops_backend()),
            home=f"{RESULTS}/lithops-home",
            archive=ARCHIVE_ARGS,
            ledger=ledger_args(),
        shell:
            "aqbench stage-openaq {params.store} --prefix {params.prefix} --backend {params.backend}"
            " --lithops-home {params.home} {params.archive} --manifest {output.manifest}"
            " --reference {output.reference} {params.ledger} > {log} 2>&1"

    STAGE = rules.stage_openaq

    rule reference_aggregate:
        input:
            manifest=STAGE.output.manifest,
            partials=STAGE.output.reference,
        output:
            csv=f"{RESULTS}/reference/aggregates.csv",
            summary=f"{RESULTS}/reference/summary.json",
        log:
            f"{LOGS}/reference_aggregate/reference.log",
        benchmark:
            f"{BENCHMARKS}/reference_aggregate/reference.tsv"
        conda:
            ENV
        shell:
            "aqbench aggregate --partials {input.partials} --manifest {input.manifest} --out {output.csv}"
            " --summary {output.summary} > {log} 2>&1"

    rule verify_stage:
        input:
            manifest=STAGE.output.manifest,
        output:
            report=f"{RESULTS}/staged/verify.json",
        log:
            f"{LOGS}/verify_stage/verify.log",
        benchmark:
            f"{BENCHMARKS}/verify_stage/verify.tsv"
        conda:
            ENV
        params:
            store=STORE_ARGS,
        shell:
            "aqbench verify-bucket --manifest {input.manifest} {params.store} --out {output.report} > {log} 2>&1"


if SOURCE != "openaq-lithops":

    rule reference_aggregate:
        input:
            DATA_RULE.output.data,
        output:
            csv=f"{RESULTS}/reference/aggregates.csv",
            summary=f"{RESULTS}/reference/summary.json",
        log:
            f"{LOGS}/reference_aggregate/reference.log",
        benchmark:
            f"{BENCHMARKS}/reference_aggregate/reference.tsv"
        conda:
            ENV
        threads: workflow.cores
        shell:
            "aqbench aggregate {input} --out {output.csv} --summary {output.summary}"
            " --threads {threads} > {log} 2>&1"

    rule stage:
        input:
            DATA_RULE.output.data,
        output:
            manifest=f"{RESULTS}/staged/manifest.json",
            reference=f"{RESULTS}/staged/reference.parquet",
        log:
            f"{LOGS}/stage/stage.log",
        benchmark:
            f"{BENCHMARKS}/stage/stage.tsv"
        conda:
            ENV
        threads: workflow.cores
        params:
            store=STORE_ARGS,
            prefix=STORAGE["prefix"],
        shell:
            "aqbench stage {input} {params.store} --prefix {params.prefix} --manifest {output.manifest}"
            " --reference {output.reference} --quiet > {log} 2>&1"

    STAGE = rules.stage

    rule reference_staged:
        input:
            manifest=STAGE.output.manifest,
        output:
            csv=f"{RESULTS}/staged/aggregates.csv",
            summary=f"{RESULTS}/staged/summary.json",
        log:
            f"{LOGS}/reference_staged/reference.log",
        benchmark:
            f"{BENCHMARKS}/reference_staged/reference.tsv"
        conda:
            ENV
        threads: workflow.cores
        params:
            store=STORE_ARGS,
        shell:
            "aqbench aggregate --manifest {input.manifest} {params.store} --out {output.csv}"
            " --summary {output.summary} --threads {threads} > {log} 2>&1"

    rule verify_stage:
        input:
            expected=rules.reference_aggregate.output.csv,
            actual=rules.reference_staged.output.csv,
            summary=rules.reference_staged.output.summary,
            manifest=STAGE.output.manifest,
        output:
            report=f"{RESULTS}/staged/verify.json",
        log:
            f"{LOGS}/verify_stage/verify.log",
        benchmark:
            f"{BENCHMARKS}/verify_stage/verify.tsv"
        conda:
            ENV
        shell:
            "aqbench verify --expected {input.expected} --actual {input.actual} --summary {input.summary}"
            " --manifest {input.manifest} --out {output.report} > {log} 2>&1"


# The study's own layout: the first objects again as whole JSON documents (a DataFrame's
# to_json()), for the study kernel's experiments (layout: study), with their source objects'
# line accounts and reference partials; and those source objects as they are (layout:
# study-sources), so this build's kernels are timed on the same records.
rule stage_study:
    input:
        manifest=STAGE.output.manifest,
        reference=STAGE.output.reference,
        verified=rules.verify_stage.output.report,
    output:
        manifest=f"{RESULTS}/staged/study/manifest.json",
        reference=f"{RESULTS}/staged/study/reference.parquet",
        sources_manifest=f"{RESULTS}/staged/study/sources_manifest.json",
        sources_reference=f"{RESULTS}/staged/study/sources_reference.parquet",
    log:
        f"{LOGS}/stage_study/stage.log",
    benchmark:
        f"{BENCHMARKS}/stage_study/stage.tsv"
    conda:
        ENV
    params:
        store=STORE_ARGS,
        objects=config["data"]["study_layout_objects"],
        ledger=ledger_args(off_aws=True),
    shell:
        "aqbench stage-study --manifest {input.manifest} --reference {input.reference} --objects {params.objects}"
        " {params.store} --out-manifest {output.manifest} --out-reference {output.reference}"
        " --out-sources-manifest {output.sources_manifest} --out-sources-reference {output.sources_reference}"
        " {params.ledger} > {log} 2>&1"
