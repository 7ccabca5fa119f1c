"""Unsigned requests to a public bucket, the archive's (openaq-data-archive).

The sources read the archive themselves with this client: the object stores of :mod:`aqbench.storage`
sit above the sources (they stage what a source reads), so the client a source needs lives here.
"""

from __future__ import annotations

from typing import Any

import boto3
from botocore import UNSIGNED
from botocore.config import Config


def anonymous_client(region: str = "us-east-1", endpoint: str | None = None) -> Any:
    """Unsigned requests, for public buckets such as openaq-data-archive; fails fast offline (two
    attempts, a 5 s connect timeout).

    ``endpoint``: another server than AWS's (the tests' unreachable one)."""
    config = Config(
        signature_version=UNSIGNED,
        connect_timeout=5,
        retries={"max_attempts": 2, "mode": "standard"},
        request_checksum_calculation="when_required",
        response_checksum_validation="when_required",
    )
    return boto3.session.Session().client("s3", region_name=region, config=config, endpoint_url=endpoint)
