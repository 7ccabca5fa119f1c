"""Engines against the machine's practical limit, measured in the same run on the staged data.

The limit: the bare Arrow parse + group-by of the kernel benchmark, over every staged object
already in memory (two threads, as Arrow uses). A second reference adds what every engine
must also do on this machine: read the objects from the store (one reader per core, each
reading and parsing its share) — on the embedded profile the S3 server shares the cores.
Then, interleaved over repeats, every engine under the same terms (this machine's cores, no
Lambda emulation, the same store): Lithops in its best layout (one call per core) once with a
process per call and once on warm execution environments (started by an untimed run first),
Dask with the shared kernel and idiomatic Dask (one worker per core), and one process on every
core: DuckDB running the reference's query (exact), DuckDB as a user writes it and Polars as a
user writes it (neither exact: their answers' differences from the reference are counted, and a
reader that cannot read the data prints its error). Idiomatic DuckDB is the fastest reader
here, so every rate is also given against it. Also Lithops' per-call overhead, cold and warm:
calls that do nothing, timed from submission to result.
"""

from __future__ import annotations

import math
import os
import statistics
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from typing import Any

import pyarrow as pa
from tqdm import tqdm

from aqbench.emulated.network import Network
from aqbench.engines.runs import RunConfig
from aqbench.storage import Expected, StoreSpec


def _noop(x: int) -> int:
    return x


ENGINES: dict[str, str] = {
    "lithops": "Lithops, a process a call",
    "lithops_warm": "Lithops, warm environments",
    "dask_kernel": "Dask, shared kernel",
    "dask_idiomatic": "Dask, idiomatic",
    "duckdb": "DuckDB, the reference's query",
    "duckdb_idiomatic": "DuckDB, idiomatic (not exact)",
    "polars": "Polars, idiomatic (not exact)",
}
"""The engines of one bench run, in the order they run and print."""

NOT_EXACT = ("duckdb_idiomatic", "polars")


def run(
    spec: StoreSpec,
    expected: dict[str, Expected],
    repeats: int = 3,
    backend: dict[str, Any] | None = None,
    reference: pa.Table | None = None,
) -> dict[str, Any]:
    """Median MB/s of each engine on the staged objects of ``expected``, beside the limit, the
    read+parse ceiling and the fastest reader (idiomatic DuckDB) of the same run; the answers of
    the engines that are not exact against ``reference`` (the staged objects' reference partials)."""
    from aqbench.engines.dask.engine import DaskEngine
    from aqbench.engines.duckdb.engine import DuckDBEngine
    from aqbench.engines.lithops.engine import LithopsEngine

    store = spec.open()
    keys = list(expected)
    backend = backend or {"name": "localhost"}
    common = {"emulate": False, "concurrency": 2, "scratch_prefix": "bench/"}
    lithops_best = LithopsEngine(store, backend, expected, warm=False, **common)  # a process per call
    no_network = Network(shape=False)
    lithops_warm = LithopsEngine(store, backend, expected, warm=True, network=no_network, **common)
    dask = DaskEngine(spec, expected)
    single = DuckDBEngine(store, expected)
    total = sum(o.size for k in keys if (o := store.head(k)) is not None)
    cores = os.cpu_count() or 1
    per_call = math.ceil(len(keys) / cores)
    runs: dict[str, tuple[Any, RunConfig]] = {
        "lithops": (lithops_best, RunConfig("bench", "arrow", 1769, per_call, 1, 1.0, 0)),
        "lithops_warm": (lithops_warm, RunConfig("bench", "arrow", 1769, per_call, 1, 1.0, 0)),
        "dask_kernel": (dask, RunConfig("bench", "arrow", 4096, 2, 1, 1.0, cores)),
        "dask_idiomatic": (dask, RunConfig("bench", "idiomatic", 4096, 2, 1, 1.0, cores)),
        "duckdb": (single, RunConfig("bench", "duckdb", 2048, 1, 1, 1.0, 0)),
        "duckdb_idiomatic": (single, RunConfig("bench", "idiomatic", 2048, 1, 1, 1.0, 0)),
        "polars": (single, RunConfig("bench", "polars", 2048, 1, 1, 1.0, 0)),
    }
    out: dict[str, Any] = {"mb": total / 1e6, "objects": len(keys), "cores": cores}
    try:
        return _rounds(store, keys, total, runs, repeats, reference, out, backend, lithops_warm)
    finally:  # the warm environments and their service end with the bench, whatever happened
        lithops_warm.close()


def _rounds(store, keys, total, runs, repeats, reference, out, backend, lithops_warm) -> dict[str, Any]:
    """The timed rounds of :func:`run`, interleaved, and the per-call overheads."""
    import lithops

    from aqbench.engines.experiment import run_one
    from aqbench.engines.faults import Faults
    from aqbench.engines.lithops import engine as lithops_engine
    from aqbench.kernels.bare import bare_parse, cleaned

    cores = out["cores"]
    limit_times, read_times = [], []
    results: dict[str, list[float]] = {n: [] for n in ENGINES}
    # the warm layout's environments start before the timed runs, as a warm-up job starts them
    run_one(lithops_warm, replace(runs["lithops_warm"][1], repetition=-1), keys, Faults())

    for rep in tqdm(range(repeats), desc="bench engines", unit="round"):
        clean = {}
        for key in keys:  # the limit: only the parse is timed, not the removal of malformed lines
            clean[key] = cleaned(store.get(key))
            start = time.perf_counter()
            bare_parse(clean[key])
            limit_times.append(time.perf_counter() - start)

        def read_and_parse(share: list[str], clean: dict[str, bytes] = clean) -> None:
            for key in share:  # the read is timed with the parse; the bare parse reads the cleaned copy
                store.get(key)
                bare_parse(clean[key], threads=False)

        start = time.perf_counter()
        with ThreadPoolExecutor(cores) as pool:
            list(pool.map(read_and_parse, [keys[i::cores] for i in range(cores)]))
        read_times.append(time.perf_counter() - start)
        del clean
        for name, (engine, cfg) in runs.items():
            result, merged = run_one(engine, replace(cfg, repetition=rep), keys, Faults())
            if result.status == "ok":
                results[name].append(result.wall_s)
            else:
                out[f"{name}_error"] = result.note
            if name in NOT_EXACT and rep == 0 and merged is not None and reference is not None:
                out[f"{name}_differences"] = _differences(reference, keys, merged)
    limit_s = sum(limit_times) / repeats
    out |= {"limit_mb_s": total / 1e6 / limit_s, "read_parse_mb_s": total / 1e6 / statistics.median(read_times)}
    for name, walls in results.items():
        out[f"{name}_mb_s"] = total / 1e6 / statistics.median(walls) if walls else None
        out[f"{name}_walls_s"] = walls  # every repeat's, for the report's interval
    fastest = out["duckdb_idiomatic_mb_s"]
    for name in results:
        rate = out[f"{name}_mb_s"]
        for ref, value in (("limit", out["limit_mb_s"]), ("read_parse", out["read_parse_mb_s"]), ("fastest", fastest)):
            out[f"{name}_vs_{ref}"] = rate / value if rate and value else None
    config = lithops_engine.lithops_config(backend, store.lithops_storage_config(), 1024, 60, 2)
    out["lithops_seconds_per_noop_call"] = _noop_overhead(lithops.FunctionExecutor(config=config))
    config["localhost"]["runtime"] = lithops_warm.runtime  # the warm runs' service: its environments are idle
    out["lithops_warm_seconds_per_noop_call"] = _noop_overhead(lithops.FunctionExecutor(config=config))
    return out


def _differences(reference: pa.Table, keys: list[str], merged: bytes) -> dict[str, int]:
    from aqbench.aggregates import answer_differences
    from aqbench.kernels import get_kernel
    from aqbench.storage.stage import subset_reference

    table, _ = get_kernel("arrow").finalize(merged)
    return answer_differences(subset_reference(reference, keys), table)


def _noop_overhead(fexec: Any, calls: int = 20) -> float:
    """Seconds per call of calls that do nothing, two at a time, from submission to result."""
    t0 = time.perf_counter()
    fexec.get_result(fexec.map(_noop, list(range(calls))))
    seconds = (time.perf_counter() - t0) / calls * 2
    fexec.clean()
    return seconds


def _ratios(r: dict[str, Any], name: str) -> str:
    refs = (("limit", "limit"), ("read+parse", "read_parse"), ("fastest", "fastest"))
    return ", ".join(f"/{ref} = {r[f'{name}_vs_{key}']:.2f}" for ref, key in refs if r.get(f"{name}_vs_{key}"))


TARGETS = {"lithops_warm": "read_parse >= 0.75", "dask_kernel": "read_parse >= 0.85", "duckdb": "fastest >= 0.5"}


def report(r: dict[str, Any]) -> str:
    lines = [
        f"engines on {r['mb']:.0f} MB staged ({r.get('objects', '?')} objects; median of runs; emulation off, "
        f"{r.get('cores', '?')} cores each)",
        f"  machine's practical limit (bare parse + group-by) {r['limit_mb_s']:8.1f} MB/s",
        f"  reading from the store + bare parse, all cores    {r['read_parse_mb_s']:8.1f} MB/s",
    ]
    for name, label in ENGINES.items():
        rate = r.get(f"{name}_mb_s")
        if rate is None:
            lines.append(f"  {label:<31} cannot run: {r.get(f'{name}_error', 'no run completed')}")
            continue
        target = f" (target {TARGETS[name]})" if name in TARGETS else ""
        lines.append(f"  {label:<31}{rate:8.1f} MB/s   {_ratios(r, name)}{target}")
        if diff := r.get(f"{name}_differences"):
            from aqbench.aggregates import describe_differences

            lines.append(f"  {'':<31}{describe_differences(diff)}")
    lines.append(
        f"  Lithops per-call overhead (no-op calls, 2 at a time): cold (a process a call) "
        f"{r['lithops_seconds_per_noop_call']:.2f} s, warm {r['lithops_warm_seconds_per_noop_call']:.2f} s"
    )
    return "\n".join(lines)
