"""The preflight checks: one line naming the setting, before any work (AWS stubbed: unreachable here)."""

from __future__ import annotations

import socket

import boto3
import pytest
from botocore.exceptions import NoCredentialsError
from botocore.stub import Stubber

from aqbench import preflight
from aqbench.cli import main
from aqbench.errors import ConfigError


def _s3():
    return boto3.client("s3", region_name="eu-west-1", aws_access_key_id="x", aws_secret_access_key="y")


@pytest.mark.parametrize(
    ("code", "says"), [("404", "does not exist in eu-west-1"), ("403", "access denied"), ("500", "S3 answered 500")]
)
def test_aws_bucket_problems_name_the_bucket_setting(code, says):
    client = _s3()
    with Stubber(client) as stub:
        stub.add_client_error("head_bucket", service_error_code=code, http_status_code=int(code))
        with pytest.raises(ConfigError, match=r"storage\.bucket 'missing-bucket'") as err:
            preflight.check_aws_bucket(client, "missing-bucket", "eu-west-1")
    assert says in str(err.value) and "\n" not in str(err.value)


def test_no_aws_credentials_says_where_they_come_from(monkeypatch):
    client = _s3()
    monkeypatch.setattr(client, "head_bucket", lambda **_: (_ for _ in ()).throw(NoCredentialsError()))
    with pytest.raises(ConfigError, match="no AWS credentials found"):
        preflight.check_aws_bucket(client, "b", "eu-west-1")


def test_existing_bucket_passes():
    client = _s3()
    with Stubber(client) as stub:
        stub.add_response("head_bucket", {}, {"Bucket": "ok-bucket"})
        preflight.check_aws_bucket(client, "ok-bucket", "eu-west-1")


def test_scheduler_address_must_answer():
    with socket.socket() as listening:
        listening.bind(("127.0.0.1", 0))
        listening.listen()
        port = listening.getsockname()[1]
        preflight.check_scheduler(f"tcp://127.0.0.1:{port}")
    with pytest.raises(ConfigError, match=r"dask\.scheduler_address .* cannot connect"):
        preflight.check_scheduler(f"tcp://127.0.0.1:{port}")
    with pytest.raises(ConfigError, match="is not tcp://host:port"):
        preflight.check_scheduler("http://nowhere")
    preflight.check_scheduler("")  # empty: a local cluster


def test_cli_preflight_exits_2_with_one_line(capsys):
    code = main(["preflight", "--storage", "s3-local", "--scheduler-address", "tcp://127.0.0.1:9"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and "dask.scheduler_address" in err[0]
    lam = '{"name": "aws_lambda", "aws_lambda": {}}'
    assert main(["preflight", "--storage", "s3-local", "--backend", lam]) == 2
    assert "execution_role" in capsys.readouterr().err
