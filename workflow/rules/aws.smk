# AWS only: the budget guard. Before any job, onstart projects the grid's cost on the
# expected data size (aws.expected_data_gb) and refuses to start above aws.budget_usd; this
# rule projects it again on the staged data's real size before the first experiment, and
# every experiment adds what it was billed to the ledger (no experiment starts once it is spent).

if AWS_LAMBDA:

    rule budget:
        input:
            manifest=rules.stage.output.manifest,
        output:
            projection=f"{RESULTS}/budget/projection.txt",
        log:
            f"{LOGS}/budget/budget.log",
        conda:
            ENV
        params:
            args=budget_args(),
        shell:
            "aqbench budget {params.args} --manifest {input.manifest} > {output.projection} 2> {log}"
