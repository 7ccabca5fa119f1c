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
    s3_egress_gb: float = 0.09
    """S3 to the internet, per GB (first 10 TB a month): what reading the bucket from off AWS costs."""
    ecr_gb_month: float = 0.10
    """ECR storage per GB-month: the runtime image."""
    logs_ingest_gb: float = 0.50
    """CloudWatch Logs ingestion per GB: every invocation's START/END/REPORT lines and its output."""

    @classmethod
    def from_config(cls, cfg: dict[str, Any]) -> Prices:
        """The profile's prices; the ones a profile written before they existed lacks take their defaults."""
        return cls(**{k: cfg[k] for k in cls.__dataclass_fields__ if k in cfg})


def lambda_call_cost(duration_s: float, memory_mb: int, prices: Prices, arch: str = "x86_64") -> float:
    """One call: per-ms billed duration × memory in GB × price, plus the request."""
    billed_s = math.ceil(max(0.0, duration_s) * 1000) / 1000
    per_gb_s = prices.lambda_gb_s_arm if arch == "arm64" else prices.lambda_gb_s_x86
    return billed_s * memory_mb / 1024 * per_gb_s + prices.lambda_request


def _missing(value: Any) -> bool:
    """None, or NaN (how a parquet row read through pandas says a column was not recorded)."""
    return value is None or (isinstance(value, float) and math.isnan(value))


LOG_BYTES_PER_INVOCATION = 1024
"""What one invocation writes to CloudWatch Logs, taken high: Lambda's START, END and REPORT lines
are about 300 bytes, and Lithops' worker logs at the profile's level (WARNING) add little."""


def log_cost(prices: Prices) -> float:
    """One invocation's log lines ingested by CloudWatch Logs."""
    return LOG_BYTES_PER_INVOCATION / 1e9 * prices.logs_ingest_gb


def invocation_fixed_cost(prices: Prices) -> float:
    """What every invocation costs besides its duration: the request and its log lines."""
    return prices.lambda_request + log_cost(prices)


def egress_cost(gb: float, objects: int, prices: Prices) -> float:
    """Reading ``objects`` objects of ``gb`` in all from the bucket to outside AWS: transfer out and GETs."""
    return gb * prices.s3_egress_gb + objects * prices.s3_get


def lithops_run_cost(
    calls: list[dict[str, Any]], prices: Prices, timeout_s: float | None = None, async_retries: int = 0
) -> float:
    """All calls of a run on Lambda, plus S3 (one GET per object read and per partial read, one PUT
    per partial) and the invocations' log lines. Billed by invocation (a worker of ``chunksize``
    activations is one):

    - one Lambda reported (its REPORT line, joined by request id) at its billed duration;
    - one without a REPORT line at its activations' measured durations, summed; if any activation has
      none (killed, never reported), at the most Lambda bills it, its timeout (``timeout_s``, at most
      Lambda's), once;
    - one that Lambda itself saw fail (killed, out of memory, never reported: no duration) runs again
      ``async_retries`` more times (Lambda's default is 2; ``aqbench lambda-runtime`` sets 0). A call
      whose function raised does not: Lithops catches the error and the invocation ends normally.

    Each invocation is priced at its architecture's rate (``architecture``: x86_64 or arm64).
    """
    from aqbench.lambda_facts import facts

    limit = min(timeout_s, facts().timeout_s) if timeout_s else facts().timeout_s
    invocations: dict[Any, list[dict[str, Any]]] = {}
    total = 0.0
    for index, c in enumerate(calls):
        reported = c.get("report_source") == "lambda REPORT" and not _missing(c.get("lithops_activation_id"))
        if reported:
            key: Any = ("request", c["lithops_activation_id"])
        elif isinstance(c.get("invocation"), str):
            key = (c.get("run_id"), c["invocation"])
        else:
            key = ("row", index)
        invocations.setdefault(key, []).append(c)
        gets = 0 if _missing(c.get("objects")) else int(c["objects"])
        puts = max(1, int(c.get("reducers") or 1)) if c.get("phase") == "map" else 1
        total += gets * prices.s3_get + puts * prices.s3_put
    for key, rows in invocations.items():
        first = rows[0]
        arch = first.get("architecture") if isinstance(first.get("architecture"), str) else "x86_64"
        if key[0] == "request":
            seconds, died = float(first.get("invocation_billed_s", first.get("billed_duration_s")) or 0.0), False
        else:
            durations = [_own_seconds(c) for c in rows]
            died = any(d is None for d in durations) or any(c.get("status") == "oom" for c in rows)
            seconds = limit if any(d is None for d in durations) else sum(d for d in durations if d is not None)
        runs = 1 + (async_retries if died else 0)
        total += runs * (lambda_call_cost(seconds, int(first["memory_mb"]), prices, arch) + log_cost(prices))
    return total


def _own_seconds(call: dict[str, Any]) -> float | None:
    """A call's billed duration where it has one of its own, else its measured one, else None."""
    for column in ("billed_duration_s", "duration_s"):
        if not _missing(call.get(column)):
            return float(call[column])
    return None


def instance_run_cost(wall_s: float, workers: int, prices: Prices) -> float:
    """A run on EC2 instances, a Dask cluster or the single machine: instance-hours of enough
    instances (of ``ec2_vcpus`` each) for one core per worker (Dask's workers, DuckDB's threads)."""
    instances = max(1, math.ceil(max(1, workers) / prices.ec2_vcpus))
    return wall_s / 3600 * prices.ec2_hourly * instances
