"""The exact single-node engine at its best: the fastest exact kernel, one process per core.

A user with one machine and an exact kernel runs it in a pool of processes, one per core, each
mapping its share of the objects, and merges their partials; no cluster and no functions. The
kernel and the per-object work are the Lithops calls' and Dask tasks' own
(:func:`aqbench.engines.dask.tasks.map_task`), so a difference between this engine and those is
the engine's, not the code's. The reference's query (:mod:`aqbench.kernels.reference`, run by
:class:`aqbench.engines.duckdb.engine.DuckDBEngine`) is the reference, not this baseline.

The pool starts, and imports the kernel, when the engine is made (a running program has its pool
and libraries loaded): the clock of a run starts at its first submission.
"""

from __future__ import annotations

import multiprocessing
import os
import time
from concurrent.futures import ProcessPoolExecutor
from typing import Any

from aqbench.engines.faults import Faults
from aqbench.engines.runs import RunConfig, RunResult
from aqbench.kernels import warm_up
from aqbench.storage import Expected, StoreSpec


class LocalEngine:
    """The shared kernel in a pool of ``processes`` (default: every core) on this machine."""

    name = "local"

    def __init__(self, spec: StoreSpec, expected: dict[str, Expected], processes: int = 0):
        self.spec, self.expected = spec.to_json(), expected
        self.processes = processes or os.cpu_count() or 1
        # spawn, not fork: the bench's process holds threads (Lithops, Dask) a fork would copy mid-state
        self.pool = ProcessPoolExecutor(self.processes, mp_context=multiprocessing.get_context("spawn"))
        list(self.pool.map(_warm, range(self.processes)))

    def emulates(self, cfg: RunConfig) -> bool:
        return False

    def provenance(self) -> dict[str, Any]:
        return {"processes": self.processes}

    def close(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)

    def execute(self, run: RunResult, chunks: list[list[str]], faults: Faults) -> list[bytes] | None:
        """One task per process, each an equal share of the objects (the run's chunks are ignored:
        a user of one machine splits by cores, not by calls)."""
        from aqbench.engines.dask.tasks import map_task

        keys = [k for chunk in chunks for k in chunk]
        shares = [keys[i :: self.processes] for i in range(self.processes) if keys[i :: self.processes]]
        run.started = time.perf_counter()
        submitted = time.time()
        futures = [
            self.pool.submit(map_task, self.spec, share, {k: self.expected[k] for k in share}, run.config.kernel, 1)
            for share in shares
        ]
        parts = []
        for i, future in enumerate(futures):
            merged, info = future.result()
            parts.append(merged[0])
            run.calls.append(
                run.call_row(
                    "map",
                    i,
                    status="success",
                    worker=f"process-{i}",
                    t_submit=submitted,
                    t_start=info["t_start"],
                    t_end=info["t_end"],
                    duration_s=info["t_end"] - info["t_start"],
                    cold_start=False,
                    peak_rss_mb=info["peak_rss_mb"],
                    objects=info["objects"],
                    bytes_read=info["bytes_read"],
                    bytes_written=info["bytes_written"],
                    **{k: v for k, v in info.items() if k.startswith("time_")},
                )
            )
        run.bytes = sum(self.expected[k].size for k in keys)
        run.engine, run.exact = self.name, True
        return parts


def _warm(_: int) -> None:
    warm_up()
    time.sleep(0.2)  # each process takes one: every process of the pool has started and imported
