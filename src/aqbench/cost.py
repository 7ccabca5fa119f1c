"""What a run would cost on AWS, from its measured calls and the dated prices in the profile.

Lambda: billed GB-seconds (each call's duration rounded up to the millisecond, times its
memory) plus requests, plus the S3 requests the calls made. Dask: the instance-hours of
an equivalent EC2 instance for the run's wall time. Emulated runs are priced "as if on
AWS", and say so.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Prices:
    """Prices in USD; ``date`` and ``source`` say where they come from."""

    date: str
    source: str
    lambda_gb_s_x86: float
    lambda_gb_s_arm: float
    lambda_request: float
    s3_get: float
    s3_put: float
    ec2_instance: str
    ec2_hourly: float
    ec2_vcpus: int

    @classmethod
    def from_config(cls, cfg: dict[str, Any]) -> Prices:
        return cls(**{k: cfg[k] for k in cls.__dataclass_fields__})


def lambda_call_cost(duration_s: float, memory_mb: int, prices: Prices, arch: str = "x86_64") -> float:
    """One call: per-ms billed duration × memory in GB × price, plus the request."""
    billed_s = math.ceil(max(0.0, duration_s) * 1000) / 1000
    per_gb_s = prices.lambda_gb_s_arm if arch == "arm64" else prices.lambda_gb_s_x86
    return billed_s * memory_mb / 1024 * per_gb_s + prices.lambda_request


def _missing(value: Any) -> bool:
    """None, or NaN (how a parquet row read through pandas says a column was not recorded)."""
    return value is None or (isinstance(value, float) and math.isnan(value))


def lithops_run_cost(calls: list[dict[str, Any]], prices: Prices) -> float:
    """All calls of a run, plus S3: one GET per object read and per partial read, one PUT per partial.

    Each call is priced at its own architecture's rate (``architecture``: x86_64 or arm64)
    and, where Lambda reported it, its billed duration rather than the measured one.
    """
    total = 0.0
    for c in calls:
        seconds = c.get("billed_duration_s")
        if _missing(seconds):
            seconds = c.get("duration_s")
        if _missing(seconds):
            continue
        arch = c.get("architecture") if isinstance(c.get("architecture"), str) else "x86_64"
        total += lambda_call_cost(seconds, int(c["memory_mb"]), prices, arch)
        gets = 0 if _missing(c.get("objects")) else int(c["objects"])
        puts = max(1, int(c.get("reducers") or 1)) if c.get("phase") == "map" else 1
        total += gets * prices.s3_get + puts * prices.s3_put
    return total


def instance_run_cost(wall_s: float, workers: int, prices: Prices) -> float:
    """A run on EC2 instances, a Dask cluster or the single machine: instance-hours of enough
    instances (of ``ec2_vcpus`` each) for one core per worker (Dask's workers, DuckDB's threads)."""
    instances = max(1, math.ceil(max(1, workers) / prices.ec2_vcpus))
    return wall_s / 3600 * prices.ec2_hourly * instances
