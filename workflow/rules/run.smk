# The run record: the machine and code this run starts on (aqbench run-record). It is never
# committed, `rule all` asks for it, and every rule that starts from nothing (the data, the
# kernel bench, the Lambda runtime) takes it as input. So a fresh clone, which holds the
# canonical run's committed results but not this record, plans the whole study: no committed
# result is taken for this machine's (without it, a committed output of a rule with no inputs
# looks done forever, and Snakemake does not rerun a job for a missing intermediate file).
# A rerun of a finished or interrupted run keeps its record and redoes only what is missing.


rule run_record:
    output:
        record=RUN_RECORD,
    log:
        f"{LOGS}/run_record/run_record.log",
    conda:
        ENV
    params:
        profile=config["profile"],
    shell:
        "aqbench run-record --profile {params.profile} --out {output.record} > {log} 2>&1"
