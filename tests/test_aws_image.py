"""aqbench.aws.image: an image Lambda accepts, named by its inputs, deployed fresh (botocore's Stubber
for AWS, stand-ins for docker and Lithops' backend: no AWS and no Docker daemon reached)."""

from __future__ import annotations

import datetime
import json
import shutil
import sys
from types import SimpleNamespace

import boto3
import pytest
from botocore.stub import Stubber

from aqbench.aws import image
from aqbench.errors import ConfigError

from conftest import REPO

HOST_PYTHON = f"{sys.version_info.major}.{sys.version_info.minor}"


@pytest.mark.parametrize(("architecture", "platform"), [("x86_64", "linux/amd64"), ("arm64", "linux/arm64")])
def test_the_build_is_one_platform_without_attestations_on_the_hosts_python(architecture, platform):
    command = image.build_command("docker", "aqbench-runtime:t", architecture, image.host_python())
    assert command[:3] == ["docker", "buildx", "build"]
    assert [a for a in command if a.startswith("--platform")] == [f"--platform={platform}"]  # one, never two
    assert "--provenance=false" in command and "--sbom=false" in command
    assert command[command.index("--build-arg") + 1] == f"PYTHON_VERSION={HOST_PYTHON}"
    assert "ARG PYTHON_VERSION" in (REPO / image.DOCKERFILE).read_text()  # the Dockerfile takes it


def test_a_python_the_image_cannot_have_is_refused_in_one_line(monkeypatch):
    monkeypatch.setattr(image.sys, "version_info", (3, 10, 0))
    with pytest.raises(ConfigError, match=r"Python 3.10, which the Lambda image cannot match.*3.11 to 3.14"):
        image.host_python()


def _copy_inputs(tmp_path):
    root = tmp_path / "repo"
    for path in image.image_inputs(REPO):
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(REPO / path, root / path)
    return root


def test_the_tag_changes_with_what_goes_into_the_image_and_nothing_else(tmp_path):
    root = _copy_inputs(tmp_path)
    tag = image.image_tag("x86_64", root)
    assert tag.endswith("-x86_64") and image.image_tag("arm64", root) != tag.replace("x86_64", "arm64")
    assert image.image_tag("x86_64", root, python="3.12" if HOST_PYTHON != "3.12" else "3.13") != tag
    (root / "results").mkdir()
    (root / "results" / "calls.parquet").write_bytes(b"not in the image")
    (root / "src" / "aqbench" / "__pycache__").mkdir(exist_ok=True)
    (root / "src" / "aqbench" / "__pycache__" / "x.pyc").write_bytes(b"compiled")
    assert image.image_tag("x86_64", root) == tag
    kernel = root / "src" / "aqbench" / "kernels" / "arrow.py"
    kernel.write_text(kernel.read_text() + "\n# changed\n")
    assert image.image_tag("x86_64", root) != tag
    requirements = root / "runtime" / "aws_lambda" / "requirements.txt"
    assert requirements in [root / p for p in image.image_inputs(root)]


def test_the_build_context_holds_only_what_the_image_copies():
    ignore = (REPO / ".dockerignore").read_text().splitlines()
    rules = [ln for ln in ignore if ln and not ln.startswith("#")]
    assert rules[0] == "*" and "!src/" in rules and "!runtime/aws_lambda/" in rules  # nothing, then only these


def _ecr():
    return boto3.client("ecr", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="y")


def _lambda():
    return boto3.client("lambda", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="y")


def _image(media: str) -> dict:
    return {"imageDetails": [{"imageDigest": "sha256:" + "a" * 64, "imageManifestMediaType": media,
                              "imageSizeInBytes": 612_000_000, "imageTags": ["t"]}]}  # fmt: skip


def test_an_index_in_ecr_is_refused_before_lambda_refuses_it():
    ecr = _ecr()
    query = {"repositoryName": "repo", "imageIds": [{"imageTag": "t"}]}
    with Stubber(ecr) as stub:
        stub.add_response("describe_images", _image("application/vnd.oci.image.manifest.v1+json"), query)
        stub.add_response("describe_images", _image("application/vnd.oci.image.index.v1+json"), query)
        one = image.pushed(ecr, "1.dkr.ecr.us-east-1.amazonaws.com", "repo", "t")
        assert one["image_uri"] == "1.dkr.ecr.us-east-1.amazonaws.com/repo@sha256:" + "a" * 64
        with pytest.raises(ConfigError, match=r"image\.index\.v1.*which Lambda refuses"):
            image.pushed(ecr, "1.dkr.ecr.us-east-1.amazonaws.com", "repo", "t")


def _function(uri: str, timeout: int, status: str = "Successful") -> dict:
    return {"Configuration": {"FunctionName": "fn", "Timeout": timeout, "LastUpdateStatus": status},
            "Code": {"ImageUri": uri}}  # fmt: skip


def test_a_stale_function_is_brought_to_the_new_image_and_timeout():
    client = _lambda()
    with Stubber(client) as stub:
        stub.add_client_error("get_function", "ResourceNotFoundException", http_status_code=404)
        assert image.refresh(client, "fn", "new@sha256:1", 900) == "absent"
        stub.add_response("get_function", _function("new@sha256:1", 900), {"FunctionName": "fn"})
        assert image.refresh(client, "fn", "new@sha256:1", 900) == "current"
        stub.add_response("get_function", _function("old@sha256:0", 600), {"FunctionName": "fn"})
        stub.add_response("update_function_code", {}, {"FunctionName": "fn", "ImageUri": "new@sha256:1"})
        stub.add_response("get_function", _function("new@sha256:1", 600), {"FunctionName": "fn"})  # the waiter
        stub.add_response("update_function_configuration", {}, {"FunctionName": "fn", "Timeout": 900})
        stub.add_response("get_function", _function("new@sha256:1", 900), {"FunctionName": "fn"})
        assert image.refresh(client, "fn", "new@sha256:1", 900) == "updated"
        stub.assert_no_pending_responses()


class FakeStorage:
    def __init__(self):
        self.meta = {}

    def put_runtime_meta(self, key, meta):
        self.meta[key] = meta


class FakeServerless:
    """Lithops' ServerlessHandler as build_and_deploy uses it: its backend's names and clients."""

    def __init__(self, client, python):
        self.python, self.deployed = python, []
        self.backend = SimpleNamespace(lambda_client=client, _format_function_name=lambda n, m: f"fn-{m}")

    def deploy_runtime(self, name, memory, timeout):
        self.deployed.append((name, memory, timeout))
        return {"python_version": self.python, "lithops_version": "x"}

    def get_runtime_key(self, name, memory, version):
        return f"aws_lambda/{version}/us-east-1/fn-{memory}"


def _deploy(monkeypatch, tmp_path, python):
    monkeypatch.chdir(REPO)
    monkeypatch.setattr(image, "build", lambda backend, name, arch, py: None)
    monkeypatch.setattr(image, "push", lambda backend, name: {"image_uri": "r@sha256:1", "digest": "sha256:1",
                                                              "manifest_media_type": "m", "size_bytes": 1})  # fmt: skip
    client, storage = _lambda(), FakeStorage()
    serverless = FakeServerless(client, python)
    out = tmp_path / "runtime.json"
    with Stubber(client) as stub:
        for memory in (1024, 2048):
            stub.add_client_error("get_function", "ResourceNotFoundException", http_status_code=404)
            settings = {"FunctionName": f"fn-{memory}", "MaximumRetryAttempts": 0, "MaximumEventAgeInSeconds": 120}
            stub.add_response("put_function_event_invoke_config", {"LastModified": datetime.datetime(2026, 12, 7)},
                              settings)  # fmt: skip
        record = image.build_and_deploy(serverless, storage, "aqbench-runtime:t", [2048, 1024, 2048], "x86_64",
                                        900, out)  # fmt: skip
    return serverless, storage, record, out


def test_deploying_stores_lithops_metadata_and_turns_off_lambdas_own_retries(monkeypatch, tmp_path):
    import lithops

    serverless, storage, record, out = _deploy(monkeypatch, tmp_path, HOST_PYTHON)
    assert serverless.deployed == [("aqbench-runtime:t", 1024, 900), ("aqbench-runtime:t", 2048, 900)]
    # where Lithops looks before deploying again (with the first job's timeout, as the staging's 600 s did)
    assert set(storage.meta) == {f"aws_lambda/{lithops.__version__}/us-east-1/fn-{m}" for m in (1024, 2048)}
    assert json.loads(out.read_text()) == record and record["python"] == HOST_PYTHON
    assert record["functions"]["1024"]["MaximumRetryAttempts"] == 0


def test_a_runtime_on_another_python_is_refused_and_nothing_recorded(monkeypatch, tmp_path):
    with pytest.raises(ConfigError, match=r"runs Python 3\.8"):
        _deploy(monkeypatch, tmp_path, "3.8")
    assert not (tmp_path / "runtime.json").exists()


def test_without_docker_one_line_says_what_to_install(monkeypatch):
    monkeypatch.setattr(image.shutil, "which", lambda _: None)
    with pytest.raises(ConfigError, match="needs Docker"):
        image.docker()
