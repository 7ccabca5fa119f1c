"""Published measurements of whole jobs on Lambda: what the simulation is validated on, and how the
inputs it draws from were derived.

Two roles, never mixed. A source whose measurements set any input of the simulation (the facts
table's ``source_id``) is never used to validate it; the held-out jobs of
``workflow/config/published_jobs.yaml`` come from other sources, and :func:`check_split` refuses a
table that mixes them. The model predicts each held-out job from its size alone (functions, bytes or
stated work per function, memory) with Lambda's published facts, nothing of this host's, and sets
its prediction (median and 10th-90th percentiles of seeded runs) beside the published wall time.

:func:`derive` turns one result of the Lithops team's S3 benchmark (the pickle its
``benchmarks/object_storage`` script writes) into the figures the facts table records from it, so
that those numbers can be re-derived from their source.
"""

from __future__ import annotations

import math
import pickle
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from aqbench.errors import ConfigError
from aqbench.scale.model import CallCost, JobSpec, SimPlatform, repeat

JOBS_FILE = Path(__file__).resolve().parents[3] / "workflow" / "config" / "published_jobs.yaml"
QUANTILES = (0, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 0.995, 0.999, 1.0)
"""Where a published distribution is cut: its tail finely, since the slowest of N sets a phase's end."""
TARGET = 0.25
"""The issue's target: each held-out job predicted within 25 % of its published wall time."""


class _PlainData(pickle.Unpickler):
    """Only plain data (dicts, lists, numbers, strings): a downloaded pickle can run no code."""

    def find_class(self, module: str, name: str):
        raise pickle.UnpicklingError(f"refusing {module}.{name}: a benchmark result holds plain data only")


def load_lithops_result(path: Path) -> dict[str, Any]:
    with open(path, "rb") as f:
        return _PlainData(f).load()


@dataclass(frozen=True)
class DerivedRun:
    """What one Lithops S3 read benchmark run says about Lithops and S3 on Lambda."""

    functions: int
    total_s: float
    invokes_per_s: float
    job_setup_s: float
    wrapper_s: tuple[float, float, float]
    """Lithops' handler around the function: median, 10th and 90th percentile."""
    result_s: tuple[float, float, float]
    final_s: float
    start_s: tuple[float, ...]
    """Invoke to worker start at :data:`QUANTILES`."""
    read_mb_s_median: float
    read_time_factors: tuple[float, ...]
    """A function's read time over the median function's at :data:`QUANTILES`."""
    cold_starts: int


def _q(values: list[float] | np.ndarray, at: tuple[float, ...] = QUANTILES) -> tuple[float, ...]:
    return tuple(round(float(v), 3) for v in np.quantile(np.asarray(values, dtype=float), at))


def derive(result: dict[str, Any]) -> DerivedRun:
    """The facts a Lithops benchmark result gives (its worker_stats, Lithops >= 2.5, and results)."""
    stats, reads = result["worker_stats"], result["results"]
    if not stats or "host_submit_tstamp" not in stats[0]:
        raise ConfigError("this result has no Lithops host statistics (host_submit_tstamp): Lithops >= 2.5 writes them")
    t0 = result["start_time"]
    submits = np.array([w["host_submit_tstamp"] for w in stats])
    rate = np.array([r["mb_rate"] for r in reads])
    median_rate = float(np.median(rate))
    wrapper = [w["worker_exec_time"] - w["worker_func_exec_time"] for w in stats]
    fetch = [w["host_result_done_tstamp"] - w["host_status_done_tstamp"] for w in stats]
    return DerivedRun(
        functions=len(stats),
        total_s=float(result["total_time"]),
        invokes_per_s=len(stats) / float(submits.max() - submits.min()),
        job_setup_s=round(float(submits.min() - t0), 3),
        wrapper_s=_q(wrapper, (0.5, 0.1, 0.9)),
        result_s=_q(fetch, (0.5, 0.1, 0.9)),
        final_s=round(float(result["total_time"] - max(w["host_result_done_tstamp"] - t0 for w in stats)), 3),
        start_s=_q([w["worker_start_tstamp"] - w["host_submit_tstamp"] for w in stats]),
        read_mb_s_median=round(median_rate, 2),
        read_time_factors=_q(median_rate / rate),
        cold_starts=sum(1 for w in stats if w.get("worker_cold_start")),
    )


@dataclass(frozen=True)
class PublishedJob:
    """One held-out job as its source reports it."""

    name: str
    source_id: str
    functions: int
    memory_mb: int
    wall_s: float
    mb_per_function: float = 0.0
    """Bytes each function reads from S3 (MB)."""
    work_s: float = 0.0
    """Seconds each function computes besides, where the source states them."""
    warm: bool = False
    """Whether the source says its functions were warm (run just before): no cold start."""
    init_s: float | None = None
    """The function's own cold init where the source states it (else the facts' cold_init_s)."""
    driver: str = "lithops"
    """lithops: Lithops' driver (its job set-up, polling and result fetch, as published); direct: each
    call invoked and awaited by its own client thread (no polling), paying ``client_s`` besides."""
    client_s: float = 0.0
    """A direct call's client overhead (a new HTTP connection), where the source states it."""
    measure: str = "wall"
    """What the source published: wall (the job's, first invoke to last result), or one statistic of
    its calls' durations, call_mean, call_p90 or call_p99 (the slowest of a hundred)."""
    note: str = ""


@dataclass(frozen=True)
class PublishedSources:
    """The held-out jobs and their sources (id: title, url, date measured)."""

    sources: dict[str, dict[str, Any]]
    jobs: tuple[PublishedJob, ...]


def read_jobs(path: Path = JOBS_FILE) -> PublishedSources:
    import yaml

    table = yaml.safe_load(path.read_text(encoding="utf-8"))
    sources = dict(table.get("sources") or {})
    jobs = []
    for entry in table.get("jobs") or []:
        job = PublishedJob(**entry)
        if job.measure not in ("wall", "call_mean", "call_p90", "call_p99"):
            raise ConfigError(f"{path}: job {job.name!r} measure {job.measure!r}: use wall or call_mean/p90/p99")
        if job.source_id not in sources:
            raise ConfigError(f"{path}: job {job.name!r} names source {job.source_id!r}, which sources: does not list")
        jobs.append(job)
    return PublishedSources(sources, tuple(jobs))


def check_split(fact_sources: dict[str, str], held_out: PublishedSources) -> None:
    """Refuse a held-out job whose source also sets an input (``fact_sources``: fact -> source id)."""
    setting = set(fact_sources.values())
    for job in held_out.jobs:
        if job.source_id in setting:
            used = sorted(k for k, v in fact_sources.items() if v == job.source_id)
            raise ConfigError(
                f"held-out job {job.name!r} comes from {job.source_id!r}, which sets {', '.join(used)}: "
                "a source that sets an input cannot validate; move the job or the input to another source"
            )


def predict(
    job: PublishedJob, platform: SimPlatform, cost: CallCost, variation: Any, seeds: int
) -> tuple[float, float, float]:
    """The job's wall time (10th, 50th, 90th percentile of ``seeds`` seeded runs): a map of
    ``functions`` calls, each reading its bytes and working its stated seconds, no reduce."""
    from aqbench.scale.model import percentiles

    spec = JobSpec(job.functions, job.mb_per_function, 1, job.memory_mb, reducers=0, fixed_s=job.work_s)
    # nothing is parsed: a call is its fixed part, its reads and its stated work
    platform = replace(platform, warm_envs=job.functions if job.warm else 0)
    if job.init_s is not None:
        platform = replace(platform, cold_init_s=job.init_s)
        variation = replace(variation, cold_init_s=None)
    if job.driver == "direct":  # no Lithops around the call, no polling: the client waits on each call
        platform = replace(platform, poll_s=0.01, list_page_s=0.0, release_on_notice=False)
        cost = replace(cost, overhead_s=0.0, job_setup_s=0.0, result_s=0.0, final_s=0.0)
        spec = replace(spec, fixed_s=job.work_s + job.client_s)
    results = repeat(spec, platform, cost, variation, seeds)
    if job.measure == "wall":
        return percentiles([r.completed_s for r in results])
    statistic = {"call_mean": np.mean, "call_p90": lambda d: np.percentile(d, 90),
                 "call_p99": lambda d: np.percentile(d, 99)}[job.measure]  # fmt: skip
    return percentiles([float(statistic([c.end - c.start for c in r.calls])) for r in results])


def validate(facts: Any, held_out: PublishedSources, seeds: int) -> pd.DataFrame:
    """Every held-out job predicted from Lambda's published facts (a :class:`LambdaFacts`), beside its
    published wall time, with the error and the source's role."""
    from aqbench.scale.project import lambda_platform, published_variation

    check_split(facts.source_ids, held_out)
    values, ranges = facts.values, facts.ranges
    cost = CallCost(
        overhead_s=float(values["lithops_call_overhead_s"]),
        map_cpu_s_per_mb=0.0,
        reduce_cpu_s_per_mb=0.0,
        partial_mb_per_input_mb=0.0,
        job_setup_s=float(values["lithops_job_setup_s"]),
        result_s=float(values["lithops_result_s"]),
        final_s=float(values["lithops_final_s"]),
    )
    platform = lambda_platform(values)
    variation = published_variation(values, ranges)
    rows = []
    for job in held_out.jobs:
        p10, p50, p90 = predict(job, platform, cost, variation, seeds)
        source = held_out.sources[job.source_id]
        rows.append({
            "job": job.name, "source_id": job.source_id, "source": source.get("title", job.source_id),
            "measured": source.get("measured", ""), "functions": job.functions, "memory_mb": job.memory_mb,
            "mb_per_function": job.mb_per_function, "work_s": job.work_s, "driver": job.driver,
            "warm": job.warm, "measure": job.measure, "published_s": job.wall_s,
            "predicted_s": p50, "predicted_s_p10": p10, "predicted_s_p90": p90,
            "error": p50 / job.wall_s - 1 if job.wall_s else math.nan,
        })  # fmt: skip
    table = pd.DataFrame(rows)
    if len(table):
        table["within_target"] = table["error"].abs() <= TARGET
    return table
