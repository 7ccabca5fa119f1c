# Paths and target lists derived from the validated config; every rule file uses these.
import json
import os
import shlex

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


LITHOPS = config["lithops"]
LITHOPS_EXPERIMENTS = {name: e for name, e in LITHOPS["experiments"].items() if e.get("enabled", True)}


DASK = config["dask"]
DASK_EXPERIMENTS = {name: e for name, e in DASK["experiments"].items() if e.get("enabled", True)}


def as_shell_json(value):
    """A value as one shell-quoted JSON argument."""
    return shlex.quote(json.dumps(value))


def lithops_backend():
    """The Lithops compute backend settings of the profile (no credentials: those come from AWS's chain)."""
    backend = {"name": LITHOPS["backend"]}
    if LITHOPS["backend"] == "aws_lambda":
        backend["aws_lambda"] = {k: v for k, v in LITHOPS["aws_lambda"].items() if v}
    return backend


FIGURES = [
    "call_durations", "cpu_network", "network_transmission", "memory_use", "call_timeline", "cost",
    "scaled_utilisation", "map_pm10_average", "map_pm10_max", "engines", "cost_vs_duration", "kernel_throughput",
]


def experiment_runs():
    """runs.parquet of every enabled experiment of both engines."""
    return [f"{RESULTS}/lithops/{n}/runs.parquet" for n in LITHOPS_EXPERIMENTS] + [
        f"{RESULTS}/dask/{n}/runs.parquet" for n in DASK_EXPERIMENTS
    ]


def timed_benchmarks():
    """Snakemake benchmark files of the rules before the paper (their sum is the workflow's time)."""
    data_step = {"synthetic": "generate/generate"}.get(config["data"]["source"])
    files = [f"{BENCHMARKS}/{name}.tsv" for name in ("reference_aggregate/reference", "stage/stage",
                                                      "reference_staged/reference", "metrics/metrics",
                                                      "bench_kernels/kernels")]
    files += [f"{BENCHMARKS}/lithops_experiment/{n}.tsv" for n in LITHOPS_EXPERIMENTS]
    files += [f"{BENCHMARKS}/dask_experiment/{n}.tsv" for n in DASK_EXPERIMENTS]
    return files + ([f"{BENCHMARKS}/{data_step}.tsv"] if data_step else [])


def generation_option():
    if config["data"]["source"] == "synthetic":
        return f"--generation {DATA}/generation.json"
    return ""


def paper_sources():
    import glob

    return sorted(glob.glob("paper/*.tex") + glob.glob("paper/sections/*.tex"))


def final_targets():
    """Everything `rule all` asks for; turning a stage off in the config removes its targets."""
    targets = [
        f"{RESULTS}/reference/aggregates.csv",
        f"{RESULTS}/staged/verify.json",
    ]
    targets += [f"{RESULTS}/lithops/{name}/runs.parquet" for name in LITHOPS_EXPERIMENTS]
    targets += [f"{RESULTS}/dask/{name}/runs.parquet" for name in DASK_EXPERIMENTS]
    targets.append(f"{RESULTS}/paper.pdf")
    return targets
