"""The single machine many users would pick instead: one process, every core, one DuckDB query.

The run's objects stream in from the store through a few threads of S3 GETs (each checked
against its manifest CRC32C as it arrives), are cut into lines, and one DuckDB query over all
cores aggregates them. The query is the reference's own (:mod:`aqbench.kernels.reference`):
DuckDB's JSON reader would skip malformed lines without saying why, and the spec wants every
line kept or rejected with its reason, so a DuckDB user who must account for every line writes
exactly this classification. Its check against the reference therefore proves the read path,
the completeness and the one-query grouping (the reference partials were computed per object
from the source files and merged), not a second implementation of the spec — the kernels'
runs on Lithops and Dask are that.
"""

from __future__ import annotations

import os
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import pyarrow as pa

from aqbench.engines import procstat
from aqbench.engines.faults import Faults
from aqbench.engines.runs import RunConfig, RunResult
from aqbench.inputs import FetchedObject
from aqbench.kernels.partial import PARTIAL_SCHEMA, Partial
from aqbench.storage import ChecksumMismatch, Expected, Store

FETCH_THREADS = 4
"""S3 GETs in flight: enough to keep the query fed at loopback and in-region latencies."""


class _Prefetch:
    """Objects fetched ahead, in order, at most ``window`` in memory (25 MB each)."""

    def __init__(self, store: Store, keys: list[str], expected: dict[str, Expected], threads: int):
        self.store, self.keys, self.expected = store, keys, expected
        self.pool = ThreadPoolExecutor(max_workers=threads)
        self.window = 2 * threads
        self.futures: dict[int, Future] = {}
        self.next = 0
        self.lock = threading.Lock()

    def _fill(self, upto: int) -> None:
        while self.next < min(len(self.keys), upto):
            key = self.keys[self.next]
            self.futures[self.next] = self.pool.submit(self.store.get, key, self.expected[key])
            self.next += 1

    def get(self, index: int) -> bytes:
        with self.lock:
            self._fill(index + self.window)
            future = self.futures.pop(index)
        return future.result()

    def sources(self) -> list[FetchedObject]:
        return [FetchedObject(key, lambda i=i: self.get(i)) for i, key in enumerate(self.keys)]

    def close(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)


class DuckDBEngine:
    """One DuckDB process on this machine; ``workers`` in the grid is its threads (0: every core)."""

    name = "duckdb"

    def __init__(self, store: Store, expected: dict[str, Expected]):
        self.store, self.expected = store, expected

    def emulates(self, cfg: RunConfig) -> bool:
        return False

    def provenance(self) -> dict[str, Any]:
        import duckdb

        return {"duckdb": duckdb.__version__, "fetch_threads": FETCH_THREADS}

    def close(self) -> None:
        pass

    def execute(self, run: RunResult, chunks: list[list[str]], faults: Faults) -> list[bytes] | None:
        from aqbench.kernels.reference import aggregate_files

        keys = [k for chunk in chunks for k in chunk]
        threads = run.config.workers or os.cpu_count() or 1
        prefetch = _Prefetch(self.store, keys, self.expected, FETCH_THREADS)
        procstat.reset_peak()
        cpu0, t_start = os.times(), time.time()
        run.started = time.perf_counter()
        try:
            result = aggregate_files(prefetch.sources(), threads=threads)
        except ChecksumMismatch as exc:  # a damaged object: the run fails, naming it, as on the other engines
            run.status, run.note = "failed", str(exc)
            run.wall_s = time.perf_counter() - run.started
            return None
        finally:
            prefetch.close()
        cpu1, t_end = os.times(), time.time()
        cpu_user, cpu_system = cpu1.user - cpu0.user, cpu1.system - cpu0.system
        run.bytes = sum(self.expected[k].size for k in keys)
        run.calls.append(
            run.call_row(
                "query",
                0,
                status="success",
                worker="local",
                t_submit=t_start,
                t_start=t_start,
                t_end=t_end,
                duration_s=t_end - t_start,
                cold_start=False,
                cpu_user_s=cpu_user,
                cpu_system_s=cpu_system,
                cpu_usage=(cpu_user + cpu_system) / max(1e-9, t_end - t_start) / threads,
                peak_rss_mb=procstat.peak_rss_mb(),
                objects=len(keys),
                bytes_read=run.bytes,
                bytes_written=0,
            )
        )
        table = result.aggregates.drop_columns(["average"]).select(PARTIAL_SCHEMA.names)
        return [Partial(pa.Table.from_batches(table.to_batches(), table.schema).cast(PARTIAL_SCHEMA),
                        result.counts).to_ipc()]  # fmt: skip
