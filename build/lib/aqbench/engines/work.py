"""The work inside a map call or task, written once for every engine: read, map, pre-merge.

Lithops' map calls and Dask's map tasks both call :func:`map_objects`; they differ only
in how they read an object and what they do between objects (fault injection).
"""

from __future__ import annotations

from collections.abc import Callable

from aqbench.kernels import get_kernel


def map_objects(
    read: Callable[[str], bytes | bytearray],
    keys: list[str],
    kernel: str,
    reducers: int,
    threads: bool,
    after_each: Callable[[], None] | None = None,
) -> tuple[list[bytes], int]:
    """Map each object; return one partial per reducer (merged across the objects) and bytes read.

    Objects are read one at a time and dropped after their map, so a call holds one object
    and the partials, whatever its number of objects.
    """
    k = get_kernel(kernel)
    parts: list[list[bytes]] = [[] for _ in range(reducers)]
    bytes_read = 0
    for key in keys:
        body = read(key)
        bytes_read += len(body)
        for r, part in enumerate(k.map(body, key, reducers, threads)):
            parts[r].append(part)
        del body
        if after_each is not None:
            after_each()
    return [group[0] if len(group) == 1 else k.reduce(group) for group in parts], bytes_read
