"""Tiny metrics in the exact shape the experiments write, for millisecond report and figure tests.

The rows go through the real scaffold records (RunResult.call_row, write_results) and the
real metrics step, so a change to the columns or the figures is caught without running an
engine.
"""

from __future__ import annotations

import json
from pathlib import Path

from aqbench.cost import Prices
from aqbench.defaults import schema_default
from aqbench.engines.runs import RunConfig, RunResult, environment, write_results
from aqbench.metrics import compute
from aqbench.openaq import RecordCounts

EXPERIMENTS = {
    ("lithops", "memory"): [{"memory_mb": m, "objects_per_call": 2} for m in (1024, 2048)],
    ("lithops", "objects_per_call"): [{"memory_mb": 1769, "objects_per_call": o} for o in (1, 2)],
    ("lithops", "reducers"): [{"memory_mb": 1769, "objects_per_call": 2, "reducers": r} for r in (1, 2)],
    ("lithops", "kernels"): [
        {"memory_mb": 1769, "objects_per_call": 2, "kernel": k, "fraction": 0.5} for k in ("arrow", "seed")
    ],
    ("lithops", "timeout"): [{"memory_mb": 1024, "objects_per_call": 4, "timeout_s": 0.1}],
    ("lithops", "warmup"): [{"memory_mb": m, "objects_per_call": 2, "warmup": True} for m in (1024, 2048)],
    ("lithops", "data_locality"): [
        {"memory_mb": 1769, "objects_per_call": 2, "locality": place} for place in ("local", "remote")
    ],
    ("dask", "baseline"): [{"kernel": k, "workers": 2, "memory_mb": 2048} for k in ("arrow", "idiomatic")],
}
OBJECTS, OBJECT_BYTES = 4, 1_000_000


def _lithops_stats(submit: float, start: float, end: float) -> dict[str, float]:
    """Lithops' own timestamps of a call (what the scale simulation calibrates its driver on)."""
    return {
        "lithops_host_job_create_tstamp": submit - 0.02,
        "lithops_host_submit_tstamp": submit,
        "lithops_worker_start_tstamp": start - 0.01,
        "lithops_worker_end_tstamp": end + 0.01,
        "lithops_host_status_done_tstamp": end + 0.12,
        "lithops_host_result_done_tstamp": end + 0.2,
    }


def _run(engine: str, cfg: RunConfig, index: int) -> RunResult:
    keys = [f"openaq/df{i:05d}.ndjson" for i in range(OBJECTS)]
    run = RunResult.new(engine, cfg, keys, emulated=engine == "lithops")
    t0 = 1_700_000_000.0 + 100 * index
    chunks = cfg.chunks(keys)
    timed_out = cfg.experiment == "timeout"
    if cfg.warmup:  # the warm-up job: every environment starts cold
        for call, chunk in enumerate(chunks):
            run.calls.append(
                run.call_row("warmup", call, status="success", t_submit=t0 - 5, t_start=t0 - 3.8, t_end=t0 - 3.5)
                | {"duration_s": 0.3, "cold_start": True, "init_s": 1.1, "objects": len(chunk)}
            )
    slow = 2.5 if cfg.locality == "remote" else 1.0
    for call, chunk in enumerate(chunks):
        duration = 0.4 * len(chunk) * 1769 / cfg.memory_mb * slow
        run.calls.append(
            run.call_row(
                "map",
                call,
                status="timeout" if timed_out else "success",
                worker=f"w{call % 2}",
                t_submit=t0,
                t_start=t0 + 0.2 + 0.05 * call,
                t_end=t0 + 0.2 + 0.05 * call + duration,
                duration_s=duration,
                cold_start=engine == "lithops" and not cfg.warmup,
                init_s=0.0,
                network_emulated=engine == "lithops",
                net_recv_bytes=OBJECT_BYTES * len(chunk) + 5_000,
                cpu_user_s=0.8 * duration,
                cpu_system_s=0.1 * duration,
                cpu_usage=0.9,
                peak_rss_mb=150.0 + 20 * len(chunk),
                objects=len(chunk),
                bytes_read=OBJECT_BYTES * len(chunk),
                bytes_written=20_000,
            )
            | _lithops_stats(t0, t0 + 0.2 + 0.05 * call, t0 + 0.2 + 0.05 * call + duration)
        )
    for r in range(cfg.reducers):
        run.calls.append(
            run.call_row("reduce", r, status="success", t_submit=t0 + 2, t_start=t0 + 2.1, t_end=t0 + 2.3)
            | {"duration_s": 0.2, "peak_rss_mb": 120.0, "objects": len(chunks), "bytes_read": 40_000}
            | {"bytes_written": 30_000, "cpu_user_s": 0.1, "cpu_system_s": 0.01, "locality": cfg.locality}
            | {"network_emulated": engine == "lithops"}
            | _lithops_stats(t0 + 2, t0 + 2.1, t0 + 2.3)
        )
    run.status = "timeout" if timed_out else "ok"
    run.wall_s = 3.0 + index * 0.1
    run.probe_before_mb_s, run.probe_after_mb_s = 400.0, 410.0  # the machine's limit around the run
    run.bytes = OBJECT_BYTES * OBJECTS
    counts = RecordCounts(records_valid=990)
    counts.reject("invalid_json", 10)
    if not timed_out:
        run.counts, run.records_read, run.records_staged = counts, 1000, 1000
    return run


def write_metrics(root: Path) -> Path:
    """Experiment folders of two repetitions each, then the real metrics step; the metrics folder."""
    folders = []
    for (engine, experiment), points in EXPERIMENTS.items():
        folder = root / engine / experiment
        results = [
            _run(engine, RunConfig(experiment=experiment, repetition=rep, **point), i)
            for rep in range(2)
            for i, point in enumerate(points)
        ]
        write_results(folder, results, environment({"engine": engine}))
        folders.append(folder)
    compute(folders, Prices.from_config(schema_default("prices")), root / "metrics")
    return root / "metrics"


def write_scale(root: Path, metrics: Path) -> Path:
    """The scale simulation on the tiny metrics, as its two rules run it with the tiny profile's 3 seeds; its folder.

    The default 20 seeds took 133 s of a 2-core machine here, a fifth of make test, for the same checks.
    """
    from aqbench.cli import main

    out = root / "scale"
    assert main(["simulate", "--validate", "--metrics", str(metrics), "--out", str(out)]) == 0
    assert main(["simulate", "--project", "--metrics", str(metrics), "--out", str(out), "--seeds", "3"]) == 0
    return out


def write_bench(path: Path) -> Path:
    """A kernel-benchmark JSON with every figure the report and figures read."""
    bench = {
        "object_mb": 25.1,
        "fan_in": 2000,
        "reducers": 8,
        "bare_mb_s": 400.0,
        "bare_1core_mb_s": 250.0,
        "arrow_mb_s": 340.0,
        "arrow_1core_mb_s": 220.0,
        "seed_mb_s": 11.0,
        "arrow_vs_bare": 0.85,
        "arrow_vs_bare_1core": 0.88,
        "arrow_vs_seed": 30.9,
        "arrow_map_peak_rss_mb": 185.0,
        "seed_map_peak_rss_mb": 210.0,
        "merge_r8_seconds": 4.0,
        "merge_r8_peak_rss_mb": 570.0,
        "merge_r1_seconds": 36.0,
        "merge_r1_peak_rss_mb": 2400.0,
    }
    path.write_text(json.dumps(bench))
    return path
