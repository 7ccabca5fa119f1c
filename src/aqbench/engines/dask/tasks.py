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
    timings: dict[str, float] = {}
    merged, read = map_objects(
        lambda key: store.get(key, expect[key]), keys, kernel, reducers, False, kill_once, timings
    )
    return merged, {
        **{f"time_{phase}": seconds for phase, seconds in timings.items()},
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


def loads_or_none(line: str) -> dict[str, Any] | None:
    """``json.loads`` as a Dask user guards it when a few lines are malformed: a line it cannot
    read is dropped (None), not counted or classified — the user's code, not the specification."""
    import json

    try:
        record = json.loads(line)
    except ValueError:
        return None
    return record if isinstance(record, dict) else None


def flatten(record: dict[str, Any]) -> dict[str, Any]:
    """The nested fields the aggregation needs, as a Dask user extracts them from a record."""
    date = record.get("date") or {}
    coordinates = record.get("coordinates") or {}
    return {
        "country": record.get("country"),
        "city": record.get("city") or "",
        "latitude": coordinates.get("latitude") if isinstance(coordinates, dict) else None,
        "longitude": coordinates.get("longitude") if isinstance(coordinates, dict) else None,
        "day": str(date.get("utc", ""))[:10] if isinstance(date, dict) else "",
        "parameter": record.get("parameter"),
        "unit": record.get("unit"),
        "value": record.get("value"),
    }
