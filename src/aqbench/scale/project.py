"""The study's scale: 50 GB on Lambda, projected by the simulation from what this build measured.

Per-call constants come from the calibration (this build's calls); Lambda's and Lithops'
behaviour at scale from the dated table of published facts (``workflow/config/lambda_facts.yaml``);
prices from the profile. CPU costs travel to Lambda as work relative to the runs' own probe (the
bare parse), turned into Lambda seconds by Lambda's core speed on that probe, an input with a
range: the parse times do not move with the host that calibrated them (a call's fixed part and
the driver's constants are still that host's). Every job is simulated
``Grid.seeds`` times with the measured calls' spread (:class:`~aqbench.scale.model.Variation`);
its answer is the median and the 10th-90th percentiles. The grid: the study's memory sizes and
more, objects per call, x86_64 and arm64 (arm64 at ``arm64_speed`` of x86, an input), single and
hash-partitioned reduce. Beside it, the study's own two configurations with what the study
reported, and a single large machine and a Dask cluster priced from this build's measured rates.

One module (longer than most here): the grid, the optimum, the alternatives and the sensitivity
all simulate with the one Lambda platform and call costs built here from the facts and the
calibration.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, replace
from typing import Any

import pandas as pd

from aqbench import study_facts as study
from aqbench.cost import Prices
from aqbench.lambda_facts import facts as facts_table
from aqbench.scale.calibration import Calibration
from aqbench.scale.model import (
    SEEDS,
    Call,
    CallCost,
    JobSpec,
    SimPlatform,
    SimResult,
    Variation,
    call_seconds,
    percentiles,
    repeat,
    simulate,
)


@dataclass(frozen=True)
class Grid:
    data_gb: float = study.DATA_GB
    object_mb: float = study.OBJECT_MB
    memory_mb: tuple[int, ...] = (1024, 1769, 2048, 3538, 10240)
    objects_per_call: tuple[int, ...] = (1, 2, 4, 8)
    architectures: tuple[str, ...] = ("x86_64", "arm64")
    reducers: tuple[int, ...] = (1, 8)
    seeds: int = SEEDS


CPU_RATIO = "cpu_ratio"
"""The facts' key for Lambda's CPU seconds over the calibrating host's (set by :func:`with_cpu_ratio`)."""


def with_cpu_ratio(
    cal: Calibration, facts: dict[str, Any], ranges: dict[str, tuple[float, float]]
) -> tuple[dict[str, Any], dict[str, tuple[float, float]], str]:
    """The facts and ranges with the one CPU ratio the whole model uses: Lambda's x86 core (the
    Haswell-EP the study's Lambda reported) against the host that calibrated, computed from published
    single-thread scores (``workflow/config/cpu_facts.yaml``, as the study's decomposition). A host the
    table has no entry for gets 1 with no range, and the returned sentence says so."""
    from aqbench.study2023.cpu import HostCpu, ratio

    found = ratio(HostCpu.from_row(cal.host_cpu)) if cal.host_cpu else None
    if found is None:
        said = (
            f"not known for {cal.host_cpu['cpu_name']}, which the table of published scores does not list"
            if cal.host_cpu
            else "not known: the calibrating runs did not record their CPU's family and model"
        )
        return facts | {CPU_RATIO: 1.0}, ranges, f"{said} (taken as 1)"
    span = found.span
    said = f"{span.value:.2f} [{span.low:.2f}-{span.high:.2f}] ({found.host_name} against {found.study_name})"
    return facts | {CPU_RATIO: span.value}, ranges | {CPU_RATIO: (span.low, span.high)}, said


def lambda_cost(cal: Calibration, facts: dict[str, Any], kernel: str | None = None) -> CallCost:
    """The calibrated call costs on Lambda: CPU seconds per MB times the CPU ratio (``facts["cpu_ratio"]``,
    :func:`with_cpu_ratio`), for ``kernel`` (None: the calibrated default); a call's fixed part and
    the driver's costs as published for Lithops on Lambda, not this host's loopback."""
    factor = float(facts.get(CPU_RATIO, 1.0))
    cpu = cal.cost.map_cpu_s_per_mb if kernel is None else cal.kernel_cpu_s_per_mb.get(kernel, math.nan)
    if kernel == STUDY_KERNEL and cal.study_cpu_s_per_mb:
        cpu = cal.study_cpu_s_per_mb
    from aqbench.kernels import MULTI_THREADED

    return replace(
        cal.cost,
        map_cpu_s_per_mb=cpu * factor,
        reduce_cpu_s_per_mb=cal.cost.reduce_cpu_s_per_mb * factor,
        threaded=(kernel or "arrow") in MULTI_THREADED,
        overhead_s=float(facts["lithops_call_overhead_s"]),
        job_setup_s=float(facts["lithops_job_setup_s"]),
        result_s=float(facts["lithops_result_s"]),
        final_s=float(facts["lithops_final_s"]),
    )


def published_variation(facts: dict[str, Any], ranges: dict[str, tuple[float, float]]) -> Variation:
    """What varies between calls on Lambda as published: start latencies (a job's warm starts from
    their published quantiles, cold ones within their range) and the stragglers' read times."""
    from aqbench.scale.model import Quantiles

    return Variation(
        cold_init_s=ranges.get("cold_init_s"),
        warm_start_s=ranges.get("warm_start_s"),
        warm_start_quantiles=Quantiles(*facts["warm_start_quantiles_s"]),
        read_factors=Quantiles(*facts["s3_read_time_factors"]),
    )


def lambda_variation(cal: Calibration, facts: dict[str, Any], ranges: dict[str, tuple[float, float]]) -> Variation:
    """The measured calls' spread around the model (this host's residuals), with Lambda's published
    start latencies and stragglers."""
    return replace(published_variation(facts, ranges), map_factors=cal.map_factors, reduce_factors=cal.reduce_factors)


def lambda_platform(facts: dict[str, Any], cal: Calibration | None = None, legacy: bool = False) -> SimPlatform:
    """Lambda as published, one environment reading S3 at the published per-function rate of a job of
    a thousand functions (``cal`` is not used: nothing of this host's enters Lambda's platform)."""
    return SimPlatform(
        max_workers=int(facts["lithops_max_workers"]),
        release_on_notice=True,
        invokes_per_s=float(facts["lithops_invokes_per_s"]),
        poll_s=float(facts["lithops_poll_s"]),
        cold_init_s=float(facts["cold_init_s"]),
        warm_start_s=float(facts["warm_start_s"]),
        net_mb_s=float(facts["s3_read_mb_s"]),
        request_s=float(facts["s3_first_byte_s"]),
        mb_per_vcpu=float(facts["mb_per_vcpu"]),
        max_cores=float(facts["max_visible_cores"]),
        timeout_s=float(facts["timeout_s"]),
        scale_per_10s=int(facts["scale_per_10s"]),
        account_concurrency=int(facts["account_concurrency"]),
        legacy_burst=int(facts["legacy_burst"]) if legacy else None,
        legacy_per_minute=int(facts["legacy_per_minute"]),
        init_billed=bool(facts["init_billed"]),
        list_page_s=float(facts["s3_first_byte_s"]),
        arm64_speed=float(facts.get("arm64_speed", 1.0)),
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


def _row(job: JobSpec, results: list[SimResult], prices: Prices) -> dict[str, Any]:
    """One configuration over its seeded runs: medians and 10th-90th percentiles; a configuration
    whose runs a timeout or the memory limit stopped has no wall time, only its status."""
    statuses = [r.status for r in results]
    failed = [s for s in statuses if s != "success"]
    wall = percentiles([r.completed_s for r in results])
    cost = percentiles([job_cost(r, job, job.architecture, prices) for r in results])
    maps = [c for c in results[0].calls if c.phase == "map"]
    return {
        "memory_mb": job.memory_mb,
        "objects_per_call": job.objects_per_call,
        "architecture": job.architecture,
        "reducers": job.reducers,
        "calls": len(maps),
        "status": failed[0] if failed else "success",
        "runs": len(results),
        "runs_ok": len(results) - len(failed),
        "wall_s": wall[1],
        "wall_s_p10": wall[0],
        "wall_s_p90": wall[2],
        "stopped_s": float(pd.Series([r.wall_s for r in results]).median()),
        "gb_s": float(pd.Series([r.gb_seconds(job.memory_mb) for r in results]).median()),
        "cost_usd": cost[1],
        "cost_usd_p10": cost[0],
        "cost_usd_p90": cost[2],
        "cold_starts": int(pd.Series([r.cold_starts for r in results]).median()),
        "peak_concurrency": int(pd.Series([r.peak_concurrency for r in results]).median()),
        "median_call_s": float(pd.Series([c.end - c.start for c in maps]).median()),
        "first_seed": results[0].seed,
    }


def project(
    cal: Calibration,
    facts: dict[str, Any],
    prices: Prices,
    grid: Grid = Grid(),
    ranges: dict[str, tuple[float, float]] | None = None,
) -> pd.DataFrame:
    """Wall time and cost of one 50 GB job for every configuration of the grid, each the median and
    10th-90th percentiles of ``grid.seeds`` seeded runs (seeds 0, 1, ...: the same every time)."""
    objects = round(grid.data_gb * 1000 / grid.object_mb)
    platform = lambda_platform(facts, cal)
    cost = lambda_cost(cal, facts)
    variation = lambda_variation(cal, facts, facts_table().ranges if ranges is None else ranges)
    rows = []
    for memory, opc, reducers, arch in itertools.product(
        grid.memory_mb, grid.objects_per_call, grid.reducers, grid.architectures
    ):
        job = JobSpec(objects, grid.object_mb, opc, memory, reducers, architecture=arch)
        rows.append(_row(job, repeat(job, platform, cost, variation, grid.seeds), prices))
    return pd.DataFrame(rows)


def optimum(table: pd.DataFrame) -> pd.DataFrame:
    """The configurations no other beats on both wall time and cost (the cost/speed frontier)."""
    ok = table[(table["status"] == "success") & table["wall_s"].notna()].sort_values(["wall_s", "cost_usd"])
    frontier, cheapest = [], math.inf
    for _, row in ok.iterrows():
        if row["cost_usd"] < cheapest:
            frontier.append(row)
            cheapest = row["cost_usd"]
    return pd.DataFrame(frontier)


STUDY_KERNEL = "study"
"""The study's own code, at its measured CPU per MB (experiment study_code)."""

IMPLIED = "implied"
"""The per-activation cost the study's own timeout run implies (19 of 1099 in 900 s at 1024 MB, read as
Lithops counts it: :func:`aqbench.study_facts.activation_s_from_timeout`, its upper end)."""

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


def activation_seconds(platform: SimPlatform, cost: CallCost, object_mb: float, memory_mb: int, reducers: int) -> float:
    """One activation of one object in its worker: the model's call time (no start, no queue)."""
    return call_seconds(Call("map", 0, object_mb, 1 + reducers, cost.map_cpu_s_per_mb), memory_mb, platform, cost)


def cost_for_activation(
    platform: SimPlatform, cost: CallCost, seconds: float, object_mb: float, memory_mb: int, reducers: int
) -> CallCost:
    """The cost whose one-object activation takes ``seconds``: its parse's CPU per MB solved for."""
    fixed = activation_seconds(platform, replace(cost, map_cpu_s_per_mb=0.0), object_mb, memory_mb, reducers)
    return replace(cost, map_cpu_s_per_mb=max(0.0, seconds - fixed) * platform.share(memory_mb) / object_mb)


def study_configurations(
    cal: Calibration, facts: dict[str, Any], prices: Prices, ranges: dict[str, tuple[float, float]] | None = None
) -> pd.DataFrame:
    """The study's own two runs as they ran, simulated, beside what it reported.

    Both ran at 1024 MB over ~25 MB objects, one object an activation: the warm-up (a map-only
    job) 1979 activations two to a worker, the timeout run 1099 activations in one worker. Each
    is simulated with the study's own code's measured CPU per MB (experiment study_code), with this
    build's kernels', and with the per-activation cost the study's timeout run implies (the upper end
    of Lithops' reading of it, solved for each case so that its activation takes exactly that: a cost
    taken from one of its runs that predicts the other). Lambda's core
    speed on the probe is an input with a range: each measured cost is simulated at its low, its
    value and its high end (``*_slow``: the high CPU ratio, Lambda's core slowest against the host;
    ``*_fast``: the low one)."""
    ranges = facts_table().ranges if ranges is None else ranges
    core = float(facts.get(CPU_RATIO, 1.0))
    low, high = ranges.get(CPU_RATIO, (core, core))
    implied_s = study.activation_s_from_timeout(study.worker_start_s(facts, ranges))[1]  # from this facts table
    rows = []
    for legacy in (False, True):
        platform = lambda_platform(facts, cal, legacy=legacy)
        for label, n, chunksize, reducers, reported in STUDY_CASES:
            job = JobSpec(n, study.OBJECT_MB, 1, study.WARMUP_MEMORY_MB, reducers, chunksize=chunksize)
            implied = cost_for_activation(
                platform, lambda_cost(cal, facts), implied_s, study.OBJECT_MB, study.WARMUP_MEMORY_MB, reducers,
            )  # fmt: skip
            for kernel in ("arrow", "seed", STUDY_KERNEL, IMPLIED):
                if kernel == STUDY_KERNEL and not cal.study_cpu_s_per_mb:
                    continue  # the profile did not run the study's code
                at = {"": core, "_slow": high, "_fast": low} if kernel != IMPLIED else {"": core}
                row: dict[str, Any] = {
                    "case": label,
                    "scaling": "regional burst (before 2023-11)" if legacy else "1000 per 10 s (since 2023-11)",
                    "kernel": kernel,
                    "activations": n,
                    "chunksize": chunksize,
                    "calls": math.ceil(n / chunksize),
                    "reported_s": reported,
                }
                for suffix, speed in at.items():
                    cost = implied if kernel == IMPLIED else lambda_cost(cal, facts | {CPU_RATIO: speed},
                                                                          kernel)  # fmt: skip
                    result = simulate(job, platform, cost)
                    per_activation = activation_seconds(platform, cost, job.object_mb, job.memory_mb, reducers)
                    row |= {
                        f"activation_s{suffix}": per_activation,
                        f"done_at_limit{suffix}": min(n, math.floor(study.TIMEOUT_S / per_activation + 1e-9)),
                        f"simulated_s{suffix}": result.wall_s,
                        f"status{suffix}": result.status,
                    }
                    if not suffix:
                        row["cost_usd"] = job_cost(result, job, "x86_64", prices)
                rows.append(row)
    return pd.DataFrame(rows)


def lambda_at_sizes(
    cal: Calibration, facts: dict[str, Any], prices: Prices, table: pd.DataFrame, grid: Grid = Grid(),
    ranges: dict[str, tuple[float, float]] | None = None, sizes: tuple[float, ...] = (5.0, 50.0, 500.0),
) -> pd.DataFrame:  # fmt: skip
    """The configurations on the projection's cost/speed frontier over other data sizes, each marked
    the fastest or the cheapest at its size among those that complete (the crossover with the
    alternatives is looked for along them; a configuration that completes at 50 GB may not at 500)."""
    ranges = facts_table().ranges if ranges is None else ranges
    rows = []
    candidates = pd.concat([optimum(table), picks(table)["fastest"].to_frame().T]).drop_duplicates(
        ["memory_mb", "objects_per_call", "reducers", "architecture"]
    )
    for _, row in candidates.iterrows():
        for data_gb in sizes:
            job = job_for(row, data_gb, grid.object_mb)
            results = repeat(job, lambda_platform(facts, cal), lambda_cost(cal, facts),
                             lambda_variation(cal, facts, ranges), grid.seeds)  # fmt: skip
            wall = percentiles([r.completed_s for r in results])
            usd = percentiles([job_cost(r, job, job.architecture, prices) for r in results])[1]
            rows.append({"data_gb": data_gb, "memory_mb": job.memory_mb,
                         "objects_per_call": job.objects_per_call, "reducers": job.reducers,
                         "architecture": job.architecture, "wall_s": wall[1], "wall_s_p10": wall[0],
                         "wall_s_p90": wall[2], "cost_usd": usd})  # fmt: skip
    out = pd.DataFrame(rows)
    out["pick"] = "other"
    for _, at in out[out["wall_s"].notna()].groupby("data_gb"):
        out.loc[at["cost_usd"].idxmin(), "pick"] = "cheapest"
        out.loc[at["wall_s"].idxmin(), "pick"] = "fastest"  # both where one configuration is
    return out


SENSITIVE = {
    "s3_first_byte_s": "S3 first-byte latency (s)",
    "cold_init_s": "cold start (s)",
    "s3_read_mb_s": "S3 read per function (MB/s)",
    "cpu_ratio": "Lambda CPU s per host CPU s",
    "lithops_result_s": "result fetch after notice (s)",
    "arm64_speed": "arm64 speed (x86 = 1)",
    "account_concurrency": "account concurrency (and max_workers)",
}
"""The published inputs known only within a range, as the sensitivity figure labels them."""


def job_for(row: pd.Series, data_gb: float, object_mb: float) -> JobSpec:
    objects = round(data_gb * 1000 / object_mb)
    return JobSpec(objects, object_mb, int(row["objects_per_call"]), int(row["memory_mb"]), int(row["reducers"]),
                   architecture=str(row["architecture"]))  # fmt: skip


def picks(table: pd.DataFrame) -> dict[str, pd.Series]:
    """The fastest configuration that completed on x86 (whose speed was measured; arm64's is an
    input, and at its central value it only ties) and the cheapest on either architecture."""
    ok = table[(table["status"] == "success") & table["wall_s"].notna()]
    x86 = ok[ok["architecture"] == "x86_64"]
    fastest = x86.sort_values(["wall_s", "cost_usd"]).iloc[0]
    return {"fastest": fastest, "cheapest": ok.sort_values(["cost_usd", "wall_s"]).iloc[0]}


def sensitivity(
    cal: Calibration, facts: dict[str, Any], prices: Prices, table: pd.DataFrame, grid: Grid = Grid(),
    ranges: dict[str, tuple[float, float]] | None = None,
) -> pd.DataFrame:  # fmt: skip
    """The fastest and the cheapest job's wall time and cost with each ranged input at its low and
    at its high end, every other at its value (one row per job, input and end)."""
    ranges = facts_table().ranges if ranges is None else ranges
    rows = []
    for target, row in picks(table).items():
        job = job_for(row, grid.data_gb, grid.object_mb)
        for name in SENSITIVE:
            if name not in ranges:
                continue
            for end, value in zip(("low", "high"), ranges[name], strict=True):
                f = facts | {name: value}
                if name == "account_concurrency":  # a user allowed more would raise Lithops' cap with it
                    f["lithops_max_workers"] = max(int(value), int(facts["lithops_max_workers"]))
                r = ranges | ({name: (value, value)} if name == "cold_init_s" else {})
                results = repeat(job, lambda_platform(f, cal), lambda_cost(cal, f), lambda_variation(cal, f, r),
                                 grid.seeds)  # fmt: skip
                rows.append({
                    "target": target, "memory_mb": job.memory_mb, "objects_per_call": job.objects_per_call,
                    "reducers": job.reducers, "architecture": job.architecture, "input": name,
                    "label": SENSITIVE[name], "end": end, "value": value,
                    "wall_s": percentiles([x.completed_s for x in results])[1],
                    "cost_usd": percentiles([job_cost(x, job, job.architecture, prices) for x in results])[1],
                    "base_wall_s": row["wall_s"], "base_cost_usd": row["cost_usd"],
                })  # fmt: skip
    return pd.DataFrame(rows)


def floor_s(
    job: JobSpec, platform: SimPlatform, cost: CallCost, variation: Variation | None = None,
    ranges: dict[str, tuple[float, float]] | None = None,
) -> float:  # fmt: skip
    """The least time the inputs allow for ``job``: each phase's driver set-up and result fetch, the
    invoker handing over every worker, one cold start and one warm start at the low ends of their
    ranges, one map call's transfer and parse and the reducers' concurrent fetch and merge at the
    fastest of the measured spread; no queueing, no polling."""
    ranges = ranges or {}
    fast_map = min(variation.map_factors) if variation else 1.0
    fast_reduce = min(variation.reduce_factors) if variation else 1.0
    cold = ranges.get("cold_init_s", (platform.cold_init_s,))[0]
    warm = ranges.get("warm_start_s", (platform.warm_start_s,))[0]
    n_maps = math.ceil(job.objects / job.objects_per_call)
    workers = math.ceil(n_maps / job.chunksize)
    one_map = Call("map", 0, job.objects_per_call * job.object_mb, job.objects_per_call + job.reducers,
                   cost.map_cpu_s_per_mb)  # fmt: skip
    partial_mb = job.objects_per_call * job.object_mb * cost.partial_mb_per_input_mb / max(1, job.reducers)
    reducer = Call("reduce", 0, n_maps * partial_mb, n_maps, cost.reduce_cpu_s_per_mb, parallel=job.fetch_threads,
                   serial_requests=1)  # fmt: skip
    arm = job.architecture == "arm64"
    ramp = 0.0 if math.isinf(platform.invokes_per_s) else min(workers, platform.max_workers) / platform.invokes_per_s
    phases = 2 if job.reducers else 1
    reduce_s = fast_reduce * call_seconds(reducer, job.memory_mb, platform, cost, arm) + warm if job.reducers else 0.0
    return (
        phases * (cost.job_setup_s + cost.result_s) + ramp + cold
        + fast_map * call_seconds(one_map, job.memory_mb, platform, cost, arm) + reduce_s + cost.final_s
    )  # fmt: skip


def headline(
    cal: Calibration, facts: dict[str, Any], table: pd.DataFrame, grid: Grid = Grid(),
    ranges: dict[str, tuple[float, float]] | None = None,
) -> dict[str, float]:  # fmt: skip
    """The fastest projected job (median, p10, p90) beside the floor the same inputs allow."""
    ranges = facts_table().ranges if ranges is None else ranges
    best = picks(table)["fastest"]
    floor = floor_s(job_for(best, grid.data_gb, grid.object_mb), lambda_platform(facts, cal), lambda_cost(cal, facts),
                    lambda_variation(cal, facts, ranges), ranges)  # fmt: skip
    return {"fastest_wall_s": float(best["wall_s"]), "fastest_wall_s_p10": float(best["wall_s_p10"]),
            "fastest_wall_s_p90": float(best["wall_s_p90"]), "floor_s": floor,
            "fastest_vs_floor": float(best["wall_s"]) / floor}  # fmt: skip
