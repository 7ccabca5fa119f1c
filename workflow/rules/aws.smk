# AWS only: the kernels' Lambda runtime (built and deployed with Lithops, before any
# experiment; needs Docker and an ECR-capable account), and the budget guard. Before any job, onstart projects the grid's cost on the
# expected data size (aws.expected_data_gb) and refuses to start above aws.budget_usd; this
# rule projects it again on the staged data's real size before the first experiment, and
# every experiment adds what it was billed to the ledger (no experiment starts once it is spent).

if AWS_LAMBDA:

    rule budget:
        input:
            manifest=STAGE.output.manifest,
        output:
            projection=f"{RESULTS}/budget/projection.txt",
        log:
            f"{LOGS}/budget/budget.log",
        conda:
            ENV
        params:
            args=budget_args(),
            ledger=LEDGER,  # what staging and the image have spent already
        shell:
            "aqbench budget {params.args} --manifest {input.manifest} --ledger {params.ledger}"
            " > {output.projection} 2> {log}"

    rule lambda_runtime:
        input:
            record=RUN_RECORD,
            # what goes into the image: a changed file is a new image tag, so a new runtime
            # (ancient: a file touched but not changed, by a checkout or a pull, does not rebuild; a changed
            # one changes the tag, the rule's name parameter, and that reruns it)
            image=[ancient(str(repository_root() / p)) for p in image_inputs()],
        output:
            runtime=f"{RESULTS}/lambda_runtime/runtime.json",
        log:
            f"{LOGS}/lambda_runtime/runtime.log",
        benchmark:
            f"{BENCHMARKS}/lambda_runtime/runtime.tsv"
        conda:
            ENV
        params:
            store=STORE_ARGS,
            backend=as_shell_json(lithops_backend()),
            name=lithops_backend().get("aws_lambda", {}).get("runtime", ""),
            memory=" ".join(str(m) for m in lambda_memory_sizes()),
            home=f"{RESULTS}/lithops-home",
            ledger=ledger_args(),
        shell:
            "aqbench lambda-runtime {params.store} --backend {params.backend} --lithops-home {params.home}"
            " --name {params.name} --memory {params.memory} --out {output.runtime} {params.ledger} > {log} 2>&1"
