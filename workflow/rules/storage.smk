# The local S3 server of the s3-local profile: up before any job, down at the end,
# on success or on error. Other storage kinds need no server. Before it: the preflight checks
# (and, on AWS Lambda, the budget guard).


def _storage(action):
    if STORAGE["kind"] == "s3-local" and not config["report"]["from_results"]:  # a rebuild reads no store
        shell(f"mkdir -p {LOGS} && aqbench storage {action} --state {S3_STATE} >> {LOGS}/storage.log 2>&1")


def _preflight():
    """Endpoints and bucket checked before any job or server start (the schema checked the settings)."""
    import subprocess

    from snakemake.exceptions import WorkflowError

    cmd = ["aqbench", "preflight", *shlex.split(STORE_ARGS), "--scheduler-address", DASK["scheduler_address"]]
    cmd += ["--backend", json.dumps(lithops_backend())]
    if AWS_LAMBDA:  # the account's checks: every memory size the grids deploy, Docker unless the image exists
        cmd += [
            "--memory",
            *map(str, lambda_memory_sizes()),
            "--runtime-record",
            f"{RESULTS}/lambda_runtime/runtime.json",
        ]
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        lines = (done.stderr or done.stdout).strip().splitlines()
        raise WorkflowError(lines[-1] if lines else f"preflight failed ({done.returncode})")


def _budget():
    """AWS: the projected cost of the grid, printed; over aws.budget_usd, nothing starts."""
    import subprocess

    from snakemake.exceptions import WorkflowError

    manifest = f"{RESULTS}/staged/manifest.json"
    cmd = f"aqbench budget {budget_args()} --data-gb {config['aws']['expected_data_gb']} --manifest {manifest}"
    if os.path.exists(LEDGER):
        cmd += f" --ledger {LEDGER}"
    done = subprocess.run(cmd, shell=True, capture_output=True, text=True)
    print(done.stdout, end="")
    if done.returncode != 0:
        lines = (done.stderr or done.stdout).strip().splitlines()
        raise WorkflowError(lines[-1] if lines else f"budget check failed ({done.returncode})")


onstart:
    if config["report"]["from_results"]:  # make paper: the figure, report and paper rules only
        return
    _preflight()
    if AWS_LAMBDA:
        _budget()
    _storage("up")


onsuccess:
    _storage("down")


onerror:
    _storage("down")
