"""Aggregation kernels: the same daily average and maximum, computed by different code.

``reference`` (DuckDB, one query) is the independent oracle every run is checked against.
The map/reduce kernels below are what the engines run, all through one small interface,
so Lithops, Dask and the in-process runner differ only in how they schedule the calls:

- ``map(body, name, reducers, threads)``: one object's bytes → one serialised partial per
  reducer (``threads``: whether the call may use more than one core);
- ``reduce(parts)``: partials → one partial (associative, commutative: any layout works);
- ``finalize(part)``: the fully merged partial → the aggregate table and the line counts.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

import pyarrow as pa

from aqbench.errors import ConfigError
from aqbench.openaq import RecordCounts

MULTI_THREADED = ("arrow", "ndjson")
"""Kernels whose map uses several cores where a call has them (Arrow's reader); the others are
single-threaded pandas (seed, study)."""

MERGE_BATCH = 64
"""Partials merged at a time: bounds a reducer's memory whatever its fan-in."""


class Kernel(Protocol):
    name: str

    def map(self, body: bytes, name: str, reducers: int, threads: bool = True) -> list[bytes]: ...

    def reduce(self, parts: Iterable[bytes]) -> bytes: ...

    def finalize(self, part: bytes) -> tuple[pa.Table, RecordCounts]: ...


class ArrowKernel:
    """Arrow JSON parse of the needed fields, vectorised rules, Arrow IPC partials."""

    name = "arrow"

    def map(self, body: bytes, name: str, reducers: int, threads: bool = True) -> list[bytes]:
        from aqbench.kernels import arrow, partial

        result = arrow.map_object(body, compressed=name.endswith(".gz"), threads=threads)
        return [p.to_ipc() for p in partial.split(result, reducers)]

    def reduce(self, parts: Iterable[bytes]) -> bytes:
        from aqbench.kernels.partial import Partial, merge

        merged: Partial | None = None
        batch: list[Partial] = []
        for data in parts:
            batch.append(Partial.from_ipc(data))
            if len(batch) == MERGE_BATCH:
                merged = merge([merged, *batch] if merged else batch)
                batch = []
        if batch or merged is None:
            merged = merge([merged, *batch] if merged else batch)
        return merged.to_ipc()

    def finalize(self, part: bytes) -> tuple[pa.Table, RecordCounts]:
        from aqbench.kernels.partial import Partial, finalize

        merged = Partial.from_ipc(part)
        return finalize(merged), merged.counts


class NdjsonKernel(ArrowKernel):
    """DuckDB's JSON reader with the rules in SQL (:mod:`aqbench.kernels.ndjson`), Arrow IPC partials
    (the arrow kernel's reduce and finalize)."""

    name = "ndjson"

    def map(self, body: bytes, name: str, reducers: int, threads: bool = True) -> list[bytes]:
        from aqbench.kernels import ndjson, partial

        result = ndjson.map_object(body, compressed=name.endswith(".gz"), threads=threads)
        return [p.to_ipc() for p in partial.split(result, reducers)]


class SeedKernel:
    """The original study's pandas code (with its bugs fixed), JSON partials."""

    name = "seed"

    def map(self, body: bytes, name: str, reducers: int, threads: bool = True) -> list[bytes]:
        from aqbench.kernels import seed  # pandas: one core whatever ``threads`` says

        return [p.encode() for p in seed.map_object(body, reducers, compressed=name.endswith(".gz"))]

    def reduce(self, parts: Iterable[bytes]) -> bytes:
        from aqbench.kernels import seed

        return seed.reduce_partials([p.decode() for p in parts]).encode()

    def finalize(self, part: bytes) -> tuple[pa.Table, RecordCounts]:
        from aqbench.kernels import seed

        return seed.finalize(part.decode())


class StudyKernel:
    """The study's own code, bugs kept, on its own object layout (whole JSON documents): measured,
    compared with the reference by cause, never used for a result (:mod:`aqbench.kernels.study`)."""

    name = "study"

    def _code(self):
        from aqbench.kernels.study import StudyKernel as Code  # pandas, on first use

        return Code()

    def map(self, body: bytes, name: str, reducers: int, threads: bool = True) -> list[bytes]:
        return self._code().map(body, name, reducers, threads)

    def reduce(self, parts: Iterable[bytes]) -> bytes:
        return self._code().reduce(parts)

    def finalize(self, part: bytes) -> tuple[pa.Table, RecordCounts]:
        return self._code().finalize(part)


KERNELS: dict[str, Kernel] = {
    "arrow": ArrowKernel(),
    "ndjson": NdjsonKernel(),
    "seed": SeedKernel(),
    "study": StudyKernel(),
}
VERIFIED = ("arrow", "ndjson", "seed")
"""Kernels whose runs must equal the reference; the study's is compared by cause instead."""


def get_kernel(name: str) -> Kernel:
    try:
        return KERNELS[name]
    except KeyError:
        raise ConfigError(f"unknown kernel {name!r}: choose one of {', '.join(KERNELS)}") from None


def run_in_process(
    kernel: Kernel, objects: Iterable[tuple[str, bytes]], reducers: int = 1
) -> tuple[pa.Table, RecordCounts]:
    """Map every object, reduce each of the ``reducers`` partitions, merge and finalize."""
    if reducers < 1:
        raise ConfigError(f"reducers must be at least 1, got {reducers}")
    partitions: list[list[bytes]] = [[] for _ in range(reducers)]
    for name, body in objects:
        for r, part in enumerate(kernel.map(body, name, reducers)):
            partitions[r].append(part)
    reduced = [kernel.reduce(parts) for parts in partitions]
    return kernel.finalize(kernel.reduce(reduced))


def warm_up() -> None:
    """Load the kernel's libraries in a process, as a Dask worker or a Lambda environment that has
    run anything has.

    A worker's first map otherwise pays its imports and Arrow's lazy initialisation (about
    half a second); a Dask cluster is long-lived, so that is start-up, not query time, and an
    emulated Lambda environment pays it in its INIT. Lithops calls on a process each pay theirs
    in every cold start, which the per-call rows show.
    """
    get_kernel("arrow").map(
        b'{"date":{"utc":"2018-01-01T00:00:00Z"},"parameter":"pm10","value":1,"unit":"x","country":"PL"}\n',
        "warm.ndjson",
        1,
        threads=False,
    )
