# Paths and target lists derived from the validated config; every rule file uses these.

RESULTS = f"results/{config['profile']}"
LOGS = f"{RESULTS}/logs"
BENCHMARKS = f"{RESULTS}/benchmarks"
DATA = f"{RESULTS}/data"
S3_STATE = f"{RESULTS}/s3"
LITHOPS_TMP = f"{RESULTS}/lithops-tmp"
# The software every rule runs with (used with --use-conda; `make` installs it into .venv).
ENV = "../../environment.yml"

STORAGE = config["storage"]
# The options every verb that reads the object store takes (see `aqbench stage --help`).
STORE_ARGS = (
    f"--storage {STORAGE['kind']} --bucket {STORAGE['bucket']} --state {S3_STATE}"
    f" --lithops-tmp {LITHOPS_TMP} --region {STORAGE['region']}"
)


def final_targets():
    """Everything `rule all` asks for; turning a stage off in the config removes its targets."""
    return [
        f"{RESULTS}/reference/aggregates.csv",
        f"{RESULTS}/staged/verify.json",
    ]
