"""Mergeable partial aggregates: per key (count, sum, max), plus the account of lines read.

Both daily jobs come from one partial: the average is sum / count, the maximum is max.
Merging is a group-by over concatenated partials with sum/sum/max, which is associative
and commutative, so any reduce layout — the study's single reducer, a tree, or R
hash-partitioned reducers — gives the same answer (up to floating-point order in sums).

Partials travel as Arrow IPC streams (compact, typed, zero-copy to read), with the
record counts in the schema metadata, so rejections are never lost on the way.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from aqbench.aggregates import SCHEMA, sort_aggregates
from aqbench.openaq import KEY_COLUMNS, RecordCounts

PARTIAL_SCHEMA = pa.schema([f for f in SCHEMA if f.name != "average"])
"""The aggregate schema without the average: a partial carries what the average is made of."""
COUNTS_KEY = b"aqbench.counts"


@dataclass
class Partial:
    """A partial aggregate and the lines it accounts for."""

    table: pa.Table
    counts: RecordCounts

    @classmethod
    def empty(cls) -> Partial:
        return cls(PARTIAL_SCHEMA.empty_table(), RecordCounts())

    def to_ipc(self) -> bytes:
        """Serialise as an Arrow IPC stream; the counts ride in the schema metadata."""
        table = self.table.replace_schema_metadata({COUNTS_KEY: json.dumps(self.counts.to_dict()).encode()})
        sink = pa.BufferOutputStream()
        with pa.ipc.new_stream(sink, table.schema) as writer:
            writer.write_table(table)
        return sink.getvalue().to_pybytes()

    @classmethod
    def from_ipc(cls, data: bytes) -> Partial:
        table = pa.ipc.open_stream(data).read_all()
        counts = RecordCounts.from_dict(json.loads(table.schema.metadata[COUNTS_KEY]))
        return cls(table.replace_schema_metadata(None), counts)


def group_values(keys_and_values: pa.Table, threads: bool = True) -> pa.Table:
    """Group a table of key columns plus ``value`` into the partial schema."""
    grouped = keys_and_values.group_by(list(KEY_COLUMNS), use_threads=threads).aggregate(
        [("value", "count"), ("value", "sum"), ("value", "max")]
    )
    return (
        grouped.rename_columns({"value_count": "count", "value_sum": "sum", "value_max": "max"})
        .select(PARTIAL_SCHEMA.names)
        .cast(PARTIAL_SCHEMA)
    )


def merge(partials: Iterable[Partial]) -> Partial:
    """Merge partials into one (associative, commutative)."""
    partials = list(partials)
    counts = RecordCounts()
    for p in partials:
        counts = counts.merge(p.counts)
    tables = [p.table for p in partials if p.table.num_rows]
    if not tables:
        return Partial(PARTIAL_SCHEMA.empty_table(), counts)
    combined = pa.concat_tables(tables)
    merged = combined.group_by(list(KEY_COLUMNS), use_threads=False).aggregate(
        [("count", "sum"), ("sum", "sum"), ("max", "max")]
    )
    merged = merged.rename_columns({"count_sum": "count", "sum_sum": "sum", "max_max": "max"})
    return Partial(merged.select(PARTIAL_SCHEMA.names).cast(PARTIAL_SCHEMA), counts)


def _value_hashes(column: pa.ChunkedArray | pa.Array) -> np.ndarray:
    """A stable 32-bit hash of each row's value, computed once per distinct value."""
    encoded = pc.dictionary_encode(column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column)
    distinct = np.array([zlib.crc32(repr(v).encode()) for v in encoded.dictionary.to_pylist()] + [0], dtype=np.uint64)
    missing = len(distinct) - 1  # nulls hash like an extra value
    return distinct[pc.fill_null(encoded.indices, missing).to_numpy(zero_copy_only=False)]


def partition_of(table: pa.Table, reducers: int) -> np.ndarray:
    """The reducer of each row: a stable hash of its key (the same in every process and run).

    Per-column hashes of the distinct values (a partial has a few hundred stations and
    days but thousands of rows) are mixed per row in numpy.
    """
    if reducers == 1 or table.num_rows == 0:
        return np.zeros(table.num_rows, dtype=np.int64)
    mixed = np.zeros(table.num_rows, dtype=np.uint64)
    for k in KEY_COLUMNS:
        mixed = (mixed * np.uint64(1_000_003) + _value_hashes(table.column(k))) % np.uint64(
            1 << 40
        )  # no overflow: < 2**60
    return (mixed % np.uint64(reducers)).astype(np.int64)


def split(partial: Partial, reducers: int) -> list[Partial]:
    """Split a map's partial into ``reducers`` parts by key hash.

    The record counts go with part 0 only, so that summing every part of every map counts
    each line once.
    """
    if reducers < 1:
        raise ValueError("reducers must be >= 1")
    which = partition_of(partial.table, reducers)
    parts = []
    for r in range(reducers):
        rows = partial.table.filter(pa.array(which == r))
        parts.append(Partial(rows, partial.counts if r == 0 else RecordCounts()))
    return parts


def finalize(partial: Partial) -> pa.Table:
    """The aggregate table (with the average) of a fully merged partial."""
    t = partial.table
    average = pc.divide(t.column("sum"), pc.cast(t.column("count"), pa.float64()))
    return sort_aggregates(t.append_column("average", average))
