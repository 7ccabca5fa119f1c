"""Checks run before any work: the profile's endpoints answer and its bucket exists (and, on AWS
Lambda, :mod:`aqbench.aws.preflight`'s).

The schema already refuses malformed settings (unknown backend, memory outside 128-10240 MB,
an invalid bucket name) when Snakemake loads the config. What it cannot see is the outside
world: an AWS bucket that does not exist or cannot be read, a Dask scheduler that is not
listening. Those are checked here, from the workflow's ``onstart``, so a bad profile stops
with one line naming the setting before a single object is generated or staged.
"""

from __future__ import annotations

import socket
from typing import Any
from urllib.parse import urlparse

from aqbench.errors import ConfigError

CONNECT_TIMEOUT_S = 5.0


def check_scheduler(address: str) -> None:
    """A Dask scheduler address must accept TCP connections."""
    if not address:
        return
    parsed = urlparse(address if "://" in address else f"tcp://{address}")
    if parsed.scheme not in ("tcp", "tls") or not parsed.hostname or not parsed.port:
        raise ConfigError(f"dask.scheduler_address {address!r} is not tcp://host:port (or leave it empty)")
    try:
        with socket.create_connection((parsed.hostname, parsed.port), timeout=CONNECT_TIMEOUT_S):
            pass
    except OSError as exc:
        raise ConfigError(
            f"dask.scheduler_address {address}: cannot connect ({exc.strerror or exc}); start the scheduler "
            "or leave the setting empty for a local cluster"
        ) from None


def check_aws_bucket(client: Any, bucket: str, region: str) -> None:
    """The aws profile's bucket must exist and be readable with the credentials of the AWS chain."""
    from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

    try:
        client.head_bucket(Bucket=bucket)
    except NoCredentialsError:
        raise ConfigError(
            "storage.kind aws: no AWS credentials found; set them the standard way (environment, "
            "~/.aws/credentials, SSO or an instance role)"
        ) from None
    except ClientError as exc:
        code = str(exc.response.get("Error", {}).get("Code", ""))
        if code in ("404", "NoSuchBucket", "NotFound"):
            raise ConfigError(
                f"storage.bucket {bucket!r} does not exist in {region}: create it or name an existing bucket"
            ) from None
        if code in ("403", "AccessDenied", "Forbidden"):
            raise ConfigError(f"storage.bucket {bucket!r}: access denied with the current AWS credentials") from None
        raise ConfigError(f"storage.bucket {bucket!r}: S3 answered {code or exc}") from None
    except BotoCoreError as exc:  # endpoint unreachable, DNS, TLS
        raise ConfigError(f"storage.region {region}: cannot reach S3 ({exc})") from None


def run(
    store: Any,
    scheduler_address: str,
    backend: dict[str, Any],
    memory_mb: tuple[int, ...] = (),
    image_built: bool = False,
    session: Any = None,
) -> list[str]:
    """Every check of the profile; returns what was checked (for the log).

    On AWS Lambda with an AWS bucket, :mod:`aqbench.aws.preflight`'s checks (identity, regions,
    role, permissions, concurrency, Docker, one smoke invocation) with clients from ``session``
    (default: a boto3 session of the standard chain)."""
    checked = []
    lam = backend.get("aws_lambda", {})
    if backend.get("name") == "aws_lambda" and not lam.get("execution_role"):
        raise ConfigError("lithops.aws_lambda.execution_role is required for the aws_lambda backend: give a role ARN")
    if store is not None and store.kind == "aws":
        check_aws_bucket(store.client, store.bucket, store.region)
        checked.append(f"bucket {store.bucket} reachable")
        if backend.get("name") == "aws_lambda":
            import boto3

            from aqbench.aws import preflight as aws_preflight

            settings = aws_preflight.AwsSettings(
                bucket=store.bucket,
                storage_region=store.region,
                lambda_region=lam.get("region", "us-east-1"),
                execution_role=lam["execution_role"],
                max_workers=int(lam.get("max_workers") or 1000),
                memory_mb=tuple(memory_mb) or (1024,),
                image_built=image_built,
            )
            checked += aws_preflight.run(session or boto3.session.Session(), settings)
    check_scheduler(scheduler_address)
    if scheduler_address:
        checked.append(f"dask scheduler {scheduler_address} reachable")
    return checked
