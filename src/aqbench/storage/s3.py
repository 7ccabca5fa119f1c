"""S3 stores: the local SeaweedFS server and real AWS S3, both through boto3.

Every request to the local server is sent with ``Connection: close``. Lithops' workers
open a connection and then fork; with a server that keeps connections alive (SeaweedFS
does), parent and child would share one socket and mix responses, losing records with
no error. The reference comparison of every run is what catches this class of bug.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from aqbench.storage import Expected, ObjectInfo


def close_connections(request: Any, **kwargs: Any) -> None:
    """botocore event handler: ask the server to close the connection after each response."""
    request.headers["Connection"] = "close"


def _config(**extra: Any) -> Config:
    return Config(
        retries={"max_attempts": 5, "mode": "standard"},
        request_checksum_calculation="when_required",
        response_checksum_validation="when_required",
        **extra,
    )


def local_client(endpoint: str, access_key: str, secret_key: str) -> Any:
    client = boto3.session.Session().client(
        "s3",
        endpoint_url=endpoint,
        aws_access_key_id=access_key,
        aws_secret_access_key=secret_key,
        region_name="us-east-1",
        config=_config(s3={"addressing_style": "path"}),
    )
    client.meta.events.register("before-send.s3", close_connections)
    return client


class S3Store:
    """A bucket on an S3 endpoint."""

    def __init__(
        self,
        kind: str,
        bucket: str,
        client: Any,
        endpoint: str | None,
        credentials: tuple[str, str] | None,
        region: str,
    ):
        self.kind = kind
        self.bucket = bucket
        self.client = client
        self.endpoint = endpoint
        self._credentials = credentials
        self.region = region
        self.server: Any = None

    @classmethod
    def for_local_server(cls, server: Any, bucket: str) -> S3Store:
        endpoint = server.endpoint()
        creds = server.credentials()
        store = cls("s3-local", bucket, local_client(endpoint, *creds), endpoint, creds, "us-east-1")
        store.server = server  # reliability tests restart it mid-run
        return store

    @classmethod
    def for_aws(cls, bucket: str, region: str, endpoint: str | None = None) -> S3Store:
        """Credentials (with a session token, if any) come from the standard AWS chain, never from us.

        ``endpoint``: another S3 server than AWS's (the tests' local one, which the aws kind's
        exact client and requests then reach)."""
        config = _config(s3={"addressing_style": "path"}) if endpoint else _config()
        client = boto3.session.Session().client("s3", region_name=region, config=config, endpoint_url=endpoint)
        return cls("aws", bucket, client, endpoint, None, region)

    def ensure_bucket(self) -> None:
        try:
            self.client.head_bucket(Bucket=self.bucket)
        except ClientError:
            kwargs: dict[str, Any] = {"Bucket": self.bucket}
            if self.kind == "aws" and self.region != "us-east-1":
                kwargs["CreateBucketConfiguration"] = {"LocationConstraint": self.region}
            self.client.create_bucket(**kwargs)

    def put(self, key: str, path: Path, metadata: dict[str, str]) -> None:
        """Upload with the file's CRC32C computed here: the server refuses bytes that differ (BadDigest).

        Why not ``ChecksumAlgorithm="CRC32C"``: botocore computes that one only with the
        optional ``awscrt`` package and otherwise raises before sending anything; a value we
        give it is sent as it is, and S3 (and SeaweedFS) check the bytes against it and keep it.
        """
        from aqbench.storage import checksum_header

        with open(path, "rb") as fh:
            crc = checksum_header(path)
            self.client.put_object(Bucket=self.bucket, Key=key, Body=fh, Metadata=metadata, ChecksumCRC32C=crc)

    def get(self, key: str, expect: Expected | None = None) -> bytearray:
        from aqbench.storage import read_exactly

        response = self.client.get_object(Bucket=self.bucket, Key=key)
        return read_exactly(response["Body"], response["ContentLength"], expect)

    def head(self, key: str) -> ObjectInfo | None:
        try:
            resp = self.client.head_object(Bucket=self.bucket, Key=key)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return None
            raise
        return ObjectInfo(key, int(resp["ContentLength"]), dict(resp.get("Metadata", {})))

    def list(self, prefix: str) -> Iterator[ObjectInfo]:
        for page in self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=prefix):
            for obj in page.get("Contents", []):
                yield ObjectInfo(obj["Key"], int(obj["Size"]), {})

    def lithops_storage_config(self) -> dict[str, Any]:
        if self.kind == "aws":
            return {"backend": "aws_s3", "aws_s3": {"region": self.region, "storage_bucket": self.bucket}}
        # Lithops' aws_s3 backend has no endpoint setting; its "minio" backend is plain boto3
        # against any S3-compatible endpoint, SeaweedFS included.
        access, secret = self._credentials or ("", "")
        return {
            "backend": "minio",
            "minio": {
                "endpoint": self.endpoint,
                "access_key_id": access,
                "secret_access_key": secret,
                "storage_bucket": self.bucket,
            },
        }

    def fsspec(self) -> tuple[str, dict[str, Any]]:
        if self.kind == "aws":  # credentials from the chain of whichever process reads (a Dask worker's own)
            return "s3", ({"client_kwargs": {"endpoint_url": self.endpoint}} if self.endpoint else {})
        access, secret = self._credentials or ("", "")
        return "s3", {
            "key": access,
            "secret": secret,
            "client_kwargs": {"endpoint_url": self.endpoint, "region_name": self.region},
        }
