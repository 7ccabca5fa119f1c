"""aqbench.aws.preflight: a first-time account's mistakes, each one line, before anything is spent
(botocore's Stubber: no AWS reached)."""

from __future__ import annotations

import io
import json

import boto3
import pytest
from botocore.response import StreamingBody
from botocore.stub import Stubber

from aqbench.aws import preflight
from aqbench.errors import ConfigError

ROLE = "arn:aws:iam::123456789012:role/aqbench-lambda"
SETTINGS = preflight.AwsSettings("my-bucket", "eu-west-1", "eu-west-1", ROLE, 1000, (1024, 3538), True)
TRUST = {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]}  # fmt: skip


def _client(service: str):
    return boto3.client(service, region_name="eu-west-1", aws_access_key_id="x", aws_secret_access_key="y")


def _role(trust: dict) -> dict:
    """get_role's answer as IAM sends it: the trust policy URL-encoded JSON."""
    from urllib.parse import quote

    document = quote(json.dumps(trust))
    return {"Role": {"Path": "/", "RoleName": "aqbench-lambda", "RoleId": "AROAEXAMPLEEXAMPLE00", "Arn": ROLE,
                     "CreateDate": "2026-01-01T00:00:00Z", "AssumeRolePolicyDocument": document}}  # fmt: skip


def _simulated(actions, decision="allowed", except_for=()):
    return {"EvaluationResults": [{"EvalActionName": a, "EvalDecision": "implicitDeny" if a in except_for else decision}
                                  for a in actions]}  # fmt: skip


def test_an_assumed_roles_session_is_checked_as_its_role():
    arn = "arn:aws:sts::123456789012:assumed-role/Researcher/alice@example.org"
    assert preflight.caller_arn(arn) == "arn:aws:iam::123456789012:role/Researcher"
    assert preflight.caller_arn("arn:aws:iam::123456789012:user/alice") == "arn:aws:iam::123456789012:user/alice"


def test_the_bucket_must_be_in_the_functions_region():
    with pytest.raises(ConfigError, match=r"storage\.region us-east-1 differs from lithops\.aws_lambda\.region"):
        preflight.regions(preflight.AwsSettings("b", "us-east-1", "eu-west-1", ROLE, 1, (1024,), True), None)
    s3 = _client("s3")
    with Stubber(s3) as stub:
        stub.add_response("get_bucket_location", {"LocationConstraint": "eu-central-1"}, {"Bucket": "my-bucket"})
        with pytest.raises(ConfigError, match=r"is in eu-central-1, not in storage\.region eu-west-1"):
            preflight.regions(SETTINGS, s3)
        stub.add_response("get_bucket_location", {"LocationConstraint": "eu-west-1"}, {"Bucket": "my-bucket"})
        assert "in eu-west-1" in preflight.regions(SETTINGS, s3)


def test_a_role_lambda_may_not_assume_is_named_with_the_statement_to_add():
    iam = _client("iam")
    other = {
        "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]
    }
    with Stubber(iam) as stub:
        stub.add_response("get_role", _role(TRUST), {"RoleName": "aqbench-lambda"})
        assert preflight.role_trust(iam, ROLE) == "role aqbench-lambda may be assumed by Lambda"
        stub.add_response("get_role", _role(other), {"RoleName": "aqbench-lambda"})
        with pytest.raises(ConfigError, match=r"does not let lambda\.amazonaws\.com assume it") as err:
            preflight.role_trust(iam, ROLE)
        stub.add_client_error("get_role", "NoSuchEntity", http_status_code=404)
        with pytest.raises(ConfigError, match="no such role"):
            preflight.role_trust(iam, ROLE)
        stub.add_client_error("get_role", "AccessDenied", http_status_code=403)
        assert preflight.role_trust(iam, ROLE) == "role trust not checked (AccessDenied)"
    assert "\n" not in str(err.value)
    with pytest.raises(ConfigError, match="is not a role ARN"):
        preflight.role_name("aqbench-lambda")


def test_a_role_without_write_access_to_the_bucket_is_named():
    iam = _client("iam")
    with Stubber(iam) as stub:
        stub.add_response("simulate_principal_policy",
                          _simulated(preflight.ROLE_ACTIONS["object"], except_for=("s3:PutObject",)), None)  # fmt: skip
        stub.add_response("simulate_principal_policy", _simulated(preflight.ROLE_ACTIONS["bucket"]), None)
        stub.add_response("simulate_principal_policy", _simulated(preflight.ROLE_ACTIONS["logs"]), None)
        with pytest.raises(ConfigError, match=r"may not s3:PutObject: give it read/write on s3://my-bucket"):
            preflight.role_permissions(iam, ROLE, "my-bucket")
        stub.add_client_error("simulate_principal_policy", "AccessDenied", http_status_code=403)
        assert "not checked" in preflight.role_permissions(iam, ROLE, "my-bucket")


def _caller_groups() -> dict[str, list[str]]:
    groups: dict[str, list[str]] = {}
    for action in preflight.CALLER_ACTIONS:
        groups.setdefault(preflight.caller_resource(action, ROLE, "eu-west-1", "123456789012"), []).append(action)
    return groups


def test_the_caller_must_be_able_to_read_the_logs_the_role_writes():
    iam = _client("iam")
    with Stubber(iam) as stub:
        for resource, actions in _caller_groups().items():  # each action on the resource a scoped policy names
            expected = {"PolicySourceArn": "arn:aws:iam::123456789012:user/alice", "ActionNames": actions,
                        "ResourceArns": [resource]}  # fmt: skip
            stub.add_response("simulate_principal_policy",
                              _simulated(actions, except_for=("logs:FilterLogEvents",)), expected)  # fmt: skip
        with pytest.raises(ConfigError, match="may not logs:FilterLogEvents"):
            preflight.caller_permissions(iam, "arn:aws:iam::123456789012:user/alice", ROLE, "eu-west-1")
    groups = _caller_groups()
    assert groups[ROLE] == ["iam:PassRole"]
    assert "logs:FilterLogEvents" in groups["arn:aws:logs:eu-west-1:123456789012:log-group:/aws/lambda/lithops-*"]


def test_max_workers_above_the_accounts_concurrency_is_refused():
    client = _client("lambda")
    settings = {"AccountLimit": {"ConcurrentExecutions": 10, "UnreservedConcurrentExecutions": 10}}
    with Stubber(client) as stub:
        stub.add_response("get_account_settings", settings, {})
        with pytest.raises(ConfigError, match="max_workers is 1000 but this account may run 10 functions at once"):
            preflight.concurrency(client, 1000)
        stub.add_response("get_account_settings", settings, {})
        assert "within" in preflight.concurrency(client, 10)


def test_a_new_accounts_memory_limit_is_found_by_the_smoke_function():
    client = _client("lambda")
    aws_says = ("1 validation error detected: Value '3538' at 'memorySize' failed to satisfy constraint: 'MemorySize' "
                "value failed to satisfy constraint: Member must have value less than or equal to 3008")  # fmt: skip
    with Stubber(client) as stub:
        stub.add_client_error("create_function", "InvalidParameterValueException", aws_says, http_status_code=400)
        with pytest.raises(ConfigError, match="at most 3008 MB; the grids ask for 3538 MB"):
            preflight.smoke(client, SETTINGS, "123456789012")


def _payload(body: bytes) -> StreamingBody:
    return StreamingBody(io.BytesIO(body), len(body))


@pytest.mark.parametrize("works", [True, False])
def test_the_smoke_function_runs_once_and_is_deleted_whatever_it_answers(works):
    client = _client("lambda")
    with Stubber(client) as stub:
        stub.add_response("create_function", {"FunctionName": "f"}, None)
        stub.add_response("get_function", {"Configuration": {"State": "Active"}}, None)  # the waiter
        if works:
            stub.add_response("invoke", {"StatusCode": 200, "Payload": _payload(b'{"ok": true}')}, None)
        else:
            answer = b'{"errorMessage": "An error occurred (AccessDenied) when calling the PutObject operation"}'
            stub.add_response("invoke", {"StatusCode": 200, "FunctionError": "Unhandled",
                                         "Payload": _payload(answer)}, None)  # fmt: skip
        stub.add_response("delete_function", {}, None)
        if works:
            assert "3538 MB function ran" in preflight.smoke(client, SETTINGS, "123456789012")
        else:
            with pytest.raises(ConfigError, match=r"smoke invocation .* failed: .*AccessDenied"):
                preflight.smoke(client, SETTINGS, "123456789012")
        stub.assert_no_pending_responses()


def test_without_credentials_one_line_says_where_they_come_from():
    from botocore.exceptions import NoCredentialsError

    class NoCredentials:
        def get_caller_identity(self):
            raise NoCredentialsError()

    with pytest.raises(ConfigError, match=r"no AWS credentials found.*AWS_PROFILE"):
        preflight.identity(NoCredentials())


def test_the_profiles_preflight_runs_every_check_in_order_on_aws_lambda():
    """aqbench preflight on the aws profile: the bucket, then every account check, through one session."""
    from aqbench import preflight as profile_preflight
    from aqbench.storage.s3 import S3Store

    clients = {name: _client(name) for name in ("sts", "s3", "iam", "lambda")}
    stubs = {name: Stubber(client) for name, client in clients.items()}
    stubs["sts"].add_response("get_caller_identity", {"Account": "123456789012", "UserId": "AIDA",
                                                      "Arn": "arn:aws:iam::123456789012:user/alice"})  # fmt: skip
    stubs["s3"].add_response("head_bucket", {}, {"Bucket": "my-bucket"})
    stubs["s3"].add_response("get_bucket_location", {"LocationConstraint": "eu-west-1"}, {"Bucket": "my-bucket"})
    stubs["iam"].add_response("get_role", _role(TRUST), {"RoleName": "aqbench-lambda"})
    for kind in ("object", "bucket", "logs"):
        stubs["iam"].add_response("simulate_principal_policy", _simulated(preflight.ROLE_ACTIONS[kind]), None)
    for actions in _caller_groups().values():
        stubs["iam"].add_response("simulate_principal_policy", _simulated(actions), None)
    stubs["lambda"].add_response("get_account_settings", {"AccountLimit": {"UnreservedConcurrentExecutions": 1000}})
    stubs["lambda"].add_response("create_function", {"FunctionName": "f"}, None)
    stubs["lambda"].add_response("get_function", {"Configuration": {"State": "Active"}}, None)
    stubs["lambda"].add_response("invoke", {"StatusCode": 200, "Payload": _payload(b'{"ok": true}')}, None)
    stubs["lambda"].add_response("delete_function", {}, None)
    session = type("Session", (), {"client": lambda self, name, **_: clients[name]})()
    store = S3Store("aws", "my-bucket", clients["s3"], None, None, "eu-west-1")
    backend = {"name": "aws_lambda", "aws_lambda": {"execution_role": ROLE, "region": "eu-west-1"}}
    for stub in stubs.values():
        stub.activate()
    checked = profile_preflight.run(store, "", backend, (1024, 2048), image_built=True, session=session)
    for stub in stubs.values():
        stub.assert_no_pending_responses()
    assert checked[0] == "bucket my-bucket reachable" and checked[-1].startswith("a 2048 MB function ran")
    assert len(checked) == 8


def test_the_aws_page_lists_every_permission_the_preflight_checks():
    from conftest import REPO

    page = (REPO / "docs" / "aws.md").read_text()
    for action in (*preflight.CALLER_ACTIONS, *(a for group in preflight.ROLE_ACTIONS.values() for a in group)):
        name = action.split(":")[1]
        assert action in page or f"`{name}`" in page, action


def test_an_expired_sso_login_says_to_log_in_again():
    from botocore.exceptions import UnauthorizedSSOTokenError

    class Expired:
        def get_caller_identity(self):
            raise UnauthorizedSSOTokenError()

    with pytest.raises(ConfigError, match=r"run `aws sso login`"):
        preflight.identity(Expired())
