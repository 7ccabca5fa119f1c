"""An offline contract test of the exact code path the aws profile runs.

Lithops' own executor, configured as the aws profile configures it (backend aws_lambda,
the kernels' runtime), builds the real invocation payloads; they are captured at Lithops'
invoke boundary instead of being sent (the only stand-in: the AWS endpoints this machine
cannot reach). Lithops' real Lambda entry point then runs each payload in a fresh virtual
environment holding only the runtime's requirement list (the file the image installs) and
this package, with storage pointed at the local S3 server; the results, read back through
Lithops, must equal the reference. This catches a missing dependency, a module that does not
pickle, and a payload over Lambda's asynchronous-invocation size limit before anyone pays.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
import venv
from pathlib import Path

import pytest

from conftest import REPO, STAGED_RECORDS

pytestmark = pytest.mark.slow


def _payload_limit() -> int:
    """The aws profile's aws.async_payload_limit_kb (Lambda's asynchronous-invocation payload limit:
    1 MB since 2025, 256 KB before), else the schema's default, in bytes."""
    import yaml

    from aqbench.defaults import schema_default

    profile = yaml.safe_load((REPO / "workflow" / "config" / "aws.yaml").read_text()).get("aws", {})
    return 1024 * profile.get("async_payload_limit_kb", schema_default("aws.async_payload_limit_kb"))


ASYNC_PAYLOAD_LIMIT = _payload_limit()

CONTRACT_LAMBDA = {
    "execution_role": "arn:aws:iam::123456789012:role/contract",
    "region": "us-east-1",
    "runtime": "aqbench-runtime:contract",
    "account_id": "123456789012",
    "user_id": "AIDACONTRACTTEST:contract",
}
"""The aws profile's Lambda settings, with the identity Lithops would otherwise ask STS for."""

RUNNER = """
import json, sys
from types import SimpleNamespace
from lithops.serverless.backends.aws_lambda.entry_point import lambda_handler
for i, path in enumerate(sys.argv[1:]):
    with open(path) as fh:
        event = json.load(fh)
    context = SimpleNamespace(aws_request_id=f"contract-{i:04d}", function_name="contract", memory_limit_in_mb=1024)
    print(lambda_handler(event, context), flush=True)
"""


@pytest.fixture(scope="session")
def runtime_venv(tmp_path_factory) -> Path:
    """A virtual environment with only the Lambda runtime's requirements and this package."""
    base = tmp_path_factory.mktemp("lambda-runtime")
    where = base / "venv"
    venv.create(where, with_pip=True)
    pip = [str(where / "bin" / "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    subprocess.run([*pip, "-r", str(REPO / "runtime" / "aws_lambda" / "requirements.txt")], check=True)
    package = base / "aqbench"  # what the image copies (the build leaves nothing in the checkout)
    shutil.copytree(REPO / "src", package / "src", ignore=shutil.ignore_patterns("*.egg-info", "__pycache__"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPO / name, package / name)
    subprocess.run([*pip, "--no-deps", str(package)], check=True)
    return where


def _capture(monkeypatch, payloads: list) -> None:
    """Lithops' AWS Lambda backend, its AWS calls replaced: invoke keeps the payload it would send."""
    from lithops.serverless.backends.aws_lambda import aws_lambda
    from lithops.worker.utils import get_runtime_metadata

    backend = aws_lambda.AWSLambdaBackend

    def invoke(self, runtime_name, runtime_memory, payload):
        body = json.dumps(payload, default=str)  # what Lithops would POST, byte for byte
        payloads.append((self._format_function_name(runtime_name, runtime_memory), body))
        return f"captured-{len(payloads)}"

    monkeypatch.setattr(backend, "invoke", invoke)
    monkeypatch.setattr(backend, "deploy_runtime", lambda self, name, memory, timeout: get_runtime_metadata())


def test_the_aws_code_path_runs_in_the_runtime_image_environment(staged, runtime_venv, monkeypatch, tmp_path):
    from aqbench.engines.experiment import References, run_one
    from aqbench.engines.faults import Faults
    from aqbench.engines.lithops import engine as lithops_engine
    from aqbench.engines.runs import RunConfig, check
    from aqbench.kernels import get_kernel
    from aqbench.storage import open_store
    from aqbench.storage.stage import Manifest

    root, store_args = staged
    lithops_engine.prepare_environment(root / "lithops-home", root / "lithops-tmp")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIACONTRACTTEST0000")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "contract-test-secret")
    payloads: list = []
    _capture(monkeypatch, payloads)
    store = open_store("s3-local", "engines-test", {"state_dir": store_args[store_args.index("--state") + 1]})
    manifest = Manifest.read(root / "manifest.json")
    backend = {"name": "aws_lambda", "aws_lambda": {**CONTRACT_LAMBDA}}

    def run_captured(fn_self, fn, tasks, phase, seconds, **kwargs):
        """Invoke (captured), run the captured payloads in the runtime environment, then wait as usual."""
        futures = fn_self.map(fn, [{"task": t} for t in tasks], chunksize=kwargs.get("chunksize", 1))
        _run_payloads(payloads, len(tasks), runtime_venv, tmp_path / phase)
        return futures

    engine = lithops_engine.LithopsEngine(store, backend, {o.key: o.expected for o in manifest.objects}, warm=False)
    config = RunConfig("contract", "arrow", 1024, 2, 2, 1.0, 0, 0, timeout_s=60)
    monkeypatch.setattr(lithops_engine, "_run_phase", _phase_with(run_captured))
    run, merged = run_one(engine, config, list(engine.expected), Faults())
    assert run.status == "ok", run.note
    table, counts = get_kernel("arrow").finalize(merged)
    keys = [o.key for o in manifest.objects]
    check("lithops", run.run_id, References(root / "reference.parquet", manifest).table(keys), manifest.counts(keys),
          table, counts)  # fmt: skip
    assert counts.records_read == STAGED_RECORDS
    engine.close()


def _phase_with(run_captured):
    """lithops_engine._run_phase, with the executor's map replaced by invoke-capture-and-run."""
    from aqbench.engines.lithops import engine as lithops_engine

    original = lithops_engine._run_phase

    def phase(fexec, fn, tasks, phase_name, seconds, **kwargs):
        class Executor:
            def __getattr__(self, name):
                return getattr(fexec, name)

            def map(self, f, iterdata, chunksize=1):
                return run_captured(fexec, f, [d["task"] for d in iterdata], phase_name, seconds, chunksize=chunksize)

        return original(Executor(), fn, tasks, phase_name, seconds, **kwargs)

    return phase


def test_the_staging_calls_run_in_the_runtime_image_environment(
    archive_bucket, s3_server, runtime_venv, monkeypatch, tmp_path
):
    """openaq-lithops on the aws profile: the staging calls' payloads, run by Lambda's entry point in the
    runtime's environment, stage the archive as the reference (fetched to this machine) says."""
    from aqbench.aggregates import compare
    from aqbench.engines.lithops import engine as lithops_engine
    from aqbench.kernels.reference import aggregate_files
    from aqbench.sources.archive import fetch
    from aqbench.storage import StoreSpec
    from aqbench.storage.archive_stage import ArchiveStaging, archive_client, list_files, stage_archive
    from aqbench.storage.stage import subset_reference

    from conftest import ARCHIVE, DAYS

    lithops_engine.prepare_environment(tmp_path / "lithops-home", tmp_path / "lithops-tmp")
    import lithops

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIACONTRACTTEST0000")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "contract-test-secret")
    payloads: list = []
    _capture(monkeypatch, payloads)
    original_map = lithops.FunctionExecutor.map

    def map_and_run(self, *args, **kwargs):
        futures = original_map(self, *args, **kwargs)
        _run_payloads(payloads, len(futures), runtime_venv, tmp_path / "staging")
        return futures

    monkeypatch.setattr(lithops.FunctionExecutor, "map", map_and_run)
    spec = StoreSpec("s3-local", "contract-staging", {"state_dir": str(s3_server.state_dir)})
    archive = StoreSpec("s3-local", ARCHIVE, {"state_dir": str(s3_server.state_dir)})
    files = list_files(archive_client(archive), ARCHIVE, "PL", DAYS[0], DAYS[-1], 5, progress=False)
    backend = {"name": "aws_lambda", "aws_lambda": {**CONTRACT_LAMBDA}}
    config = lithops_engine.lithops_config(backend, spec.open().lithops_storage_config(), 2048, 600, 1)
    how = ArchiveStaging(archive, "PL", "openaq/", 20_000, 8)
    manifest, partials, stats = stage_archive(files, spec, how, config, progress=False)
    assert stats["invoked"] == 3 and manifest.objects

    fetch(tmp_path / "local", "PL", DAYS[0], DAYS[-1], 5, "20KB", client=archive_bucket, bucket=ARCHIVE,
          progress=False)  # fmt: skip
    expected = aggregate_files(sorted((tmp_path / "local").glob("*.ndjson")))
    keys = [o.key for o in manifest.objects]
    assert compare(expected.aggregates, subset_reference(partials, keys)).equal
    assert manifest.counts(keys).records_read == expected.counts.records_read


def _run_payloads(payloads: list, expected: int, runtime_venv: Path, folder: Path) -> None:
    """Wait for Lithops' invoker threads to hand over ``expected`` payloads; run them as Lambda would."""
    deadline = time.monotonic() + 60
    while len(payloads) < expected and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(payloads) == expected, f"{len(payloads)} of {expected} invocations captured"
    folder.mkdir(parents=True, exist_ok=True)
    files, batch = [], len(list(folder.iterdir()))
    for i, (_, body) in enumerate(payloads):
        assert len(body.encode()) <= ASYNC_PAYLOAD_LIMIT, f"payload {i} over Lambda's async limit"
        files.append(folder / f"{batch}-{i}.json")
        files[-1].write_text(body)
    env = dict(os.environ, PYTHONPATH=str(REPO / "src" / "aqbench" / "emulated" / "worker_site"))
    python = str(runtime_venv / "bin" / "python")
    done = subprocess.run([python, "-c", RUNNER, *map(str, files)], env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-3000:]
    payloads.clear()
