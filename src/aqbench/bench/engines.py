"""Engines against the machine's practical limit, measured in the same run on the staged data.

The limit: the bare Arrow parse + group-by of the kernel benchmark, over every staged object
already in memory (two threads, as Arrow uses). A second reference adds what every engine
must also do on this machine: read the objects from the store (one reader per core, each
reading and parsing its share) — on the embedded profile the S3 server shares the cores.
Then, interleaved over rounds, every engine under the same terms (this machine's cores, no
Lambda emulation, the same store), each as its users run it at its best:

- one machine: the fastest exact kernel (arrow) in a process per core (:mod:`aqbench.engines.local`);
- Lithops as its users run it on one machine (localhost: a new process a call), and on this
  build's warm emulated service (environments kept warm, started by an untimed run first),
  both in their best layout (one call per core);
- Dask with the shared kernel, and Dask as its users write it (a bag of ``json.loads``, the
  nested fields extracted, a dataframe group-by; one worker per core);
- DuckDB and Polars as their users write them (one process, every core).

Every run's answer is compared with the staged objects' reference partials (computed from the
source files at staging, never from the store the engines read): the exact engines' must be
equal, the idiomatic ones' differences are counted and printed, never failed. The reference's
own query (DuckDB over every line, :mod:`aqbench.kernels.reference`) is timed beside them as
the reference it is, not ranked as an engine. Idiomatic DuckDB is the fastest reader here, so
every rate is also given against it; and Lithops' per-call overhead, cold and warm: calls that
do nothing, timed from submission to result.

Each engine's wall time is split (:func:`split`) into read, parse, partials, scheduling and
waiting, from what its calls or tasks measured, so the paper can say where each one's time goes.
Rates are medians over the rounds with their range (min–max), never one run.
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
from aqbench.engines.runs import RunConfig, RunResult
from aqbench.metrics import MIN_ROUNDS
from aqbench.storage import Expected, StoreSpec


def _noop(x: int) -> int:
    return x


ENGINES: dict[str, str] = {
    "local": "One machine, arrow kernel, a process a core",
    "lithops": "Lithops as users run it (a process a call)",
    "lithops_warm": "Lithops, warm emulated service",
    "dask_kernel": "Dask, shared kernel",
    "dask_idiomatic": "Dask as users write it (not exact)",
    "duckdb_idiomatic": "DuckDB as users write it (not exact)",
    "polars": "Polars as users write it (not exact)",
    "duckdb": "the reference's query (DuckDB; not ranked)",
}
"""The runs of one bench round, in the order they run and print (the last is the reference's query)."""

NOT_EXACT = ("dask_idiomatic", "duckdb_idiomatic", "polars")
"""Engines whose answers are counted against the reference; every other one must equal it."""

REFERENCE = "duckdb"
"""The reference's own query: timed as the reference, not an engine of the ranking."""

PARTS = ("read", "parse", "partials", "scheduling", "waiting")
"""Where a run's wall time goes (:func:`split`)."""


def run(
    spec: StoreSpec,
    expected: dict[str, Expected],
    repeats: int = MIN_ROUNDS,
    backend: dict[str, Any] | None = None,
    reference: pa.Table | None = None,
) -> dict[str, Any]:
    """Each engine's MB/s on the staged objects of ``expected`` over ``repeats`` rounds (median and
    range), its time split, beside the limit, the read+parse ceiling and the fastest reader
    (idiomatic DuckDB) of the same run; every answer against ``reference`` (the staged objects'
    reference partials)."""
    from aqbench.engines.dask.engine import DaskEngine
    from aqbench.engines.duckdb.engine import DuckDBEngine
    from aqbench.engines.lithops.engine import LithopsEngine
    from aqbench.engines.local import LocalEngine

    store = spec.open()
    keys = list(expected)
    backend = backend or {"name": "localhost"}
    common = {"emulate": False, "concurrency": 2, "scratch_prefix": "bench/"}
    lithops_best = LithopsEngine(store, backend, expected, warm=False, **common)  # a process per call
    no_network = Network(shape=False)
    lithops_warm = LithopsEngine(store, backend, expected, warm=True, network=no_network, **common)
    dask = DaskEngine(spec, expected)
    single = DuckDBEngine(store, expected)
    local = LocalEngine(spec, expected)
    total = sum(o.size for k in keys if (o := store.head(k)) is not None)
    cores = os.cpu_count() or 1
    per_call = math.ceil(len(keys) / cores)
    runs: dict[str, tuple[Any, RunConfig]] = {
        "local": (local, RunConfig("bench", "arrow", 4096, per_call, 1, 1.0, cores)),
        "lithops": (lithops_best, RunConfig("bench", "arrow", 1769, per_call, 1, 1.0, 0)),
        "lithops_warm": (lithops_warm, RunConfig("bench", "arrow", 1769, per_call, 1, 1.0, 0)),
        "dask_kernel": (dask, RunConfig("bench", "arrow", 4096, 2, 1, 1.0, cores)),
        "dask_idiomatic": (dask, RunConfig("bench", "idiomatic", 4096, 2, 1, 1.0, cores)),
        "duckdb_idiomatic": (single, RunConfig("bench", "idiomatic", 2048, 1, 1, 1.0, 0)),
        "polars": (single, RunConfig("bench", "polars", 2048, 1, 1, 1.0, 0)),
        "duckdb": (single, RunConfig("bench", "duckdb", 2048, 1, 1, 1.0, 0)),
    }
    out: dict[str, Any] = {"mb": total / 1e6, "objects": len(keys), "cores": cores, "rounds": repeats}
    try:
        return _rounds(store, keys, total, runs, repeats, reference, out, backend, lithops_warm)
    finally:  # the warm environments, their service and the process pool end with the bench
        lithops_warm.close()
        local.close()


def split(run: RunResult, cores: int) -> dict[str, float | None]:
    """Where a run's wall time went, in seconds that add up to its wall: the core-seconds of its
    calls or tasks by what they did, over ``cores``.

    - read, parse, partials: what the calls' own clocks measured (:data:`aqbench.engines.work.PHASES`:
      the GETs, the kernel's map, the merge and writes of partials; a reducer's whole call is
      partials). A task with no such clock (idiomatic Dask's) counts as parse and its read is given
      as None (read inside it); a reduce or aggregation task as partials; a DuckDB or Polars query,
      on every core, as the CPU time it used (its reads inside it).
    - scheduling: from a call's submission to its start, and the part of a call spent outside its
      read, parse and partials (a process start, imports, the engine's own wrapper).
    - waiting: the rest, cores no call or task used (idle while others finish, the driver polling
      and merging, a query's threads waiting for its reads); 0 where the parts overlap.
    """
    spent = dict.fromkeys(PARTS, 0.0)
    fused = False
    for c in run.calls:
        duration = c.get("duration_s") or 0.0
        timed = [c.get(f"time_{p}_s") for p in ("read", "parse", "partials")]
        if c.get("t_submit") is not None and c.get("t_start") is not None:
            spent["scheduling"] += max(0.0, c["t_start"] - c["t_submit"])
        if any(t is not None for t in timed):
            for part, seconds in zip(("read", "parse", "partials"), timed, strict=True):
                spent[part] += seconds or 0.0
            if c.get("phase") != "query":  # DuckDB's GETs overlap its query: nothing left over is overhead
                spent["scheduling"] += max(0.0, duration - sum(t or 0.0 for t in timed))
        elif c.get("phase") == "query":  # one query on every core: the CPU it used is its read and parse
            cpu = (c.get("cpu_user_s") or 0.0) + (c.get("cpu_system_s") or 0.0)
            spent["parse"] += min(cpu, cores * duration) if cpu else duration
            fused = True
        elif c.get("phase") == "reduce" or any(w in str(c.get("dask_task", "")) for w in _AGGREGATION):
            spent["partials"] += duration
        else:
            spent["parse"] += duration
            fused = True
    used = sum(spent.values())
    spent["waiting"] = max(0.0, cores * run.wall_s - used)
    out: dict[str, float | None] = {p: v / cores for p, v in spent.items()}
    if fused and not any(c.get("time_read_s") is not None for c in run.calls):
        out["read"] = None  # the read happens inside the same tasks as the parse
    return out


_AGGREGATION = ("agg", "groupby", "chunk", "tree", "split", "shuffle", "concat", "combine", "part-", "reduce")
"""Names of Dask's tasks that merge partials (a groupby's chunk/combine/aggregate, our partition)."""


def _rounds(store, keys, total, runs, repeats, reference, out, backend, lithops_warm) -> dict[str, Any]:
    """The timed rounds of :func:`run`, interleaved, and the per-call overheads."""
    import lithops

    from aqbench.engines.experiment import run_one
    from aqbench.engines.faults import Faults
    from aqbench.engines.lithops import engine as lithops_engine
    from aqbench.kernels.bare import bare_parse, cleaned
    from aqbench.storage.stage import subset_reference

    cores = out["cores"]
    limit_times, read_times = [], []
    results: dict[str, list[float]] = {n: [] for n in ENGINES}
    splits: dict[str, list[dict[str, float | None]]] = {n: [] for n in ENGINES}
    wanted = subset_reference(reference, keys) if reference is not None else None
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
            if result.status != "ok":
                out[f"{name}_error"] = result.note
                continue
            results[name].append(result.wall_s)
            splits[name].append(split(result, cores))
            if wanted is not None and merged is not None:
                diff = _differences(wanted, merged)
                if name in NOT_EXACT:
                    out.setdefault(f"{name}_differences", diff)  # the first round's (the data do not change)
                elif diff["groups_exact"] != sum(diff.values()) - diff["lines_skipped"] - diff["lines_extra"]:
                    from aqbench.aggregates import describe_differences

                    out[f"{name}_error"] = f"an exact engine's answer differs: {describe_differences(diff)}"
                else:
                    out[f"{name}_verified"] = out.get(f"{name}_verified", 0) + 1
    limit_s = sum(limit_times) / repeats
    out |= {"limit_mb_s": total / 1e6 / limit_s, "read_parse_mb_s": total / 1e6 / statistics.median(read_times)}
    out["read_parse_walls_s"] = read_times
    for name, walls in results.items():
        out[f"{name}_mb_s"] = total / 1e6 / statistics.median(walls) if walls else None
        out[f"{name}_walls_s"] = walls  # every round's, for the report's range
        out[f"{name}_split_s"] = {
            p: (statistics.median(v) if (v := [s[p] for s in splits[name] if s[p] is not None]) else None)
            for p in PARTS
        }
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


def _differences(wanted: pa.Table, merged: bytes) -> dict[str, int]:
    from aqbench.aggregates import answer_differences
    from aqbench.kernels import get_kernel

    table, _ = get_kernel("arrow").finalize(merged)
    return answer_differences(wanted, table)


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


def _range(r: dict[str, Any], name: str) -> str:
    """The rate's range over the rounds (min–max), as MB/s."""
    walls = r.get(f"{name}_walls_s") or []
    if len(walls) < 2:
        return "(one round: no range)"
    return f"[{r['mb'] / max(walls):.1f}-{r['mb'] / min(walls):.1f}]"


def _split_line(r: dict[str, Any], name: str) -> str:
    parts = r.get(f"{name}_split_s") or {}
    if not parts:
        return ""
    shown = [f"{p} {'(in parse)' if parts.get(p) is None else format(parts[p], '.2f')}" for p in PARTS]
    return "time (s of wall, medians): " + ", ".join(shown)


TARGETS = {"lithops_warm": "read_parse >= 0.75", "dask_kernel": "read_parse >= 0.85", "local": "read_parse >= 0.85"}


def report(r: dict[str, Any]) -> str:
    rounds = r.get("rounds") or max((len(r.get(f"{n}_walls_s") or []) for n in ENGINES), default=0)
    lines = [
        f"engines on {r['mb']:.0f} MB staged ({r.get('objects', '?')} objects; median of {rounds} rounds "
        f"[range: min-max]; emulation off, {r.get('cores', '?')} cores each)",
        f"  machine's practical limit (bare parse + group-by) {r['limit_mb_s']:8.1f} MB/s",
        f"  reading from the store + bare parse, all cores    {r['read_parse_mb_s']:8.1f} MB/s",
    ]
    if rounds < MIN_ROUNDS:
        lines.append(f"  ({rounds} rounds: fewer than {MIN_ROUNDS}, too few to compare engines by)")
    for name, label in ENGINES.items():
        rate = r.get(f"{name}_mb_s")
        if rate is None:
            lines.append(f"  {label:<44} cannot run: {r.get(f'{name}_error', 'no run completed')}")
            continue
        target = f" (target {TARGETS[name]})" if name in TARGETS else ""
        lines.append(f"  {label:<44}{rate:8.1f} MB/s {_range(r, name)}  {_ratios(r, name)}{target}")
        if split_line := _split_line(r, name):
            lines.append(f"  {'':<46}{split_line}")
        if diff := r.get(f"{name}_differences"):
            from aqbench.aggregates import describe_differences

            lines.append(f"  {'':<46}{describe_differences(diff)}")
        elif name not in NOT_EXACT and r.get(f"{name}_verified"):
            lines.append(f"  {'':<46}answer equal to the reference in {r[f'{name}_verified']} of {rounds} rounds")
        if r.get(f"{name}_error"):
            lines.append(f"  {'':<46}{r[f'{name}_error']}")
    lines.append(
        f"  Lithops per-call overhead (no-op calls, 2 at a time): cold (a process a call) "
        f"{r['lithops_seconds_per_noop_call']:.2f} s, warm {r['lithops_warm_seconds_per_noop_call']:.2f} s"
    )
    return "\n".join(lines)
