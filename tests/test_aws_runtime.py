"""The Lambda runtime's requirement list covers what the calls import."""

from __future__ import annotations

import pytest

from aqbench.aws import runtime as lambda_runtime

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
