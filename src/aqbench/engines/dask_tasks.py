"""What Dask workers run: reading staged objects and the shared kernel (the same code Lithops runs)."""

from __future__ import annotations

import functools
import json
import os
import signal
import time
from typing import Any

from aqbench.kernels import get_kernel
from aqbench.openaq import KEY_COLUMNS, Measurement, parse_line


@functools.lru_cache(maxsize=4)
def _store(spec: str) -> Any:
    from aqbench.storage import open_store

    kind, bucket, settings = json.loads(spec)
    return open_store(kind, bucket, settings)


def _rss_mb() -> float:
    with open("/proc/self/status") as fh:
        return next(int(ln.split()[1]) for ln in fh if ln.startswith("VmRSS:")) / 1024


def map_task(
    spec: str, keys: list[str], kernel: str, reducers: int, kill_marker: str | None = None
) -> tuple[list[bytes], dict[str, Any]]:
    """Map some objects with the kernel; return the reducers' partials and what the task did.

    ``kill_marker`` (fault injection): unless that file exists, create it and SIGKILL this
    worker process after the first object — a worker lost mid-task, once.
    """
    started = time.time()
    k = get_kernel(kernel)
    parts: list[list[bytes]] = [[] for _ in range(reducers)]
    read = 0
    for key in keys:
        body = _store(spec).get(key)
        read += len(body)
        # one task per worker thread: the cluster's own parallelism, so the kernel stays on one core
        for r, part in enumerate(k.map(body, key, reducers, threads=False)):
            parts[r].append(part)
        if kill_marker and not os.path.exists(kill_marker):
            open(kill_marker, "w").close()
            os.kill(os.getpid(), signal.SIGKILL)
    merged = [group[0] if len(group) == 1 else k.reduce(group) for group in parts]
    return merged, {
        "t_start": started,
        "t_end": time.time(),
        "bytes_read": read,
        "objects": len(keys),
        "bytes_written": sum(len(p) for p in merged),
        "rss_mb": _rss_mb(),
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
