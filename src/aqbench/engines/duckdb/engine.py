"""The single machine many users would pick instead: one process, every core, one query.

Three kernels:

- ``duckdb``, exact: the reference's own query over every line (below).
- ``idiomatic`` on DuckDB: what a DuckDB user writes, ``read_ndjson`` with the columns it needs
  (``ignore_errors``) and a ``GROUP BY``, every core, reading the objects as files of an fsspec
  filesystem (``register_filesystem``) filled by the same GETs as the exact engine's (DuckDB's
  httpfs does not install offline: its wheel on PyPI is for DuckDB 1.5, this is 2.0).
- ``idiomatic`` on Polars (engine ``polars``): ``read_ndjson`` over each object's bytes, the same
  columns, ``ignore_errors``, and a ``group_by``.

The idiomatic ones skip what they cannot read without saying so, so their answers are not the
specification's: each run's answer is compared with the reference and its differences counted
(:func:`aqbench.aggregates.answer_differences`), the run is not failed for them, and their
aggregates are not kept. One that cannot read the data at all records the error (status
``unreadable``).

The exact kernel: the run's objects stream in from the store through a few threads of S3 GETs (each checked
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
import pyarrow.compute as pc

from aqbench import procstat
from aqbench.engines.faults import Faults
from aqbench.engines.runs import RunConfig, RunResult
from aqbench.inputs import FetchedObject
from aqbench.kernels.partial import PARTIAL_SCHEMA, Partial
from aqbench.openaq import KEY_COLUMNS, RecordCounts
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
        self.error: Exception | None = None
        """The first failed read (a checksum mismatch, a store error): it fails the run."""

    def _fill(self, upto: int) -> None:
        while self.next < min(len(self.keys), upto):
            key = self.keys[self.next]
            self.futures[self.next] = self.pool.submit(self.store.get, key, self.expected[key])
            self.next += 1

    def get(self, index: int) -> bytes:
        with self.lock:
            self._fill(index + self.window)
            future = self.futures.pop(index)
        try:
            return future.result()
        except Exception as exc:  # kept: a reader's callback may wrap it (DuckDB's fsspec bridge does)
            self.error = self.error or exc
            raise

    def sources(self) -> list[FetchedObject]:
        return [FetchedObject(key, lambda i=i: self.get(i)) for i, key in enumerate(self.keys)]

    def close(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)


IDIOMATIC_QUERY = """
SELECT country, coalesce(city, '') AS city, coordinates.latitude AS latitude,
       coordinates.longitude AS longitude, left(date.utc, 10) AS day, parameter, unit,
       count(*) AS count, sum(value) AS sum, max(value) AS max
FROM read_ndjson({files}, ignore_errors = true, columns = {{
    date: 'STRUCT(utc VARCHAR)', country: 'VARCHAR', city: 'VARCHAR',
    coordinates: 'STRUCT(latitude DOUBLE, longitude DOUBLE)', parameter: 'VARCHAR', unit: 'VARCHAR',
    value: 'DOUBLE'}})
WHERE value >= 0
GROUP BY ALL
"""
"""What a DuckDB user writes for the daily aggregates: the columns it needs, negative sentinels out."""


def _duckdb_idiomatic(prefetch: _Prefetch, threads: int) -> pa.Table:
    """The idiomatic query over the run's objects as DuckDB files (fsspec, ``register_filesystem``).

    Each file's bytes arrive by the same checked, prefetched GETs as the exact engine's (a few in
    flight), on its first stat or open. DuckDB stats every file when it binds the query, so the
    objects are all fetched, and held in memory, before the scan starts: the download is timed
    with the run, not overlapped with it. (DuckDB reading s3fs directly makes many small ranged
    reads through Python: 55 MB/s here, against 400 MB/s over bytes in memory.)"""
    import duckdb
    from fsspec.implementations.memory import MemoryFile, MemoryFileSystem

    index = {key: i for i, key in enumerate(prefetch.keys)}
    fetching = threading.Lock()  # DuckDB's threads may open one file at once: it is fetched once

    class Fetched(MemoryFileSystem):
        protocol = ("aqbench-fetched",)
        store: dict = {}  # noqa: RUF012 - fsspec's memory store is class state: one per run here
        pseudo_dirs = [""]  # noqa: RUF012

        @classmethod
        def _strip_protocol(cls, path):
            return "/" + str(path).split("://", 1)[-1].strip("/")

        def _ensure(self, path: str) -> None:
            name = self._strip_protocol(path)
            with fetching:
                if name not in self.store and name[1:] in index:
                    self.store[name] = MemoryFile(self, name, prefetch.get(index[name[1:]]))

        def info(self, path, **kwargs):
            self._ensure(path)
            return super().info(path, **kwargs)

        def _open(self, path, mode="rb", **kwargs):
            self._ensure(path)
            name = self._strip_protocol(path)
            if name in self.store and "r" in mode:  # its own file object (position) per open, the bytes shared
                return MemoryFile(None, name, self.store[name].getvalue())
            return super()._open(path, mode, **kwargs)

    con = duckdb.connect(config={"threads": threads})
    try:
        con.register_filesystem(Fetched(skip_instance_cache=True))
        files = [f"aqbench-fetched://{key}" for key in prefetch.keys]
        return con.sql(IDIOMATIC_QUERY.format(files=files)).to_arrow_table()
    finally:
        con.close()
        Fetched.store.clear()


def _polars_idiomatic(sources: list[FetchedObject]) -> pa.Table:
    """Polars over each object's bytes, on its own thread pool (every core: POLARS_MAX_THREADS is
    read once, when Polars is imported, so a run's ``workers`` cannot change it)."""
    import io

    import polars as pl

    schema = {
        "date": pl.Struct({"utc": pl.String}),
        "country": pl.String,
        "city": pl.String,
        "coordinates": pl.Struct({"latitude": pl.Float64, "longitude": pl.Float64}),
        "parameter": pl.String,
        "unit": pl.String,
        "value": pl.Float64,
    }
    frames = [pl.read_ndjson(io.BytesIO(s.fetch()), schema=schema, ignore_errors=True).lazy() for s in sources]
    grouped = (
        pl.concat(frames)
        .filter(pl.col("value") >= 0)
        .select(
            "country",
            pl.col("city").fill_null(""),
            pl.col("coordinates").struct.field("latitude"),
            pl.col("coordinates").struct.field("longitude"),
            pl.col("date").struct.field("utc").str.slice(0, 10).alias("day"),
            "parameter",
            "unit",
            "value",
        )
        .group_by(list(KEY_COLUMNS))
        .agg(pl.len().alias("count"), pl.col("value").sum().alias("sum"), pl.col("value").max().alias("max"))
        .collect()
    )
    return grouped.to_arrow()


def _reader_error(exc: Exception) -> bool:
    """An error of the reader itself (DuckDB's or Polars'), not of the store or the machine."""
    import duckdb
    import polars

    return isinstance(exc, duckdb.Error | polars.exceptions.PolarsError)


ENGINE_OF_KERNEL = {"duckdb": "duckdb", "idiomatic": "duckdb", "polars": "polars"}
"""The engine a kernel of this module runs on (``polars`` is Polars' idiomatic query)."""

EXACT_KERNELS = ("duckdb",)
"""The kernels here whose answers follow the specification (and are checked against the reference)."""


class DuckDBEngine:
    """One process on this machine; ``workers`` in the grid is its threads (0: every core).

    ``kernel``: ``duckdb`` (exact), ``idiomatic`` (DuckDB as a user writes it) or ``polars``."""

    name = "duckdb"

    def __init__(self, store: Store, expected: dict[str, Expected]):
        self.store, self.expected = store, expected

    def emulates(self, cfg: RunConfig) -> bool:
        return False

    def provenance(self) -> dict[str, Any]:
        import duckdb
        import polars

        return {"duckdb": duckdb.__version__, "polars": polars.__version__, "fetch_threads": FETCH_THREADS}

    def close(self) -> None:
        pass

    def execute(self, run: RunResult, chunks: list[list[str]], faults: Faults) -> list[bytes] | None:
        from aqbench.kernels.reference import aggregate_files

        keys = [k for chunk in chunks for k in chunk]
        threads = run.config.workers or os.cpu_count() or 1
        kernel = run.config.kernel if run.config.kernel in ENGINE_OF_KERNEL else "duckdb"  # unset: the exact query
        run.engine, run.exact = ENGINE_OF_KERNEL[kernel], kernel in EXACT_KERNELS
        prefetch = _Prefetch(self.store, keys, self.expected, FETCH_THREADS)
        procstat.reset_peak()
        cpu0, t_start = os.times(), time.time()
        run.started = time.perf_counter()
        try:
            if kernel == "duckdb":
                result = aggregate_files(prefetch.sources(), threads=threads)
                table, counts = result.aggregates.drop_columns(["average"]), result.counts
            else:
                if kernel == "idiomatic":
                    table = _duckdb_idiomatic(prefetch, threads)
                else:
                    import polars

                    threads = polars.thread_pool_size()
                    table = _polars_idiomatic(prefetch.sources())
                counts = RecordCounts(records_valid=int(pc.sum(table.column("count")).as_py() or 0))
        except Exception as exc:
            run.wall_s = time.perf_counter() - run.started
            failed = prefetch.error or exc
            if isinstance(failed, ChecksumMismatch):  # a damaged object: the run fails, naming it
                run.status, run.note = "failed", str(failed)
                return None
            if kernel in EXACT_KERNELS or prefetch.error is not None or not _reader_error(exc):
                raise
            # an idiomatic reader that cannot read the data: that is its result, recorded
            run.status, run.note = "unreadable", f"{type(exc).__name__}: {exc}"[:300]
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
                cpu_usage=(cpu_user + cpu_system) / max(1e-9, t_end - t_start),  # in cores, as every engine's
                peak_rss_mb=procstat.peak_rss_mb(),
                objects=len(keys),
                bytes_read=run.bytes,
                bytes_written=0,
            )
        )
        table = table.select(PARTIAL_SCHEMA.names)
        return [Partial(pa.Table.from_batches(table.to_batches(), table.schema).cast(PARTIAL_SCHEMA),
                        counts).to_ipc()]  # fmt: skip
