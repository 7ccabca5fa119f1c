"""aqbench.engines.lithops.engine: what it does to the process before Lithops runs, and the rows it makes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

PROBE = """
import json, os, sys
from pathlib import Path
from aqbench.engines.lithops.engine import prepare_environment
home_before = os.environ["HOME"]
prepare_environment(Path(sys.argv[1]), Path(sys.argv[2]))
import boto3, lithops.constants, lithops.storage.storage
creds = boto3.session.Session().get_credentials()
print(json.dumps({
    "key": creds and creds.access_key,
    "home_kept": os.environ["HOME"] == home_before,
    "lithops_cache": lithops.constants.CACHE_DIR,
    "storage_cache": lithops.storage.storage.CACHE_DIR,
}))
"""


def _user_home(tmp_path: Path) -> Path:
    """A user's home with AWS's shared files: a default profile and a named one (config + credentials)."""
    home = tmp_path / "user"
    aws = home / ".aws"
    aws.mkdir(parents=True)
    (aws / "credentials").write_text(
        "[default]\naws_access_key_id = AKIADEFAULTFROMFILE0\naws_secret_access_key = s1\n\n"
        "[study]\naws_access_key_id = AKIASTUDYFROMFILE000\naws_secret_access_key = s2\n"
    )
    (aws / "config").write_text("[default]\nregion = us-east-1\n\n[profile study]\nregion = eu-west-1\n")
    return home


def _probe(tmp_path: Path, home: Path, **env: str) -> dict:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "LITHOPS_", "__LITHOPS"))}
    clean |= {"HOME": str(home)} | env
    project = tmp_path / "project"
    done = subprocess.run(
        [sys.executable, "-c", PROBE, str(project / "lithops-home"), str(project / "lithops-tmp")],
        env=clean,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize(("profile", "key"), [(None, "AKIADEFAULTFROMFILE0"), ("study", "AKIASTUDYFROMFILE000")])
def test_credentials_from_the_users_aws_files_survive_preparing_lithops(tmp_path, profile, key):
    """The standard chain's ~/.aws files (and AWS_PROFILE's profile) are still found once Lithops'
    files are kept in the project; before, HOME was moved there and every AWS verb lost them."""
    home = _user_home(tmp_path)
    seen = _probe(tmp_path, home, **({"AWS_PROFILE": profile} if profile else {}))
    assert seen["key"] == key and seen["home_kept"]
    lithops_home = str((tmp_path / "project" / "lithops-home").resolve())
    assert seen["lithops_cache"].startswith(lithops_home) and seen["storage_cache"] == seen["lithops_cache"]


def test_nothing_of_lithops_is_written_to_the_users_home(tmp_path):
    home = _user_home(tmp_path)
    _probe(tmp_path, home)
    assert not (home / ".lithops").exists()


def _future(stats: dict, call_status: dict | None, activation_id: str | None) -> SimpleNamespace:
    """A finished future as Lithops 3.8 leaves it: ``stats`` without the activation id, which it
    keeps on the future (and in its call status)."""
    return SimpleNamespace(
        stats=stats, _call_status=call_status, activation_id=activation_id, error=False, done=True, success=True
    )


LITHOPS_38_STATS = {
    "host_submit_tstamp": 1.0,
    "worker_start_tstamp": 2.0,
    "worker_func_start_tstamp": 2.5,
    "worker_func_end_tstamp": 4.0,
    "worker_end_tstamp": 4.1,
    "worker_cold_start": True,
    "worker_exec_time": 2.1,
    "host_status_done_tstamp": 4.3,
    "host_status_query_count": 2,
}


def test_each_call_row_carries_lambdas_request_id_from_where_lithops_keeps_it():
    from aqbench.engines.lithops.engine import activation_id

    assert "activation_id" not in LITHOPS_38_STATS
    request = "2f1d0b5e-6c1a-4a8e-9d4e-3f0c1b2a3d4e"
    assert activation_id(_future(LITHOPS_38_STATS, {"activation_id": request}, request)) == request
    assert activation_id(_future(LITHOPS_38_STATS, {"activation_id": request}, None)) == request
    assert activation_id(_future(LITHOPS_38_STATS, None, None)) is None  # never reported: no id


def test_the_call_row_names_its_activation(tmp_path):
    from aqbench.engines.lithops.engine import _call_row
    from aqbench.engines.runs import RunConfig, RunResult

    run = RunResult.new("lithops", RunConfig("t", "arrow", 1024, 1, 1, 1.0, 0, 0, timeout_s=60), ["o"])
    request = "2f1d0b5e-6c1a-4a8e-9d4e-3f0c1b2a3d4e"
    result = {"seconds": 1.5, "cpu_user_s": 1.0, "cpu_system_s": 0.1, "objects": 1, "bytes_read": 10}
    row = _call_row("map", _future(LITHOPS_38_STATS, {"activation_id": request}, request), result, {"call": 0}, run,
                    False)  # fmt: skip
    assert row["lithops_activation_id"] == request
