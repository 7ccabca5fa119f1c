# Paths and target lists derived from the validated config; every rule file uses these.

RESULTS = f"results/{config['profile']}"
LOGS = f"{RESULTS}/logs"
BENCHMARKS = f"{RESULTS}/benchmarks"
# The software every rule runs with (used with --use-conda; `make` installs it into .venv).
ENV = "../../environment.yml"


def input_paths():
    """The data the study reads, as configured (files or folders)."""
    return config["input"]["paths"]


def final_targets():
    """Everything `rule all` asks for; turning a stage off in the config removes its targets."""
    return [
        f"{RESULTS}/reference/aggregates.csv",
        f"{RESULTS}/reference/summary.json",
    ]
