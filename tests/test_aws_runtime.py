"""The Lambda runtime: its requirement list covers what the calls import; build and deploy via Lithops."""

from __future__ import annotations

import json

import pytest

from aqbench.aws import runtime as lambda_runtime
from aqbench.errors import ConfigError

from conftest import REPO


@pytest.fixture(scope="module")
def requirements() -> list[str]:
    return lambda_runtime.requirement_lines(REPO / "runtime" / "aws_lambda" / "requirements.txt")


def test_the_runtime_installs_every_module_a_call_imports(requirements):
    assert lambda_runtime.missing(requirements) == set()


@pytest.mark.parametrize("package", ["pyarrow", "duckdb"])  # the kernels'; the staging calls' reference
def test_a_requirement_list_without_a_package_the_calls_import_is_caught(requirements, package):
    """What a user would otherwise find out on Lambda, after paying for the first failed calls."""
    without = [r for r in requirements if not r.startswith(package)]
    assert package in lambda_runtime.missing(without)


def test_requirements_are_pinned_as_the_lock_pins_them(requirements):
    lock = (REPO / "requirements.lock").read_text()
    for req in requirements:
        name, version = req.split("==")
        if name != "awslambdaric":  # the Lambda runtime client exists only in the image
            assert f"\n{name}=={version}" in "\n" + lock, req


class FakeLithops:
    def __init__(self):
        self.calls = []

    def build_runtime(self, name, file, extra):
        self.calls.append(("build", name, file, tuple(extra)))

    def deploy_runtime(self, name, memory, timeout):
        self.calls.append(("deploy", name, memory, timeout))
        return {"runtime": name, "memory": memory}


def test_build_then_deploy_a_function_per_memory_size(tmp_path, monkeypatch):
    monkeypatch.chdir(REPO)
    monkeypatch.setattr(lambda_runtime.shutil, "which", lambda _: "/usr/bin/docker")
    monkeypatch.setattr(lambda_runtime, "image_digest", lambda name: "repo@sha256:abc")
    fake = FakeLithops()
    out = tmp_path / "runtime.json"
    lambda_runtime.build_and_deploy(fake, "aqbench-runtime:x", [2048, 1024, 2048], "arm64", 900, out)
    assert fake.calls[0] == ("build", "aqbench-runtime:x", "runtime/aws_lambda/Dockerfile", ("--platform=linux/arm64",))
    assert [c[2] for c in fake.calls[1:]] == [1024, 2048]
    record = json.loads(out.read_text())
    assert record["digest"] == "repo@sha256:abc" and record["memory_mb"] == [1024, 2048]


def test_without_docker_one_line_says_what_to_install(tmp_path, monkeypatch):
    monkeypatch.chdir(REPO)
    monkeypatch.setattr(lambda_runtime.shutil, "which", lambda _: None)
    with pytest.raises(ConfigError, match="needs Docker"):
        lambda_runtime.build_and_deploy(FakeLithops(), "x", [1024], "x86_64", 900, tmp_path / "r.json")
    assert not (tmp_path / "r.json").exists()
