"""aqbench.engines.lithops.platforms: the platform a profile's backend names, and what it tells the engine."""

from __future__ import annotations

import pytest

from aqbench.engines.lithops.engine import lithops_config
from aqbench.engines.lithops.platforms import AwsLambda, EmulatedLambda, OtherBackend, platform_for
from aqbench.errors import ConfigError
from aqbench.lambda_facts import facts

STORAGE = {"backend": "minio", "minio": {"endpoint": "http://127.0.0.1:9", "storage_bucket": "b"}}


def test_each_backend_name_has_its_platform():
    assert isinstance(platform_for({}), EmulatedLambda) and platform_for({}).on_host
    aws = platform_for({"name": "aws_lambda", "aws_lambda": {"architecture": "arm64"}})
    assert isinstance(aws, AwsLambda) and not aws.on_host and aws.architecture == "arm64"
    other = platform_for({"name": "gcp_functions", "gcp_functions": {"region": "x"}})
    assert isinstance(other, OtherBackend) and other.name == "gcp_functions" and other.architecture == "x86_64"


def test_the_engine_gets_each_platforms_compute_settings():
    local = lithops_config({"name": "localhost"}, STORAGE, 1024, 60, 3)
    assert local["lithops"]["backend"] == "localhost" and local["localhost"]["worker_processes"] == 3
    role = {"execution_role": "arn:aws:iam::1:role/r", "region": "eu-west-1"}
    aws = lithops_config({"name": "aws_lambda", "aws_lambda": role}, STORAGE, 2048, 5000, 1)
    assert aws["aws_lambda"]["runtime_memory"] == 2048 and aws["aws"]["region"] == "eu-west-1"
    assert aws["aws_lambda"]["runtime_timeout"] == facts().timeout_s  # Lambda's maximum, not the run's 5000 s
    other = lithops_config({"name": "gcp_functions", "gcp_functions": {"region": "x"}}, STORAGE, 1024, 60, 1)
    assert other["gcp_functions"] == {"region": "x"}
    with pytest.raises(ConfigError, match="execution_role"):
        lithops_config({"name": "aws_lambda"}, STORAGE, 1024, 60, 1)


def test_cores_per_call_follow_the_platform():
    assert platform_for({"name": "aws_lambda"}).cores_per_call(False, 3538, 1) == pytest.approx(
        3538 / facts().mb_per_vcpu
    )
    local = platform_for({})
    assert local.cores_per_call(True, 1769, 4) == pytest.approx(1.0)
    assert local.cores_per_call(False, 1769, 4) > 0 and not platform_for({"name": "aws_lambda"}).emulates(True)
