"""The Snakemake workflow, run as a user runs it, on the tiny profile."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from aqbench.aggregates import read_csv
from aqbench.report.figure_names import FIGURES, SCALE_FIGURES

from conftest import REPO

BIN = Path(sys.executable).parent


FAKE_KEY_ID = "AKIAFAKEAQBENCH0TEST"
FAKE_SECRET = "fake/secret/aqbench+must+never+be+written"


def _snakemake(*args: str, cwd: Path = REPO, activated: bool = True) -> subprocess.CompletedProcess[str]:
    """``.venv/bin/snakemake --cores 2 ARGS``; ``activated``: the environment's bin folder leads PATH."""
    path = os.pathsep.join(p for p in os.environ["PATH"].split(os.pathsep) if Path(p) != BIN)
    # fake AWS credentials in the environment: the run must not write them anywhere
    env = dict(
        os.environ,
        PATH=f"{BIN}{os.pathsep}{path}" if activated else path,
        AWS_ACCESS_KEY_ID=FAKE_KEY_ID,
        AWS_SECRET_ACCESS_KEY=FAKE_SECRET,
    )
    return subprocess.run(
        [str(BIN / "snakemake"), "--cores", "2", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    """A copy of the workflow, so runs in tests never touch the user's results/."""
    for name in ("Snakefile", "workflow", "data", "environment.yml", "paper"):
        src = REPO / name
        (shutil.copytree if src.is_dir() else shutil.copy)(src, tmp_path / name)
    return tmp_path


def test_lint_and_dry_run_are_clean():
    lint = _snakemake("--lint", "--configfile", "workflow/config/tiny.yaml")
    assert lint.returncode == 0, lint.stdout + lint.stderr
    dry = _snakemake("-n", "--configfile", "workflow/config/tiny.yaml")
    assert dry.returncode == 0, dry.stderr


def test_the_aws_profile_plans_runtime_staging_at_scale_budget_and_experiments():
    dry = _snakemake("-n", "--configfile", "workflow/config/aws.yaml")
    assert dry.returncode == 0, dry.stderr
    jobs = {line.split()[0] for line in dry.stdout.splitlines() if line[:1].isalpha() and len(line.split()) == 2}
    assert {"lambda_runtime", "stage_openaq", "budget", "lithops_experiment", "verify_stage"} <= jobs
    assert not {"fetch_openaq", "stage", "reference_staged"} & jobs  # no data passes through this machine


def test_misspelt_config_key_is_refused(workdir):
    (workdir / "bad.yaml").write_text("profile: tiny\ndata: {sorce: synthetic}\n")
    run = _snakemake("-n", "--configfile", "bad.yaml", cwd=workdir)
    assert run.returncode != 0
    out = (run.stderr + run.stdout).strip().splitlines()
    assert len(out) <= 3, out  # the key, what is wrong, how to fix it: not the schema
    said = [ln for ln in out if "data.sorce" in ln]
    assert len(said) == 1 and "did you mean 'source'" in said[0]


@pytest.mark.parametrize(
    ("setting", "named"),
    [
        ("lithops: {experiments: {memory: {grid: {memory_mb: 99999}}}}", "memory_mb"),
        ("lithops: {backend: gcp_functions}", "backend"),
        ("storage: {bucket: 'Not A Bucket'}", "bucket"),
        ("data: {source: s3://elsewhere}", "source"),
        ("dask: {scheduler_address: 'tcp://127.0.0.1:9'}", "scheduler_address"),
    ],
)
def test_bad_configuration_is_refused_before_any_work(workdir, setting, named):
    (workdir / "bad.yaml").write_text(f"profile: bad\n{setting}\n")
    # run as `.venv/bin/snakemake` without activating the environment: the workflow finds its CLI
    run = _snakemake("--configfile", "bad.yaml", cwd=workdir, activated=False)
    assert run.returncode != 0 and named in run.stderr + run.stdout
    assert "FileNotFoundError" not in run.stderr + run.stdout
    assert not (workdir / "results" / "bad").exists()


def test_an_aws_grid_over_the_budget_is_refused_before_any_work(workdir):
    """On Lambda, the projected cost is printed and a grid over aws.budget_usd never starts."""
    profile = (
        "profile: broke\n"
        "lithops: {backend: aws_lambda, aws_lambda: {execution_role: 'arn:aws:iam::123456789012:role/x'}}\n"
        "aws: {budget_usd: 0.01, expected_data_gb: 50}\n"
    )
    (workdir / "broke.yaml").write_text(profile)
    run = _snakemake("--configfile", "broke.yaml", cwd=workdir)
    out = run.stderr + run.stdout
    assert run.returncode != 0 and "projected cost" in out and "aws.budget_usd = $0.01" in out
    assert not (workdir / "results" / "broke").exists()


def _interrupt_mid_experiment(workdir: Path, results: Path) -> None:
    """Start the tiny workflow and kill it hard (SIGKILL to Snakemake and its jobs) during a Lithops experiment.

    The harshest interruption (a power loss, the OOM killer): nothing gets to clean up.
    """
    env = dict(os.environ, PATH=f"{BIN}{os.pathsep}{os.environ['PATH']}")
    cmd = [str(BIN / "snakemake"), "--cores", "2", "--configfile", "workflow/config/tiny.yaml"]
    with open(workdir / "interrupted.log", "w") as log:
        proc = subprocess.Popen(cmd, cwd=workdir, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        experiment_logs = results / "logs" / "lithops_experiment"
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline and proc.poll() is None:
            started = [p for p in experiment_logs.glob("*.log") if "lithops" in p.read_text(errors="replace")]
            if started:
                time.sleep(2)  # well inside the experiment: calls are running
                break
            time.sleep(0.5)
        assert proc.poll() is None, "the workflow ended before an experiment could be interrupted"
        os.killpg(proc.pid, signal.SIGKILL)
        assert proc.wait(timeout=120) == -signal.SIGKILL


@pytest.mark.slow
def test_tiny_profile_end_to_end(workdir):
    results = workdir / "results" / "tiny"
    # killed mid-experiment, then started again (after the --unlock Snakemake asks for): it resumes
    _interrupt_mid_experiment(workdir, results)
    for runs in (results / "lithops").glob("*/runs.parquet"):  # nothing half-written is left as done
        import pyarrow.parquet as pq

        assert pq.read_table(runs).num_rows > 0
    locked = _snakemake("--configfile", "workflow/config/tiny.yaml", cwd=workdir)
    assert locked.returncode != 0 and "--unlock" in locked.stderr + locked.stdout
    assert _snakemake("--configfile", "workflow/config/tiny.yaml", "--unlock", cwd=workdir).returncode == 0
    run = _snakemake("--configfile", "workflow/config/tiny.yaml", cwd=workdir)
    assert run.returncode == 0, run.stderr[-3000:]
    summary = json.loads((results / "reference" / "summary.json").read_text())
    assert summary["records_read"] == summary["records_valid"] + summary["records_rejected"] > 0
    assert read_csv(results / "reference" / "aggregates.csv").num_rows == summary["groups"]
    manifest = json.loads((results / "staged" / "manifest.json").read_text())
    assert manifest["records"] == summary["records_read"] and manifest["objects_count"] >= 5
    assert json.loads((results / "staged" / "verify.json").read_text())["equal"] is True
    for rule in ("generate", "reference_aggregate", "stage", "reference_staged", "verify_stage"):
        assert list((results / "logs" / rule).iterdir()), rule
    assert (results / "benchmarks" / "reference_aggregate" / "reference.tsv").exists()
    # every Lithops experiment ran and was verified; the timeout case is a recorded data point
    import pyarrow.parquet as pq

    experiments = ("warmup", "memory", "objects_per_call", "reducers", "kernels", "scaling", "timeout", "data_locality")
    experiments += ("study_code", "study_objects")
    for experiment in experiments:
        runs = pq.read_table(results / "lithops" / experiment / "runs.parquet").to_pylist()
        expected = "timeout" if experiment == "timeout" else "ok"
        assert runs and {r["status"] for r in runs} == {expected}, (experiment, runs)
        calls = pq.read_table(results / "lithops" / experiment / "calls.parquet").to_pylist()
        assert all(c["duration_s"] is not None and c["t_submit"] is not None for c in calls)
    for experiment in ("baseline", "lambda_terms", "scaling"):
        runs = pq.read_table(results / "dask" / experiment / "runs.parquet").to_pylist()
        assert runs and {r["status"] for r in runs} == {"ok"}, (experiment, runs)
    # the paper, its figures (PDF and PNG previews) and its numbers were all generated
    assert (results / "paper.pdf").read_bytes()[:4] == b"%PDF"
    assert len(list((results / "generated" / "figures").glob("*.png"))) == len(FIGURES + SCALE_FIGURES)
    single = pq.read_table(results / "duckdb" / "single_node" / "runs.parquet").to_pylist()
    exact = [r for r in single if r["exact"]]
    assert exact and {r["status"] for r in exact} == {"ok"}
    assert all(r["probe_before_mb_s"] > 0 and r["probe_after_mb_s"] > 0 for r in single)
    # the idiomatic ones ran too, their answers counted (Polars cannot read the malformed lines)
    assert {(r["engine"], r["kernel"]) for r in single if not r["exact"]} == {("duckdb", "idiomatic"),
                                                                               ("polars", "polars")}  # fmt: skip
    engines_bench = json.loads((results / "bench" / "engines.json").read_text())
    assert engines_bench["duckdb_mb_s"] > 0 and "duckdb_idiomatic_differences" in engines_bench
    assert (results / "scale" / "validation.csv").exists() and (results / "scale" / "projection.csv").exists()
    # the study's code in its own software, where this machine has a Python 3.8: measured with Lithops
    # 2.7.1 around it, taken apart, and in the paper (where none is found the paper says it is absent)
    from aqbench.study2023.environment import find_python38

    explained = results / "study2023" / "explained.json"
    if find_python38() is not None:
        acts = pq.read_table(results / "study2023" / "activations.parquet").to_pylist()
        assert {r["status"] for r in acts} == {"success"}
        assert any(r["phase"] == "lithops" and r["t_lithops"] > 0 for r in acts)
        record = json.loads(explained.read_text())
        assert record["verdict"]["sentence"] and record["study_runs"] and record["user"]
        tables = results / "generated" / "tables"
        assert "Lithops 2.7.1" in (tables / "study_decomposition.tex").read_text()
    else:
        assert not explained.exists()
    # the Snakemake report: every figure with its caption, the summary and the paper
    report = _snakemake("--configfile", "workflow/config/tiny.yaml", "--report", "report.zip", cwd=workdir)
    assert report.returncode == 0, report.stderr[-3000:]
    assert (workdir / "report.zip").stat().st_size > 10_000
    warmup = pq.read_table(results / "lithops" / "warmup" / "calls.parquet").to_pylist()
    assert any(c["cold_start"] for c in warmup if c["phase"] == "warmup")
    # the study's warm-up as it ran: one object an activation, two activations a worker
    chunked = [c for c in warmup if c["phase"] == "warmup"]
    assert all(c["objects"] == 1 and c["invocation"] and c["position"] in (0, 1) for c in chunked)
    assert any(c["position"] == 1 for c in chunked)
    # the study's own code: measured, and its differences from the reference counted by cause
    study = pq.read_table(results / "lithops" / "study_code" / "runs.parquet").to_pylist()
    causes = [json.loads(r["mismatch_by_cause"]) for r in study]
    assert study and all(c == causes[0] for c in causes)  # the same objects, the same code: the same verdict
    # the tiny data (seed 7) plant what the study's code gets wrong: mixed units, no city
    assert causes[0]["units averaged together"] > 0 and causes[0]["dropped: no city or coordinates"] > 0
    macros_tex = (results / "generated" / "macros.tex").read_text()
    assert "\\aqStudyCodeCauses}{--}" not in macros_tex and "\\aqStudyCodeActivations}{--}" not in macros_tex
    assert all(c["init_s"] is not None and c["network_emulated"] is not None for c in warmup)
    macros = (results / "generated" / "macros.tex").read_text()
    assert "\\aqBestLithopsMBs" in macros and "--}" not in macros.split("aqRecordsRead")[1].splitlines()[0]
    # secrets never leave the environment: not in logs, results, provenance or the paper
    for path in results.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            assert FAKE_KEY_ID.encode() not in data and FAKE_SECRET.encode() not in data, path
    # the server was started for the run and stopped at its end
    assert not (results / "s3" / "server.json").exists()
    # a single figure reruns alone, without rerunning any experiment
    rerun = _snakemake("--configfile", "workflow/config/tiny.yaml", "--forcerun", "figure_cost", cwd=workdir)
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    stats = rerun.stderr.split("Job stats:")[1].split("Select jobs")[0]
    assert "figure_cost" in stats and "experiment" not in stats and "generate" not in stats
