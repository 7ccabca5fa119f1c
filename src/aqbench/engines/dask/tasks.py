"""What Dask workers run: reading staged objects and the shared kernel (the same code Lithops runs)."""

from __future__ import annotations

import functools
import os
import signal
import time
from typing import Any

from aqbench import procstat
from aqbench.engines.work import map_objects
from aqbench.kernels import get_kernel
from aqbench.openaq import KEY_COLUMNS, Measurement, parse_line
from aqbench.storage import Expected


@functools.lru_cache(maxsize=4)
def _store(spec: str) -> Any:
    from aqbench.storage import StoreSpec

    return StoreSpec.from_json(spec).open()


def map_task(
    spec: str,
    keys: list[str],
    expect: dict[str, Expected],
    kernel: str,
    reducers: int,
    kill_marker: str | None = None,
) -> tuple[list[bytes], dict[str, Any]]:
    """Map some objects with the kernel; return the reducers' partials and what the task did.

    ``kill_marker`` (fault injection): unless that file exists, create it and SIGKILL this
    worker process after the first object — a worker lost mid-task, once.
    """
    procstat.reset_peak()  # one task per worker process at a time (threads_per_worker=1)
    started = time.time()

    def kill_once() -> None:
        if kill_marker and not os.path.exists(kill_marker):
            open(kill_marker, "w").close()
            os.kill(os.getpid(), signal.SIGKILL)

    store = _store(spec)
    # each object's length and CRC32C checked as it streams in (a mismatch raises, naming it); one
    # task per worker thread is the cluster's own parallelism, so the kernel stays on one core
    merged, read = map_objects(lambda key: store.get(key, expect[key]), keys, kernel, reducers, False, kill_once)
    return merged, {
        "t_start": started,
        "t_end": time.time(),
        "bytes_read": read,
        "objects": len(keys),
        "bytes_written": sum(len(p) for p in merged),
        "peak_rss_mb": procstat.peak_rss_mb(),
    }


def partition(result: tuple[list[bytes], dict[str, Any]], r: int) -> bytes:
    return result[0][r]


def reduce_task(kernel: str, *parts: bytes) -> bytes:
    return get_kernel(kernel).reduce(parts)


# --- the idiomatic baseline -------------------------------------------------------------------


def parse_for_bag(line: str) -> dict[str, Any]:
    """One line as a record for a Dask bag: the key and value, or the rejection reason."""
    result = parse_line(line)
    if isinstance(result, Measurement):
        return {**{k: getattr(result, k) for k in KEY_COLUMNS}, "value": result.value, "reason": None}
    return {**dict.fromkeys(KEY_COLUMNS), "value": None, "reason": result or "blank"}
