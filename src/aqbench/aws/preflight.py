"""The AWS profile's preflight: what a first-time account gets wrong, told before anything is spent.

Each check raises one line naming what to fix (:class:`~aqbench.errors.ConfigError`) or returns
what it found. In order: who the credentials are (STS); the bucket in the functions' region;
the execution role's trust and permissions and the caller's (IAM's policy simulator, where the
caller may use it: otherwise the check says it was skipped); the account's concurrency against
``max_workers``; Docker, where the image is still to be built; then one smoke invocation: a
throwaway function of the grid's largest memory size, with the profile's role, that writes,
reads and deletes one object in the bucket. It finds what only Lambda can say (a new account's
3008 MB memory limit, a role Lambda cannot assume, a role without access to the bucket) for a
fraction of a cent, and is deleted at once.
"""

from __future__ import annotations

import io
import json
import logging
import re
import uuid
import zipfile
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError, SSOError, TokenRetrievalError

from aqbench.errors import ConfigError

log = logging.getLogger(__name__)

ROLE_ACTIONS = {
    "object": ("s3:GetObject", "s3:PutObject", "s3:DeleteObject"),
    "bucket": ("s3:ListBucket",),
    "logs": ("logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"),
}
"""What the functions do with the execution role: the objects and partials, the listing Lithops'
storage does, and their own log lines (logs *write*)."""

CALLER_ACTIONS = (
    "iam:PassRole",
    "lambda:CreateFunction",
    "lambda:GetFunction",
    "lambda:UpdateFunctionCode",
    "lambda:UpdateFunctionConfiguration",
    "lambda:InvokeFunction",
    "lambda:PutFunctionEventInvokeConfig",
    "lambda:DeleteFunction",
    "lambda:GetAccountSettings",
    "ecr:GetAuthorizationToken",
    "ecr:CreateRepository",
    "ecr:DescribeImages",
    "ecr:BatchCheckLayerAvailability",
    "ecr:InitiateLayerUpload",
    "ecr:UploadLayerPart",
    "ecr:CompleteLayerUpload",
    "ecr:PutImage",
    "ecr:GetRepositoryPolicy",
    "ecr:SetRepositoryPolicy",
    "logs:FilterLogEvents",
)
"""What this machine does as the caller: deploy and invoke, push the image, read the REPORT lines (logs *read*).
Creating a function from an image of the same account makes Lambda add itself to the repository's
policy, with the caller's ``ecr:GetRepositoryPolicy`` and ``ecr:SetRepositoryPolicy``."""


def caller_resource(action: str, role_arn: str, region: str, account: str) -> str:
    """The resource each caller action is simulated on, as a least-privilege policy scopes it (docs/aws.md):
    IAM's simulator matches a statement only if its resource covers the one it is given."""
    service = action.split(":")[0]
    if action == "iam:PassRole":
        return role_arn
    if action in ("ecr:GetAuthorizationToken", "lambda:GetAccountSettings"):
        return "*"
    if service == "lambda":
        return f"arn:aws:lambda:{region}:{account}:function:*"
    if service == "ecr":
        return f"arn:aws:ecr:{region}:{account}:repository/*"
    if service == "logs":
        return f"arn:aws:logs:{region}:{account}:log-group:/aws/lambda/lithops-*"
    return "*"


SMOKE_CODE = """
import boto3

def handler(event, context):
    s3 = boto3.client("s3")
    body = b"aqbench preflight"
    s3.put_object(Bucket=event["bucket"], Key=event["key"], Body=body)
    back = s3.get_object(Bucket=event["bucket"], Key=event["key"])["Body"].read()
    s3.delete_object(Bucket=event["bucket"], Key=event["key"])
    print("aqbench preflight: wrote, read and deleted", event["key"])
    return {"ok": back == body, "memory_mb": int(context.memory_limit_in_mb)}
"""
"""The smoke function: the role's own access to the bucket, from inside Lambda, and a log line."""

SMOKE_RUNTIME = "python3.12"


@dataclass(frozen=True)
class AwsSettings:
    """What the profile says about AWS, as the checks need it."""

    bucket: str
    storage_region: str
    lambda_region: str
    execution_role: str
    max_workers: int
    memory_mb: tuple[int, ...]
    image_built: bool
    """The runtime record exists: no Docker needed."""


def identity(sts: Any) -> dict[str, str]:
    """Who the standard chain's credentials are."""
    try:
        return sts.get_caller_identity()
    except NoCredentialsError:
        raise ConfigError(
            "no AWS credentials found: set them the standard way (environment, ~/.aws/credentials, "
            "AWS_PROFILE, SSO or an instance role)"
        ) from None
    except (TokenRetrievalError, SSOError) as exc:
        raise ConfigError(f"the AWS login has expired or was never made ({type(exc).__name__}): run `aws sso login`"
                          " (with your AWS_PROFILE), then rerun") from None  # fmt: skip
    except ClientError as exc:
        raise ConfigError(f"AWS refused the credentials ({_code(exc)}): renew them (aws sso login, ...)") from None


def regions(settings: AwsSettings, s3: Any) -> str:
    """The bucket must be where the functions run (elsewhere every read crosses regions, and is billed)."""
    if settings.storage_region != settings.lambda_region:
        raise ConfigError(
            f"storage.region {settings.storage_region} differs from lithops.aws_lambda.region "
            f"{settings.lambda_region}: put the bucket in the functions' region"
        )
    try:
        where = s3.get_bucket_location(Bucket=settings.bucket).get("LocationConstraint") or "us-east-1"
    except ClientError as exc:
        return f"bucket region not checked ({_code(exc)})"
    if where != settings.storage_region:
        raise ConfigError(
            f"storage.bucket {settings.bucket!r} is in {where}, not in storage.region {settings.storage_region}: "
            f"set both regions to {where} or use a bucket in {settings.storage_region}"
        )
    return f"bucket {settings.bucket} in {where}"


def role_name(arn: str) -> str:
    """``arn:aws:iam::123:role/path/name`` -> ``name``."""
    if not re.fullmatch(r"arn:aws[\w-]*:iam::\d{12}:role/[\w+=,.@/-]+", arn):
        raise ConfigError(
            f"lithops.aws_lambda.execution_role {arn!r} is not a role ARN (arn:aws:iam::<account>:role/<name>)"
        )
    return arn.rsplit("/", 1)[1]


def role_trust(iam: Any, arn: str) -> str:
    """The role exists and Lambda may assume it."""
    try:
        role = iam.get_role(RoleName=role_name(arn))["Role"]
    except ClientError as exc:
        if _code(exc) == "NoSuchEntity":
            raise ConfigError(f"lithops.aws_lambda.execution_role {arn}: no such role in this account") from None
        return f"role trust not checked ({_code(exc)})"
    document = role.get("AssumeRolePolicyDocument") or {}
    if isinstance(document, str):
        from urllib.parse import unquote

        document = json.loads(unquote(document))
    for statement in document.get("Statement", []):
        services = statement.get("Principal", {}).get("Service", [])
        actions = statement.get("Action", [])
        services = [services] if isinstance(services, str) else services
        actions = [actions] if isinstance(actions, str) else actions
        if statement.get("Effect") == "Allow" and "lambda.amazonaws.com" in services and "sts:AssumeRole" in actions:
            return f"role {role['RoleName']} may be assumed by Lambda"
    raise ConfigError(
        f"lithops.aws_lambda.execution_role {arn}: its trust policy does not let lambda.amazonaws.com assume it "
        '(add {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"})'
    )


def denied(iam: Any, principal: str, actions: tuple[str, ...], resources: list[str]) -> list[str] | None:
    """The actions IAM's simulator says ``principal`` may not do on ``resources``; None where the caller
    may not simulate (the check is then skipped, and says so)."""
    try:
        pages = iam.get_paginator("simulate_principal_policy").paginate(
            PolicySourceArn=principal, ActionNames=list(actions), ResourceArns=resources
        )
        results = [r for page in pages for r in page["EvaluationResults"]]
    except ClientError as exc:
        log.info("IAM policy simulation of %s not possible: %s", principal, _code(exc))
        return None
    return [r["EvalActionName"] for r in results if r["EvalDecision"] != "allowed"]


def role_permissions(iam: Any, arn: str, bucket: str) -> str:
    missing = []
    for kind, resources in (("object", [f"arn:aws:s3:::{bucket}/*"]), ("bucket", [f"arn:aws:s3:::{bucket}"]),
                            ("logs", ["*"])):  # fmt: skip
        found = denied(iam, arn, ROLE_ACTIONS[kind], resources)
        if found is None:
            return "role permissions not checked (iam:SimulatePrincipalPolicy denied to the caller)"
        missing += found
    if missing:
        raise ConfigError(
            f"lithops.aws_lambda.execution_role {arn} may not {', '.join(missing)}: give it read/write on "
            f"s3://{bucket} and CloudWatch Logs write (docs/aws.md)"
        )
    return f"role may use s3://{bucket} and write logs"


def caller_arn(identity_arn: str) -> str:
    """The IAM principal behind the credentials: an assumed role's session is simulated as its role."""
    found = re.fullmatch(r"arn:(aws[\w-]*):sts::(\d{12}):assumed-role/([^/]+)/.+", identity_arn)
    return f"arn:{found[1]}:iam::{found[2]}:role/{found[3]}" if found else identity_arn


def caller_permissions(iam: Any, identity_arn: str, role_arn: str, region: str = "us-east-1") -> str:
    account = role_arn.split(":")[4] if role_arn.count(":") >= 5 else "*"
    by_resource: dict[str, list[str]] = {}
    for action in CALLER_ACTIONS:
        by_resource.setdefault(caller_resource(action, role_arn, region, account), []).append(action)
    found: list[str] = []
    for resource, actions in by_resource.items():
        got = denied(iam, caller_arn(identity_arn), tuple(actions), [resource])
        if got is None:
            return "caller permissions not checked (iam:SimulatePrincipalPolicy denied)"
        found += got
    if found:
        raise ConfigError(f"the AWS caller {identity_arn} may not {', '.join(found)}: grant them (docs/aws.md)")
    return "caller may deploy, invoke, push to ECR and read logs"


def concurrency(lambda_client: Any, max_workers: int) -> str:
    """Lithops must not run more functions at once than the account may: Lambda throttles the rest."""
    limit = lambda_client.get_account_settings()["AccountLimit"]
    free = int(limit.get("UnreservedConcurrentExecutions", limit.get("ConcurrentExecutions", 0)))
    if max_workers > free:
        raise ConfigError(
            f"lithops.aws_lambda.max_workers is {max_workers} but this account may run {free} functions at once "
            f"(unreserved concurrency): set max_workers to {free} or fewer, or ask AWS for a higher quota"
        )
    return f"max_workers {max_workers} within the account's concurrency {free}"


def _smoke_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("smoke.py", SMOKE_CODE)
    return buffer.getvalue()


def smoke(lambda_client: Any, settings: AwsSettings, account: str) -> str:
    """Create a throwaway function of the grid's largest memory size with the profile's role, invoke it
    once (it writes, reads and deletes an object in the bucket), delete it."""
    memory = max(settings.memory_mb)
    name = f"aqbench-preflight-{uuid.uuid4().hex[:8]}"
    try:
        lambda_client.create_function(
            FunctionName=name, Runtime=SMOKE_RUNTIME, Role=settings.execution_role, Handler="smoke.handler",
            Code={"ZipFile": _smoke_zip()}, MemorySize=memory, Timeout=30, Publish=False,
        )  # fmt: skip
    except ClientError as exc:
        raise ConfigError(_create_refused(exc, memory, settings)) from None
    try:
        lambda_client.get_waiter("function_active_v2").wait(FunctionName=name)
        key = f"aqbench-preflight/{name}"
        answer = lambda_client.invoke(FunctionName=name, Payload=json.dumps({"bucket": settings.bucket, "key": key}))
        body = json.loads(answer["Payload"].read() or b"{}")
        if answer.get("FunctionError") or not body.get("ok"):
            raise ConfigError(
                f"the smoke invocation ({memory} MB, role {settings.execution_role}) failed: "
                f"{body.get('errorMessage') or body}: check the role's access to s3://{settings.bucket}"
            )
    finally:
        try:
            lambda_client.delete_function(FunctionName=name)
        except ClientError as exc:
            log.warning("the preflight function %s was not deleted (%s): delete it by hand", name, _code(exc))
    return f"a {memory} MB function ran with the role and used s3://{settings.bucket}"


def _create_refused(exc: ClientError, memory: int, settings: AwsSettings) -> str:
    message = str(exc.response.get("Error", {}).get("Message", exc))
    limit = re.search(r"MemorySize.*less than or equal to (\d+)", message)
    if limit:
        return (
            f"this account may create functions of at most {limit[1]} MB; the grids ask for {memory} MB: remove "
            "larger sizes from lithops.experiments' grids or ask AWS Support to raise the limit"
        )
    if "cannot be assumed" in message:
        return f"Lambda cannot assume lithops.aws_lambda.execution_role {settings.execution_role}: fix its trust policy"
    if _code(exc) in ("AccessDeniedException", "AccessDenied"):
        return f"the caller may not create functions or pass the role ({message}): grant lambda:* and iam:PassRole"
    return f"creating the preflight function failed: {_code(exc)}: {message}"


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", "error"))


def run(session: Any, settings: AwsSettings) -> list[str]:
    """Every check, in order, with clients from ``session`` (a boto3 Session); what each found."""
    try:
        who = identity(session.client("sts", region_name=settings.lambda_region))
        checked = [f"credentials of {who['Arn']}"]
        checked.append(regions(settings, session.client("s3", region_name=settings.storage_region)))
        iam = session.client("iam")
        checked.append(role_trust(iam, settings.execution_role))
        checked.append(role_permissions(iam, settings.execution_role, settings.bucket))
        checked.append(caller_permissions(iam, who["Arn"], settings.execution_role, settings.lambda_region))
        lambda_client = session.client("lambda", region_name=settings.lambda_region)
        checked.append(concurrency(lambda_client, settings.max_workers))
        if not settings.image_built:
            from aqbench.aws.image import docker

            docker()
            checked.append("docker reachable")
        checked.append(smoke(lambda_client, settings, who["Account"]))
    except BotoCoreError as exc:  # endpoint unreachable, DNS, TLS
        raise ConfigError(f"cannot reach AWS in {settings.lambda_region} ({exc})") from None
    return checked
