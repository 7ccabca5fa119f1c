"""A reducer's partials, fetched as Lithops' own reducer fetches map results: concurrently.

Lithops' ``map_reduce`` hands its reducer the map futures and downloads their results with a
thread pool of ``THREADPOOL_SIZE = 64`` (``lithops/wait.py``; ``JobRunner._wait_futures`` in
``lithops/worker/jobrunner.py`` calls ``wait(..., download_results=True)``). Fetching 2000 partials
one after another would pay S3's first-byte latency 2000 times in a row; with 64 requests in
flight it pays it about 2000 / 64 times. Unlike Lithops, which waits for every result before the
reduce function starts, the partials here are handed to the merge as they arrive, and at most
``threads`` of them are fetched ahead of it. What the merge itself keeps is the kernel's: the
arrow kernel's merged groups (which grow with the distinct keys, not with the fan-in); the seed
and study kernels hold every partial, as the study's reducer did.

The fetching threads are daemons: a reducer stopped by its timeout (an alarm in the main
thread) ends without waiting for requests still in flight.
"""

from __future__ import annotations

import itertools
import queue
import threading
from collections.abc import Callable, Iterable, Iterator

FETCH_THREADS = 64
"""Lithops' ``THREADPOOL_SIZE`` (lithops/wait.py, the 3.8.0 this build runs)."""

_STOP = object()


def fetched(get: Callable[[str], bytes], keys: Iterable[str], threads: int = FETCH_THREADS) -> Iterator[bytes]:
    """Each key's bytes, in the order they arrive, with at most ``threads`` requests in flight
    (``threads`` <= 1: one after another, in key order). An error fetching one ends the iteration
    with that error."""
    keys = iter(keys)
    if threads <= 1:
        for key in keys:
            yield get(key)
        return
    todo: queue.SimpleQueue = queue.SimpleQueue()
    done: queue.SimpleQueue = queue.SimpleQueue()

    def worker() -> None:
        while (key := todo.get()) is not _STOP:
            try:
                done.put((get(key), None))
            except BaseException as exc:  # handed to the merge, which raises it
                done.put((None, exc))

    pending = 0
    for key in itertools.islice(keys, threads):
        todo.put(key)
        pending += 1
    workers = [threading.Thread(target=worker, name="aqbench-fetch", daemon=True) for _ in range(min(threads, pending))]
    for t in workers:
        t.start()
    try:
        while pending:
            data, error = done.get()
            pending -= 1
            if error is not None:
                raise error
            for key in itertools.islice(keys, 1):  # one out, one in: the window stays full
                todo.put(key)
                pending += 1
            yield data
    finally:
        for _ in workers:
            todo.put(_STOP)
