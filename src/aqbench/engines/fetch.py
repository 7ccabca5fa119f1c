"""A reducer's partials, fetched as Lithops' own reducer fetches map results: concurrently.

Lithops' ``map_reduce`` hands its reducer the map futures and downloads their results with a
thread pool of ``THREADPOOL_SIZE = 64`` (``lithops/wait.py``; ``JobRunner._wait_futures`` in
``lithops/worker/jobrunner.py`` calls ``wait(..., download_results=True)``). Fetching 2000 partials
one after another would pay S3's first-byte latency 2000 times in a row; with 64 requests in
flight it pays it about 2000 / 64 times. Unlike Lithops, which waits for every result before the
reduce function starts, the partials here are handed to the merge as they arrive, and at most
``threads`` are fetched ahead of it: a reducer's memory does not grow with its fan-in.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait

FETCH_THREADS = 64
"""Lithops' ``THREADPOOL_SIZE`` (lithops/wait.py, the 3.8.0 this build runs)."""


def fetched(get: Callable[[str], bytes], keys: Iterable[str], threads: int = FETCH_THREADS) -> Iterator[bytes]:
    """Each key's bytes, in the order they arrive, with at most ``threads`` requests in flight
    (``threads`` <= 1: one after another, in key order). An error fetching one ends the iteration
    with that error; requests not yet started are cancelled."""
    keys = iter(keys)
    if threads <= 1:
        for key in keys:
            yield get(key)
        return
    pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="aqbench-fetch")
    try:
        pending: set[Future] = {pool.submit(get, key) for key in itertools.islice(keys, threads)}
        while pending:
            done, pending = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                data = future.result()
                for key in itertools.islice(keys, 1):  # one out, one in: the window stays full
                    pending.add(pool.submit(get, key))
                yield data
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
