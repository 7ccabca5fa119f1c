"""Engines against the machine's practical limit, measured in the same run on the staged data.

The limit: the bare Arrow parse + group-by of the kernel benchmark, over every staged object
already in memory (two threads, as Arrow uses). A second reference adds what every engine
must also do on this machine: read the objects from the store (one reader per core, each
reading and parsing its share) — on the embedded profile the S3 server shares the cores.
Then, interleaved over repeats: Lithops with emulation off in its best layout (one call per
core) once with a process per call and once on warm execution environments (started by an
untimed run first), Dask with the shared kernel, and idiomatic Dask. Also Lithops' per-call
overhead, cold and warm: calls that do nothing, timed from submission to result.
"""

from __future__ import annotations

import math
import os
import statistics
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from aqbench.engines.lambda_service import Network
from aqbench.engines.runs import RunConfig
from aqbench.storage import Expected, StoreSpec


def _noop(x: int) -> int:
    return x


def run(
    spec: StoreSpec, expected: dict[str, Expected], repeats: int = 3, backend: dict[str, Any] | None = None
) -> dict[str, float]:
    """Median MB/s of each engine on ``keys``, beside the limit and the read+parse ceiling of the same run."""
    import lithops

    from aqbench.bench.kernels import _bare, cleaned
    from aqbench.engines import lithops_engine
    from aqbench.engines.dask_engine import DaskEngine
    from aqbench.engines.experiment import run_one
    from aqbench.engines.faults import Faults
    from aqbench.engines.lithops_engine import LithopsEngine
    from aqbench.engines.single_node import DuckDBEngine

    store = spec.open()
    keys = list(expected)
    backend = backend or {"name": "localhost"}
    common = {"emulate": False, "concurrency": 2, "scratch_prefix": "bench/"}
    lithops_best = LithopsEngine(store, backend, expected, warm=False, **common)  # a process per call
    no_network = Network(shape=False)
    lithops_warm = LithopsEngine(store, backend, expected, warm=True, network=no_network, **common)
    dask = DaskEngine(spec, expected)
    duckdb = DuckDBEngine(store, expected)
    total = sum(o.size for k in keys if (o := store.head(k)) is not None)
    limit_times, read_times = [], []
    results: dict[str, list[float]] = {
        n: [] for n in ("lithops", "lithops_warm", "dask_kernel", "dask_idiomatic", "duckdb")
    }
    cores = os.cpu_count() or 1
    per_call = math.ceil(len(keys) / cores)
    # the warm layout's environments start before the timed runs, as a warm-up job starts them
    run_one(lithops_warm, RunConfig("bench", "arrow", 1769, per_call, 1, 1.0, 0, -1), keys, Faults())

    for rep in range(repeats):
        clean = {}
        for key in keys:  # the limit: only the parse is timed, not the removal of malformed lines
            clean[key] = cleaned(store.get(key))
            start = time.perf_counter()
            _bare(clean[key])
            limit_times.append(time.perf_counter() - start)

        def read_and_parse(share: list[str], clean: dict[str, bytes] = clean) -> None:
            for key in share:  # the read is timed with the parse; the bare parse reads the cleaned copy
                store.get(key)
                _bare(clean[key], threads=False)

        start = time.perf_counter()
        with ThreadPoolExecutor(cores) as pool:
            list(pool.map(read_and_parse, [keys[i::cores] for i in range(cores)]))
        read_times.append(time.perf_counter() - start)
        del clean
        lith, _ = run_one(lithops_best, RunConfig("bench", "arrow", 1769, per_call, 1, 1.0, 0, rep), keys, Faults())
        results["lithops"].append(lith.wall_s)
        warm, _ = run_one(lithops_warm, RunConfig("bench", "arrow", 1769, per_call, 1, 1.0, 0, rep), keys, Faults())
        results["lithops_warm"].append(warm.wall_s)
        for kernel, name in (("arrow", "dask_kernel"), ("idiomatic", "dask_idiomatic")):
            run_, _ = run_one(dask, RunConfig("bench", kernel, 4096, 2, 1, 1.0, 2, rep), keys, Faults())
            results[name].append(run_.wall_s)
        single, _ = run_one(duckdb, RunConfig("bench", "duckdb", 2048, 1, 1, 1.0, 0, rep), keys, Faults())
        results["duckdb"].append(single.wall_s)
    limit_s = sum(limit_times) / repeats
    out: dict[str, float] = {
        "mb": total / 1e6,
        "limit_mb_s": total / 1e6 / limit_s,
        "read_parse_mb_s": total / 1e6 / statistics.median(read_times),
    }
    for name, walls in results.items():
        out[f"{name}_mb_s"] = total / 1e6 / statistics.median(walls)
        out[f"{name}_vs_limit"] = out[f"{name}_mb_s"] / out["limit_mb_s"]
        out[f"{name}_vs_read_parse"] = out[f"{name}_mb_s"] / out["read_parse_mb_s"]
    config = lithops_engine.lithops_config(backend, store.lithops_storage_config(), 1024, 60, 2)
    out["lithops_seconds_per_noop_call"] = _noop_overhead(lithops.FunctionExecutor(config=config))
    config["localhost"]["runtime"] = lithops_warm.runtime  # the warm runs' service: its environments are idle
    out["lithops_warm_seconds_per_noop_call"] = _noop_overhead(lithops.FunctionExecutor(config=config))
    lithops_warm.close()
    return out


def _noop_overhead(fexec: Any, calls: int = 20) -> float:
    """Seconds per call of calls that do nothing, two at a time, from submission to result."""
    t0 = time.perf_counter()
    fexec.get_result(fexec.map(_noop, list(range(calls))))
    seconds = (time.perf_counter() - t0) / calls * 2
    fexec.clean()
    return seconds


def report(r: dict[str, float]) -> str:
    return "\n".join(
        [
            f"engines on {r['mb']:.0f} MB staged (median of runs; emulation off)",
            f"  machine's practical limit (bare parse + group-by) {r['limit_mb_s']:8.1f} MB/s",
            f"  reading from the store + bare parse, all cores    {r['read_parse_mb_s']:8.1f} MB/s",
            f"  Lithops, a process a call {r['lithops_mb_s']:8.1f} MB/s   /limit = {r['lithops_vs_limit']:.2f}"
            f", /read+parse = {r['lithops_vs_read_parse']:.2f}",
            f"  Lithops, warm environments{r['lithops_warm_mb_s']:8.1f} MB/s   /limit = "
            f"{r['lithops_warm_vs_limit']:.2f}, /read+parse = {r['lithops_warm_vs_read_parse']:.2f} (target >= 0.75)",
            f"  Dask, shared kernel       {r['dask_kernel_mb_s']:8.1f} MB/s   /limit = "
            f"{r['dask_kernel_vs_limit']:.2f}, /read+parse = {r['dask_kernel_vs_read_parse']:.2f} (target >= 0.85)",
            f"  Dask, idiomatic           {r['dask_idiomatic_mb_s']:8.1f} MB/s   /limit = "
            f"{r['dask_idiomatic_vs_limit']:.2f}, /read+parse = {r['dask_idiomatic_vs_read_parse']:.2f}",
            f"  DuckDB, one process       {r['duckdb_mb_s']:8.1f} MB/s   /limit = "
            f"{r['duckdb_vs_limit']:.2f}, /read+parse = {r['duckdb_vs_read_parse']:.2f} (the reference's query)",
            f"  Lithops per-call overhead (no-op calls, 2 at a time): cold (a process a call) "
            f"{r['lithops_seconds_per_noop_call']:.2f} s, warm {r['lithops_warm_seconds_per_noop_call']:.2f} s",
        ]
    )
