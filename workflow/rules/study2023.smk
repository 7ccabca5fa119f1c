# The study's own code in the study's own software (runtime/study2023): the Python 3.8 environment
# built from its lock (rule study_env), then the slides' code verbatim in it, one activation at a
# time on the study-layout objects, held to an emulated Lambda of each memory size (rule study_2023).
# Left out of the study, with one line, where the machine has no Python 3.8 (make PYTHON38=...).

if STUDY2023:

    rule study_env:
        input:
            record=RUN_RECORD,
            lock=str(STUDY2023_LOCK),
        output:
            environment=f"{RESULTS}/study2023/environment.json",
        log:
            f"{LOGS}/study_env/study_env.log",
        benchmark:
            f"{BENCHMARKS}/study_env/study_env.tsv"
        conda:
            ENV
        params:
            python=shlex.quote(PYTHON38),
        shell:
            "aqbench study-env --python {params.python} --lock {input.lock} --out {output.environment} > {log} 2>&1"

    rule study_2023:
        input:
            environment=rules.study_env.output.environment,
            manifest=rules.stage_study.output.manifest,
        output:
            activations=f"{RESULTS}/study2023/activations.parquet",
        log:
            f"{LOGS}/study_2023/study_2023.log",
        benchmark:
            f"{BENCHMARKS}/study_2023/study_2023.tsv"
        conda:
            ENV
        threads: workflow.cores  # measured alone: nothing else competes while it is timed
        params:
            store=STORE_ARGS,
            memory=" ".join(str(m) for m in config["study2023"]["memory_mb"]),
            preprocess=" ".join(config["study2023"]["preprocess"]),
            jobs=" ".join(config["study2023"]["jobs"]),
            software=" ".join(config["study2023"]["software"]),
            repetitions=config["study2023"]["repetitions"],
            objects=config["study2023"]["objects"],
        shell:
            "aqbench study-2023 --environment {input.environment} --manifest {input.manifest} {params.store}"
            " --objects {params.objects} --memory {params.memory} --repetitions {params.repetitions}"
            " --preprocess {params.preprocess} --jobs {params.jobs} --software {params.software}"
            " --out {output.activations} > {log} 2>&1"

    rule study_explain:
        input:
            activations=rules.study_2023.output.activations,
            calibration=rules.scale_validation.output.calibration,
            facts="workflow/config/lambda_facts.yaml",
            cpu_facts="workflow/config/cpu_facts.yaml",
        output:
            explained=STUDY_EXPLAINED,
        log:
            f"{LOGS}/study_explain/study_explain.log",
        benchmark:
            f"{BENCHMARKS}/study_explain/study_explain.tsv"
        conda:
            ENV
        params:
            prices=as_shell_json(config["prices"]),
        shell:
            "aqbench study-explain --activations {input.activations} --calibration {input.calibration}"
            " --facts {input.facts} --cpu-facts {input.cpu_facts} --prices {params.prices}"
            " --out {output.explained} > {log} 2>&1"
