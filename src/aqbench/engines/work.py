"""The work inside a map call or task, written once for every engine: read, map, pre-merge.

Lithops' map calls and Dask's map tasks both call :func:`map_objects`; they differ only
in how they read an object and what they do between objects (fault injection).
"""

from __future__ import annotations

import time
from collections.abc import Callable

from aqbench.kernels import get_kernel

PHASES = ("read_s", "parse_s", "partials_s")
"""Where a map's time goes, as :func:`map_objects` accounts it: the GETs, the kernel's map of each
object (parse and group-by), and the merge of the objects' partials (a call adds its writes)."""


def map_objects(
    read: Callable[[str], bytes | bytearray],
    keys: list[str],
    kernel: str,
    reducers: int,
    threads: bool,
    after_each: Callable[[], None] | None = None,
    timings: dict[str, float] | None = None,
) -> tuple[list[bytes], int]:
    """Map each object; return one partial per reducer (merged across the objects) and bytes read.

    Objects are read one at a time and dropped after their map, so a call holds one object
    and the partials, whatever its number of objects. ``timings`` (if given) gains the seconds
    of each of :data:`PHASES`, so the engines bench can say where an engine's time goes.
    """
    k = get_kernel(kernel)
    parts: list[list[bytes]] = [[] for _ in range(reducers)]
    bytes_read = 0
    spent = dict.fromkeys(PHASES, 0.0)
    for key in keys:
        t0 = time.perf_counter()
        body = read(key)
        t1 = time.perf_counter()
        bytes_read += len(body)
        for r, part in enumerate(k.map(body, key, reducers, threads)):
            parts[r].append(part)
        spent["read_s"] += t1 - t0
        spent["parse_s"] += time.perf_counter() - t1
        del body
        if after_each is not None:
            after_each()
    t0 = time.perf_counter()
    merged = [group[0] if len(group) == 1 else k.reduce(group) for group in parts]
    spent["partials_s"] += time.perf_counter() - t0
    if timings is not None:
        for phase, seconds in spent.items():
            timings[phase] = timings.get(phase, 0.0) + seconds
    return merged, bytes_read
