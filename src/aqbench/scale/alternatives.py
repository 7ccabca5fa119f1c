"""The study's job on EC2, at the same depth as on Lambda: a single large instance and Dask clusters.

Each alternative gets what Lambda gets. Start-up: the instance's boot (published; the Dask workers
start with their instance, their joining is not modelled beyond it). Each instance's S3 read rate
(published per instance type, shared by its workers). The same CPU seconds per MB as the Lambda
projection, carried through the same CPU ratio. Per-second billing with EC2's 60 s minimum, boot
included. The Dask cluster runs in the same discrete-event simulation as Lambda, as a pool of
always-warm workers (one a vCPU) with the scheduling latency and the driver's fixed cost measured in
this build's own Dask runs, so its time grows with its tasks' waves and its tails, not as a straight
line from two local workers.

Then where each wins: the study's job (50 GB) and the data sizes around it, and the passes per hour
at which an instance kept up beats Lambda's per-pass cost.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from aqbench.cost import Prices
from aqbench.scale.calibration import Calibration
from aqbench.scale.model import JobSpec, SimPlatform, Variation, percentiles, repeat

DASK_INSTANCES = (1, 4, 16, 64)
"""Dask cluster sizes simulated (instances of ``prices.ec2_instance``)."""
HASH_REDUCERS = 8
"""Reducers of a Dask cluster's job, as the Lambda projection's hash-partitioned reduce (fewer on fewer workers)."""
DATA_GB = (5.0, 50.0, 500.0)
"""Data sizes the crossover is looked for at (the study's 50 GB and a decade each side)."""


@dataclass(frozen=True)
class DaskTerms:
    """What this build's Dask runs measured: a task's scheduling latency and the driver's fixed cost."""

    task_gap_s: float
    """Median time a worker waits between finishing one task and starting its next."""
    driver_s: float
    """Median run wall time less its tasks' span (building and submitting the graph, gathering)."""
    runs: int


def dask_terms(metrics: Path) -> DaskTerms | None:
    """The terms from the Dask runs with the shared kernel over local processes (None: none ran)."""
    calls = pd.read_parquet(metrics / "calls.parquet")
    runs = pd.read_parquet(metrics / "runs.parquet")
    keep = (calls["engine"] == "dask") & (calls["kernel"] == "arrow") & ~calls["emulated"].fillna(False).astype(bool)
    calls = calls[keep & (calls["experiment"] != "lambda_terms")]
    if calls.empty:
        return None
    gaps: list[float] = []
    spans = {}
    for _key, tasks in calls.sort_values("t_start").groupby(["run_id", "worker"]):
        gaps += list(tasks["t_start"].to_numpy()[1:] - tasks["t_end"].to_numpy()[:-1])
    for run, tasks in calls.groupby("run_id"):
        spans[run] = float(tasks["t_end"].max() - tasks["t_submit"].min())
    walls = runs.set_index("run_id")["wall_s"]
    driver = [float(walls[r]) - s for r, s in spans.items() if r in walls.index]
    # clocks of the driver and the workers are one host's, but a worker's tasks may overlap (threads): a
    # negative gap or driver time is no time
    gap = max(0.0, float(np.median(gaps))) if gaps else 0.0
    return DaskTerms(gap, max(0.0, float(np.median(driver))) if driver else 0.0, len(spans))


def ec2_cpu_factor(cal: Calibration, model: int) -> float:
    """An EC2 instance's CPU seconds per calibrating-host CPU second (Intel family 6 ``model``), from
    their published single-thread scores; 1 where the table lacks either (said in the paper's ratio)."""
    from aqbench.host_cpu import HostCpu
    from aqbench.study2023.cpu import between

    if not cal.host_cpu:
        return 1.0
    span = between(HostCpu.from_row(cal.host_cpu), HostCpu("GenuineIntel", 6, int(model), ""))
    return span.value if span else 1.0


def single_instance(cal: Calibration, facts: dict[str, Any], data_gb: float) -> dict[str, Any]:
    """One large instance: boot, then its cores parse what its link reads (the slower of the two
    bounds the job: reading and parsing overlap; the parse spreads over every vCPU), billed per second
    from launch, 60 s at least."""
    mb = data_gb * 1000
    vcpus = int(facts["big_instance_vcpus"])
    cpu_s_per_mb = cal.cost.map_cpu_s_per_mb * ec2_cpu_factor(cal, facts["big_instance_cpu_model"])
    compute_s = mb * cpu_s_per_mb / vcpus
    read_s = mb / float(facts["big_instance_s3_mb_s"])
    boot = float(facts["ec2_boot_s"])
    wall = boot + max(compute_s, read_s)
    billed = max(wall, float(facts["ec2_min_billed_s"]))
    return {
        "option": f"one {vcpus}-vCPU instance", "kind": "single", "instances": 1, "vcpus": vcpus, "data_gb": data_gb,
        "wall_s": wall, "wall_s_p10": wall, "wall_s_p90": wall, "boot_s": boot, "work_s": max(compute_s, read_s),
        "cost_usd": billed / 3600 * float(facts["big_instance_hourly_usd"]),
        "hourly_usd": float(facts["big_instance_hourly_usd"]),
        "bound": "CPU" if compute_s >= read_s else "S3 read",
    }  # fmt: skip


def dask_cluster(
    cal: Calibration,
    facts: dict[str, Any],
    prices: Prices,
    terms: DaskTerms,
    instances: int,
    data_gb: float,
    object_mb: float,
    seeds: int,
) -> dict[str, Any]:
    """A Dask cluster of ``instances`` instances, one worker a vCPU, in the discrete-event simulation:
    every object a task, its read at the instance's S3 rate shared by its workers, its parse at the
    projection's CPU per MB, each task started ``task_gap_s`` after the worker's last."""
    workers = instances * prices.ec2_vcpus
    one_vcpu = float(facts["mb_per_vcpu"])
    platform = SimPlatform(
        max_workers=workers, release_on_notice=False, invokes_per_s=math.inf, poll_s=0.0,
        cold_init_s=0.0, warm_start_s=terms.task_gap_s, net_mb_s=float(facts["cluster_instance_s3_mb_s"]) /
        prices.ec2_vcpus, request_s=float(facts["s3_first_byte_s"]), mb_per_vcpu=one_vcpu, max_cores=1,
        timeout_s=math.inf, scale_per_10s=None, account_concurrency=None, warm_envs=workers, init_billed=False,
    )  # fmt: skip
    factor = ec2_cpu_factor(cal, facts["cluster_instance_cpu_model"])
    cost = replace(cal.cost, map_cpu_s_per_mb=cal.cost.map_cpu_s_per_mb * factor, overhead_s=0.0,
                   reduce_cpu_s_per_mb=cal.cost.reduce_cpu_s_per_mb * factor, job_setup_s=terms.driver_s,
                   result_s=0.0, final_s=0.0, threaded=False, reduce_mb_per_input_mb=0.0)  # fmt: skip
    # the reduce hash-partitioned as the Lambda projection's best, each reducer fetching its share of
    # every partial (Dask merges them in workers' memory: no reducer's memory limit is modelled)
    objects = round(data_gb * 1000 / object_mb)
    job = JobSpec(objects, object_mb, 1, int(one_vcpu), reducers=min(HASH_REDUCERS, workers))
    # the reads' stragglers are S3's (published), the tasks' own spread this host's
    variation = Variation(cal.map_factors, cal.reduce_factors, read_factors=_read_tail(facts))
    results = repeat(job, platform, cost, variation, seeds)
    p10, p50, p90 = percentiles([r.completed_s for r in results])
    boot = float(facts["ec2_boot_s"])
    billed = max(boot + p50, float(facts["ec2_min_billed_s"]))
    return {
        "option": f"Dask, {instances} x {prices.ec2_instance} ({workers} workers)", "kind": "dask",
        "instances": instances, "vcpus": workers, "data_gb": data_gb, "wall_s": boot + p50,
        "wall_s_p10": boot + p10, "wall_s_p90": boot + p90, "boot_s": boot, "work_s": p50,
        "cost_usd": billed / 3600 * prices.ec2_hourly * instances, "hourly_usd": prices.ec2_hourly * instances,
        "bound": "simulated",
    }  # fmt: skip


def _read_tail(facts: dict[str, Any]):
    from aqbench.scale.model import Quantiles

    return Quantiles(*facts["s3_read_time_factors"])


def alternatives(
    cal: Calibration,
    facts: dict[str, Any],
    prices: Prices,
    terms: DaskTerms | None,
    object_mb: float,
    seeds: int,
    data_sizes: tuple[float, ...] = DATA_GB,
) -> pd.DataFrame:
    """The single instance and each Dask cluster size at each data size."""
    rows = []
    for data_gb in data_sizes:
        rows.append(single_instance(cal, facts, data_gb))
        if terms is not None:
            for n in DASK_INSTANCES:
                rows.append(dask_cluster(cal, facts, prices, terms, n, data_gb, object_mb, seeds))
    return pd.DataFrame(rows)


def crossover(lambda_rows: pd.DataFrame, alternatives_table: pd.DataFrame) -> dict[str, Any]:
    """Where each platform wins. ``lambda_rows``: the Lambda projection's frontier configurations at
    each data size (columns data_gb, memory_mb, architecture, objects_per_call, wall_s, cost_usd;
    those that do not complete are left out). For each data size: the fastest option (x86 on Lambda:
    arm64's speed is an input, not a measurement) and the cheapest, each with the best option of
    another platform and by how much it wins. For an instance kept up between passes: the passes an
    hour from which it costs less a pass than Lambda's cheapest job, and the most it can do (one
    pass's work, no boot)."""
    out: dict[str, Any] = {"by_size": []}
    for data_gb, alts in alternatives_table.groupby("data_gb"):
        lam = lambda_rows[(lambda_rows["data_gb"] == data_gb) & lambda_rows["wall_s"].notna()]
        options = [("Lambda", f"Lambda, {r.memory_mb} MB {r.architecture}, {r.objects_per_call} objects a call",
                    r.wall_s, r.cost_usd, r.architecture == "x86_64") for r in lam.itertuples()]  # fmt: skip
        options += [("Dask" if r.kind == "dask" else "one instance", r.option, r.wall_s, r.cost_usd, True)
                    for r in alts.itertuples() if r.wall_s == r.wall_s]  # fmt: skip
        entry: dict[str, Any] = {"data_gb": float(data_gb)}
        for what, key, pool in (("fastest", 2, [o for o in options if o[4]]), ("cheapest", 3, options)):
            ranked = sorted(pool, key=lambda o: o[key])
            best = ranked[0]
            other = next((o for o in ranked if o[0] != best[0]), None)
            entry |= {what: best[1], f"{what}_platform": best[0], f"{what}_s": best[2], f"{what}_usd": best[3],
                      f"{what}_other": other[1] if other else "", f"{what}_by": other[key] / best[key] if other
                      else math.nan}  # fmt: skip
        cheap_lambda = lam.sort_values("cost_usd").iloc[0] if len(lam) else None
        single = alts[alts["kind"] == "single"]
        if cheap_lambda is not None and len(single):
            s = single.iloc[0]
            entry |= {
                "kept_up_passes_per_hour": float(s["hourly_usd"] / cheap_lambda["cost_usd"]),
                "kept_up_max_passes_per_hour": float(3600 / s["work_s"]),
                "lambda_cheapest_usd": float(cheap_lambda["cost_usd"]),
            }
        out["by_size"].append(entry)
    return out
