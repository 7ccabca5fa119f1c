# The profile and the study's design, validated; paths and target lists derived from them; every rule
# file uses these.
import copy
import json
import os
import shlex
import sys

import yaml
from snakemake.exceptions import WorkflowError
from snakemake.utils import validate

from aqbench.defaults import experiments as design_experiments
from aqbench.aws.image import image_inputs, repository_root
from aqbench.settings import Settings
from aqbench.spec import experiment_spec as spec_of
from aqbench.report.figure_names import FIGURES, SCALE_FIGURES

CONFIG_DIR = f"{workflow.basedir}/workflow/config"
SCHEMA = f"{CONFIG_DIR}/schema.yaml"


def validated(what, values):
    """``values`` validated against the schema (its defaults filled in); else one line (the key, what is
    wrong, how to fix it), not the schema, and exit 1."""
    try:
        validate(values, SCHEMA)
    except WorkflowError:
        from aqbench.profile_errors import one_line

        line = None if os.environ.get("AQBENCH_SCHEMA_DUMP") else one_line(values, SCHEMA)
        if line is None:
            raise
        print(f"aqbench: {what}{line}", file=sys.stderr)
        sys.exit(1)


validated("", config)  # the profile
with open(f"{CONFIG_DIR}/design.yaml", encoding="utf-8") as design_file:
    DESIGN = yaml.safe_load(design_file)
    """The study's design: every experiment of every engine and its grid (common.smk's EXPERIMENTS)."""
validated("workflow/config/design.yaml: ", copy.deepcopy(DESIGN))  # like a profile; a copy keeps it as written


envvars:
    "PATH",


# `.venv/bin/snakemake` works without activating the environment: the `aqbench` CLI that
# the rules and the onstart checks call is the one installed beside this interpreter.
os.environ["PATH"] = os.pathsep.join([os.path.dirname(sys.executable), os.environ.get("PATH", "")])

RESULTS = f"results/{config['profile']}"
LOGS = f"{RESULTS}/logs"
BENCHMARKS = f"{RESULTS}/benchmarks"
REPORT_BENCHMARKS = f"{RESULTS}/benchmarks-rebuild" if config["report"]["from_results"] else BENCHMARKS
"""Where the figure, report and paper rules time themselves: a rebuild from the results (make
paper) keeps the run's own times, which the report sums, and writes its times beside them."""
DATA = f"{RESULTS}/data"
S3_STATE = f"{RESULTS}/s3"
LITHOPS_TMP = f"{RESULTS}/lithops-tmp"
RUN_RECORD = f"{RESULTS}/run.json"
"""What this run starts on (run.smk): the input of every rule that starts from nothing."""
# The software every rule runs with (used with --use-conda; `make` installs it into .venv).
ENV = "../../environment.yml"

SETTINGS = Settings.from_config(config)
"""The profile's settings, typed (aqbench.settings); the experiment specs are made from them."""
STORAGE = config["storage"]
# The options every verb that reads the object store takes (see `aqbench stage --help`).
STORE_ARGS = (
    f"--storage {STORAGE['kind']} --bucket {STORAGE['bucket']} --state {S3_STATE}"
    f" --lithops-tmp {LITHOPS_TMP} --region {STORAGE['region']}"
)

ARCHIVE = config["data"]["openaq_archive"]
# What `aqbench stage-openaq` fetches and how (data.source openaq-lithops).
ARCHIVE_ARGS = (
    f"--country {ARCHIVE['country']} --start {ARCHIVE['start']} --end {ARCHIVE['end']}"
    f" --max-locations {ARCHIVE['max_locations']} --object-size {config['data']['object_size']}"
    f" --archive-bucket {ARCHIVE['bucket']} --files-per-call {ARCHIVE['files_per_call']}"
    f" --memory-mb {ARCHIVE['call_memory_mb']} --timeout-s {ARCHIVE['call_timeout_s']}"
)

LITHOPS = config["lithops"]
# The emulated network the Lithops runs had (the scale simulation's calibration needs it).
NETWORK_ARGS = (
    f"--link-mbit {LITHOPS['network']['local_mbit']} --remote-mbit {LITHOPS['network']['remote_mbit']}"
    f" --remote-latency-ms {LITHOPS['network']['remote_latency_ms']}"
)
DASK = config["dask"]
AWS_LAMBDA = LITHOPS["backend"] == "aws_lambda"
"""Real Lambda functions: the budget guard applies (aws.smk)."""
DUCKDB = config["duckdb"]


def _study2023():
    """The study's 2023 software: its interpreter where the machine has one and the profile wants it."""
    from aqbench.study2023.environment import HOW_TO_GET, find_python38

    if not config["study2023"]["enabled"] or config["report"]["from_results"]:
        return None
    found = find_python38()
    if found is None:
        print(f"aqbench: {HOW_TO_GET}", file=sys.stderr)
    return found


PYTHON38 = _study2023()
STUDY2023 = PYTHON38 is not None
"""The rules of the study's 2023 software run (study2023.smk) only with a Python 3.8 found."""
STUDY2023_LOCK = repository_root() / "runtime/study2023/requirements.lock"
STUDY_EXPLAINED = f"{RESULTS}/study2023/explained.json"
"""What set the study's times (rule study_explain); the report reads it where it exists."""


def study_explained():
    """The report's input from the study's own software: the rule's output where the profile runs it,
    in a rebuild from the results the committed record if there is one, else nothing (the paper then
    says the decomposition is absent)."""
    if STUDY2023:
        return [rules.study_explain.output.explained]
    if config["report"]["from_results"] and os.path.exists(STUDY_EXPLAINED):
        return [STUDY_EXPLAINED]
    return []


ENGINE_SECTIONS = {"lithops": LITHOPS, "dask": DASK, "duckdb": DUCKDB}
EXPERIMENTS = {engine: design_experiments(engine, section, DESIGN) for engine, section in ENGINE_SECTIONS.items()}
"""Enabled experiments of each engine: the study's design (workflow/config/design.yaml, read by the
Snakefile) with the profile's changes; turning one off in the profile removes its targets."""


def as_shell_json(value):
    """A value as one shell-quoted JSON argument."""
    return shlex.quote(json.dumps(value))


def lithops_backend():
    """The Lithops compute backend settings of the profile (no credentials: those come from AWS's chain).

    On Lambda the runtime is the profile's, else the one the rule lambda_runtime builds."""
    return SETTINGS.lithops.backend_config()


def experiment_spec(engine):
    """A function of the wildcards: the spec of the experiment rule's job, as JSON (the rule
    experiment_spec writes it; as its ``params`` value, a change of it, and only of it, reruns the
    experiment)."""
    return lambda w: spec_of(config, engine, EXPERIMENTS[engine][w.experiment], w.experiment, RESULTS).to_json()


def lambda_memory_sizes():
    """Every memory size the Lithops grid and the staging calls use (a function is deployed for each)."""
    sizes = {ARCHIVE["call_memory_mb"]} if config["data"]["source"] == "openaq-lithops" else set()
    for exp in EXPERIMENTS["lithops"].values():
        value = exp["grid"].get("memory_mb", 2048)
        sizes |= set(value if isinstance(value, list) else [value])
    return sorted(sizes)


def experiment_runs():
    """runs.parquet of every enabled experiment of both engines."""
    return [f"{RESULTS}/{engine}/{name}/runs.parquet" for engine in EXPERIMENTS for name in EXPERIMENTS[engine]]


def staged(name):
    """A Lithops experiment's staged input ``name`` (manifest, reference): the staged objects, their
    copies in the study's layout (``layout: study``), or the objects those copies came from
    (``layout: study-sources``)."""

    def pick(wildcards):
        layout = EXPERIMENTS["lithops"][wildcards.experiment].get("layout", "legacy")
        if layout == "study":
            return getattr(rules.stage_study.output, name)
        if layout == "study-sources":
            return getattr(rules.stage_study.output, f"sources_{name}")
        return getattr(STAGE.output, name)

    return pick


def upstream(path):
    """An input the figure, report or paper rules take from a rule before them. In a rebuild from
    the results (report.from_results, make paper) a plain path: a ``rules.X.output`` reference
    would bring rule X into the DAG whatever --allowed-rules says, so the file already there is
    read instead."""
    if not config["report"]["from_results"]:
        return path
    return [str(p) for p in path] if isinstance(path, list) else str(path)


def rule_benchmarks(*names):
    """The benchmark files of the named rules, every wildcard value of the experiment rules expanded."""
    files = []
    defined = {rule.name for rule in workflow.rules}
    for name in names:
        if name not in defined:  # a data rule the profile's source does not use, or, in a rebuild from the
            # results, one the rebuild does not define (the study's 2023 software), its recorded times
            folder = os.path.join(BENCHMARKS, name)
            if config["report"]["from_results"] and os.path.isdir(folder):
                files += sorted(os.path.join(folder, f) for f in os.listdir(folder) if f.endswith(".tsv"))
            continue
        engine = name.removesuffix("_experiment")
        values = {"experiment": list(EXPERIMENTS[engine])} if engine in EXPERIMENTS else {}
        path = str(getattr(rules, name).benchmark)
        if path.startswith(f"{REPORT_BENCHMARKS}/"):  # a rebuild's figure: the run's own time
            path = BENCHMARKS + path.removeprefix(REPORT_BENCHMARKS)
        files += expand(path, **values)
    return files


def budget_args():
    """The budget guard's options: the profile's Lithops grid, prices and budget, and what the run
    spends besides (staging on Lambda, stage-study, reads of the bucket from this machine, the image;
    the engines bench does not run on AWS Lambda)."""
    args = (
        f"--experiments {as_shell_json(EXPERIMENTS['lithops'])} --repetitions {LITHOPS['repetitions']}"
        f" --object-size {config['data']['object_size']} --prices {as_shell_json(config['prices'])}"
        f" --budget-usd {config['aws']['budget_usd']} --call-overhead-s {config['aws']['call_overhead_s']}"
        f" --mb-s-per-vcpu {config['aws']['mb_s_per_vcpu']}"
        f" --architecture {LITHOPS['aws_lambda']['architecture']}"
    )
    if config["data"]["source"] == "openaq-lithops":
        args += f" --staging --staging-memory-mb {ARCHIVE['call_memory_mb']}"
    if any(e.get("layout", "legacy") != "legacy" for e in EXPERIMENTS["lithops"].values()):
        args += f" --study-objects {config['data']['study_layout_objects']}"
        if os.path.exists(f"{RESULTS}/staged/study/manifest.json"):
            args += " --study-done"
    off_aws = {"duckdb": DUCKDB} | ({} if DASK["scheduler_address"] else {"dask": DASK})
    for engine, section in off_aws.items():
        args += f" --off-aws-experiments {as_shell_json(EXPERIMENTS[engine])} {section['repetitions']}"
    if os.path.exists(f"{RESULTS}/lambda_runtime/runtime.json"):
        args += " --image-built"
    return args


LEDGER = f"{RESULTS}/budget/ledger.json"
"""What the AWS experiments were billed so far (aws.smk)."""


def budget_input(wildcards):
    """The experiments wait for the budget check and the Lambda runtime on AWS."""
    return [rules.budget.output.projection, rules.lambda_runtime.output.runtime] if AWS_LAMBDA else []


def ledger_args(off_aws=False):
    """AWS Lambda: the budget ledger a verb adds what it spends to (``off_aws``: it reads the bucket
    from this machine, S3 egress)."""
    if not AWS_LAMBDA:
        return ""
    return (
        f"--ledger {LEDGER} --budget-usd {config['aws']['budget_usd']} --prices {as_shell_json(config['prices'])}"
        + (" --off-aws" if off_aws else "")
    )


def paper_sources():
    import glob

    return sorted(glob.glob("paper/*.tex") + glob.glob("paper/sections/*.tex"))


def final_targets():
    """Everything the default target asks for; the run record first (see run.smk), since a
    checkout without one has not run the study: asking for it reruns every step that starts
    from nothing, and all after them."""
    return [
        RUN_RECORD,
        rules.reference_aggregate.output.csv,
        rules.verify_stage.output.report,
        *experiment_runs(),
        *([rules.study_explain.output.explained] if STUDY2023 else []),
        rules.paper.output.pdf,
    ]
