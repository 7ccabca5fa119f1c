"""The study's scale: 50 GB on Lambda, projected by the simulation from what this build measured.

Per-call constants come from the calibration (this build's calls); Lambda's and Lithops'
behaviour at scale from the dated table of published facts (``workflow/config/lambda_facts.yaml``);
prices from the profile. The grid: the study's memory sizes and more, objects per call,
x86_64 and arm64 (priced at each rate; no arm64 speed was measured here, so both run at the
measured speed), single and hash-partitioned reduce. Beside it, the study's own two
configurations with what the study reported, and a single large machine and a Dask cluster
priced from this build's measured per-core rates.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from aqbench.cost import Prices
from aqbench.defaults import SCHEMA
from aqbench.report import study
from aqbench.scale.calibration import Calibration
from aqbench.scale.model import Call, CallCost, JobSpec, Platform, SimResult, call_seconds, simulate

FACTS = SCHEMA.with_name("lambda_facts.yaml")
"""The dated table of published facts, beside the profile schema."""


@dataclass(frozen=True)
class Grid:
    data_gb: float = study.DATA_GB
    object_mb: float = study.OBJECT_MB
    memory_mb: tuple[int, ...] = (1024, 1769, 2048, 3538, 10240)
    objects_per_call: tuple[int, ...] = (1, 2, 4, 8)
    architectures: tuple[str, ...] = ("x86_64", "arm64")
    reducers: tuple[int, ...] = (1, 8)


def load_facts(path: Path = FACTS) -> dict[str, Any]:
    """The published facts: name → value (their sources stay in the file and the appendix)."""
    return {k: v["value"] for k, v in yaml.safe_load(path.read_text(encoding="utf-8"))["facts"].items()}


def lambda_platform(facts: dict[str, Any], cal: Calibration, legacy: bool = False) -> Platform:
    """Lambda as published; the environment's link at the rate measured through the emulated one (its
    nominal rate where the runs went unshaped)."""
    return Platform(
        max_workers=int(facts["lithops_max_workers"]),
        release_on_notice=True,
        invokes_per_s=float(facts["lithops_invokes_per_s"]),
        poll_s=float(facts["lithops_poll_s"]),
        cold_init_s=float(facts["cold_init_s"]),
        warm_start_s=float(facts["warm_start_s"]),
        net_mb_s=(cal.net_mb_s * facts["network_mbit"] / cal.link_mbit) if cal.link_mbit else facts["network_mbit"] / 8,
        request_s=float(facts["s3_first_byte_s"]),
        mb_per_vcpu=float(facts["mb_per_vcpu"]),
        max_cores=float(facts["max_visible_cores"]),
        timeout_s=float(facts["timeout_s"]),
        scale_per_10s=int(facts["scale_per_10s"]),
        account_concurrency=int(facts["account_concurrency"]),
        legacy_burst=int(facts["legacy_burst"]) if legacy else None,
        legacy_per_minute=int(facts["legacy_per_minute"]),
        init_billed=bool(facts["init_billed"]),
    )


def job_cost(result: SimResult, job: JobSpec, arch: str, prices: Prices) -> float:
    """Billed GB-seconds at the architecture's rate, Lambda requests, and the S3 requests: an object GET
    and a partial PUT per reducer for each map call, a partial GET per map call for each reducer, and
    Lithops' status and result PUTs for every call."""
    per_gb_s = prices.lambda_gb_s_arm if arch == "arm64" else prices.lambda_gb_s_x86
    maps = [c for c in result.calls if c.phase == "map"]
    reds = [c for c in result.calls if c.phase == "reduce"]
    gets = job.objects + len(maps) * len(reds)
    puts = len(maps) * job.reducers + 2 * len(result.calls) + len(reds)
    return (
        result.gb_seconds(job.memory_mb) * per_gb_s
        + len(result.calls) * prices.lambda_request
        + gets * prices.s3_get
        + puts * prices.s3_put
    )


def _row(job: JobSpec, arch: str, result: SimResult, prices: Prices) -> dict[str, Any]:
    maps = [c for c in result.calls if c.phase == "map"]
    return {
        "memory_mb": job.memory_mb,
        "objects_per_call": job.objects_per_call,
        "architecture": arch,
        "reducers": job.reducers,
        "calls": len(maps),
        "status": result.status,
        "wall_s": result.wall_s,
        "gb_s": result.gb_seconds(job.memory_mb),
        "cost_usd": job_cost(result, job, arch, prices),
        "cold_starts": result.cold_starts,
        "peak_concurrency": result.peak_concurrency,
        "median_call_s": float(pd.Series([c.end - c.start for c in maps]).median()),
    }


def project(cal: Calibration, facts: dict[str, Any], prices: Prices, grid: Grid = Grid()) -> pd.DataFrame:
    """Wall time and cost of one 50 GB job for every configuration of the grid."""
    objects = round(grid.data_gb * 1000 / grid.object_mb)
    platform = lambda_platform(facts, cal)
    rows = []
    for memory, opc, reducers in itertools.product(grid.memory_mb, grid.objects_per_call, grid.reducers):
        job = JobSpec(objects, grid.object_mb, opc, memory, reducers)
        result = simulate(job, platform, cal.cost)  # the architectures differ in price only
        rows += [_row(job, arch, result, prices) for arch in grid.architectures]
    return pd.DataFrame(rows)


def optimum(table: pd.DataFrame) -> pd.DataFrame:
    """The configurations no other beats on both wall time and cost (the cost/speed frontier)."""
    ok = table[table["status"] == "success"].sort_values(["wall_s", "cost_usd"])
    frontier, cheapest = [], math.inf
    for _, row in ok.iterrows():
        if row["cost_usd"] < cheapest:
            frontier.append(row)
            cheapest = row["cost_usd"]
    return pd.DataFrame(frontier)


STUDY_KERNEL = "study"
"""The per-activation cost the study's own timeout run implies (19 of 1099 in 900 s at 1024 MB)."""

STUDY_CASES = (
    # (case, activations, chunksize, reducers, what the study reported)
    (
        f"warm-up: {study.WARMUP_ACTIVATIONS} activations, chunksize {study.WARMUP_CHUNKSIZE}",
        study.WARMUP_ACTIVATIONS,
        study.WARMUP_CHUNKSIZE,
        0,
        study.WARMUP_WALL_S,
    ),
    (
        f"timeout run: {study.TIMEOUT_ACTIVATIONS} activations in one Lambda",
        study.TIMEOUT_ACTIVATIONS,
        study.TIMEOUT_ACTIVATIONS,
        1,
        study.TIMEOUT_S,
    ),
)


def activation_seconds(platform: Platform, cost: CallCost, object_mb: float, memory_mb: int, reducers: int) -> float:
    """One activation of one object in its worker: the model's call time (no start, no queue)."""
    return call_seconds(Call("map", 0, object_mb, 1 + reducers, cost.map_cpu_s_per_mb), memory_mb, platform, cost)


def cost_for_activation(
    platform: Platform, cost: CallCost, seconds: float, object_mb: float, memory_mb: int, reducers: int
) -> CallCost:
    """The cost whose one-object activation takes ``seconds``: its parse's CPU per MB solved for."""
    fixed = activation_seconds(platform, replace(cost, map_cpu_s_per_mb=0.0), object_mb, memory_mb, reducers)
    return replace(cost, map_cpu_s_per_mb=max(0.0, seconds - fixed) * platform.share(memory_mb) / object_mb)


def study_configurations(cal: Calibration, facts: dict[str, Any], prices: Prices) -> pd.DataFrame:
    """The study's own two runs as they ran, simulated, beside what it reported.

    Both ran at 1024 MB over ~25 MB objects, one object an activation: the warm-up (a map-only
    job) 1979 activations two to a worker, the timeout run 1099 activations in one worker. Each
    is simulated with this build's kernels' measured costs and with the per-activation cost the
    study's timeout run implies (its upper bound, 900 s / 19): a cost taken from one of its runs
    that predicts the other."""
    seed = replace(cal.cost, map_cpu_s_per_mb=cal.kernel_cpu_s_per_mb.get("seed", cal.cost.map_cpu_s_per_mb))
    rows = []
    for legacy in (False, True):
        platform = lambda_platform(facts, cal, legacy=legacy)
        implied = cost_for_activation(
            platform, cal.cost, study.activation_s_from_timeout()[1], study.OBJECT_MB, study.WARMUP_MEMORY_MB, 1
        )
        for label, n, chunksize, reducers, reported in STUDY_CASES:
            job = JobSpec(n, study.OBJECT_MB, 1, study.WARMUP_MEMORY_MB, reducers, chunksize=chunksize)
            for kernel, cost in (("arrow", cal.cost), ("seed", seed), (STUDY_KERNEL, implied)):
                result = simulate(job, platform, cost)
                per_activation = activation_seconds(platform, cost, job.object_mb, job.memory_mb, reducers)
                rows.append({
                    "case": label,
                    "scaling": "regional burst (before 2023-11)" if legacy else "1000 per 10 s (since 2023-11)",
                    "kernel": kernel,
                    "activations": n,
                    "chunksize": chunksize,
                    "calls": math.ceil(n / chunksize),
                    "reported_s": reported,
                    "activation_s": per_activation,
                    "done_at_limit": min(n, math.floor(study.TIMEOUT_S / per_activation + 1e-9)),
                    "simulated_s": result.wall_s,
                    "status": result.status,
                    "cost_usd": job_cost(result, job, "x86_64", prices),
                })  # fmt: skip
    return pd.DataFrame(rows)


@dataclass(frozen=True)
class MachineRates:
    """What one core of this machine did with each engine that is not Lambda (from the metrics)."""

    dask_mb_s_per_worker: float | None
    """Median throughput per worker of the Dask runs with the shared kernel over all the data."""
    duckdb_cpu_s_per_mb: float | None
    """Median CPU seconds per MB of the single-node DuckDB runs."""


def machine_rates(metrics: Path) -> MachineRates:
    runs = pd.read_parquet(metrics / "runs.parquet")
    calls = pd.read_parquet(metrics / "calls.parquet")
    dask = runs[(runs["engine"] == "dask") & (runs["kernel"] == "arrow") & (runs["status"] == "ok")]
    dask = dask[dask["fraction"] == 1.0]
    per_worker = (dask["bytes"] / 1e6 / dask["wall_s"] / dask["workers"].clip(lower=1)).median() if len(dask) else None
    duck = calls[(calls["engine"] == "duckdb") & (calls["status"] == "success")]
    cpu = ((duck["cpu_user_s"] + duck["cpu_system_s"]) / (duck["bytes_read"] / 1e6)).median() if len(duck) else None
    return MachineRates(float(per_worker) if per_worker is not None else None, float(cpu) if cpu is not None else None)


def alternatives(
    rates: MachineRates, facts: dict[str, Any], prices: Prices, lambda_wall_s: float, data_gb: float = study.DATA_GB
) -> pd.DataFrame:
    """A single large instance running DuckDB, and a Dask cluster sized to finish in the Lambda job's time.

    Both are priced per second with EC2's minimum, their start-up not counted (the Lambda job's
    cold starts are): a lower bound for them, against the simulated Lambda job."""
    mb = data_gb * 1000
    rows = []
    if rates.duckdb_cpu_s_per_mb:
        vcpus = int(facts["big_instance_vcpus"])
        compute_s = mb * rates.duckdb_cpu_s_per_mb / vcpus
        network_s = mb / (facts["big_instance_network_gbit"] * 1000 / 8)
        wall = max(compute_s, network_s)
        billed = max(wall, facts["ec2_min_billed_s"])
        rows.append({"option": f"one {vcpus}-vCPU instance, DuckDB", "vcpus": vcpus, "wall_s": wall,
                     "cost_usd": billed / 3600 * facts["big_instance_hourly_usd"],
                     "bound": "CPU" if compute_s >= network_s else "network"})  # fmt: skip
    if rates.dask_mb_s_per_worker:
        workers = math.ceil(mb / (rates.dask_mb_s_per_worker * lambda_wall_s))
        wall = mb / (rates.dask_mb_s_per_worker * workers)
        instances = math.ceil(workers / prices.ec2_vcpus)
        billed = max(wall, facts["ec2_min_billed_s"])
        rows.append({"option": f"Dask, {workers} workers ({instances} x {prices.ec2_instance})", "vcpus": workers,
                     "wall_s": wall, "cost_usd": billed / 3600 * prices.ec2_hourly * instances,
                     "bound": "sized to the Lambda job's time"})  # fmt: skip
    return pd.DataFrame(rows)
