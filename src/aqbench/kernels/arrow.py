"""The fast kernel: Arrow's JSON reader on only the needed fields, the rules vectorised.

Why it is shaped like this: Arrow's reader is strict — one malformed line fails a whole
block — and real fetches hold a few malformed lines per object. So a cheap byte-level
screen first sets aside every line that cannot be a clean record (it does not start with
``{`` or end with ``}``: truncated writes, blank lines, garbage); those few lines are
judged one by one by :func:`aqbench.openaq.parse_line`, the rules' specification, with
the lines long enough to nest deeper than it allows. The
rest is parsed in one vectorised pass. If Arrow still refuses something (a wrong type,
a repeated key, invalid UTF-8), the parse is retried in chunks and only the refused
chunks go line by line. Every line is thus either aggregated or rejected with its reason.

One module (longer than most here) because the screen, the parse in pieces, the recovery of
refused lines and the vectorised rules share one invariant about the object's buffer: line
boundaries and in-place blanking must agree exactly, and splitting them apart would hide it.
"""

from __future__ import annotations

import itertools
import logging
import re
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as pajson

from aqbench.kernels.partial import PARTIAL_SCHEMA, Partial, group_values
from aqbench.kernels.screen import (
    blank,
    invalid_utf8_lines,
    line_starts,
    long_lines,
    plain_lines,
    pool,
    suspicious_lines,
)
from aqbench.openaq import KEY_COLUMNS, REJECT_REASONS, UTC_TIMESTAMP, Measurement, RecordCounts, parse_line

log = logging.getLogger(__name__)

FIELDS = pa.schema(
    [
        ("date", pa.struct([("utc", pa.string())])),
        ("parameter", pa.string()),
        ("value", pa.float64()),
        ("unit", pa.string()),
        ("city", pa.string()),
        ("country", pa.string()),
        ("coordinates", pa.struct([("latitude", pa.float64()), ("longitude", pa.float64())])),
    ]
)
PARSE = pajson.ParseOptions(explicit_schema=FIELDS, unexpected_field_behavior="ignore")
UTC_REGEX = "^" + UTC_TIMESTAMP.pattern + "$"
CHUNK_LINES = 2048

# Order matters: a line gets the first reason that applies, as in the specification.
VECTOR_REASONS = (
    "bad_date",
    "missing_country",
    "missing_parameter",
    "missing_unit",
    "missing_value",
    "value_not_finite",
    "value_negative",
)
assert set(VECTOR_REASONS) <= set(REJECT_REASONS)


PIECE_BYTES = 4 << 20
"""Bytes parsed per Arrow call, one piece per thread: small enough that a refused line costs
one re-parse of its piece, large enough that Arrow's ~1.5 ms fixed cost per call stays small."""
ROW_IN_ERROR = re.compile(r"in row (\d+)")
BLOCK_SIZE = 2 << 20
"""Arrow's JSON block: the fastest here (1-8 MB measured)."""


def use_system_allocator() -> None:
    """Make Arrow allocate with malloc in this (worker) process.

    jemalloc's arenas kept about 40 MB more resident per map call than malloc (measured by
    ``aqbench bench kernels``), which matters in a 1 GB Lambda; malloc was not slower.
    """
    if pa.default_memory_pool().backend_name != "system":
        pa.set_memory_pool(pa.system_memory_pool())


def read_fields(data: bytes | bytearray, threads: bool = True) -> pa.Table:
    """Arrow's JSON reader on the needed fields only (strict: raises on any malformed line)."""
    return pajson.read_json(
        pa.BufferReader(pa.py_buffer(data)),
        parse_options=PARSE,
        read_options=pajson.ReadOptions(use_threads=threads, block_size=BLOCK_SIZE),
    )


def _blank_false(arr: pa.ChunkedArray | pa.Array) -> np.ndarray:
    return pc.fill_null(arr, False).to_numpy(zero_copy_only=False)


def _missing_text(arr: pa.ChunkedArray) -> np.ndarray:
    return pc.fill_null(pc.equal(arr, ""), True).to_numpy(zero_copy_only=False)


def _valid_dates(utc: pa.ChunkedArray) -> tuple[np.ndarray, pa.ChunkedArray]:
    """Which timestamps are valid UTC, and their days; computed once per distinct timestamp.

    An object holds a few dozen distinct hours across tens of thousands of lines, so the
    regular expression and the calendar check run on the dictionary, not on every line.
    """
    encoded = pc.dictionary_encode(utc.combine_chunks() if isinstance(utc, pa.ChunkedArray) else utc)
    stamps = encoded.dictionary
    shaped = _blank_false(pc.match_substring_regex(stamps, UTC_REGEX))
    head = pc.utf8_slice_codeunits(stamps, 0, 19)
    parsed = pc.strptime(head, format="%Y-%m-%dT%H:%M:%S", unit="s", error_is_null=True)
    # Arrow's strptime rolls impossible dates over (Feb 30 → Mar 2): a real date reads back unchanged;
    # it has a year 0, which the specification's calendar (Python's) does not
    calendar = _blank_false(pc.equal(pc.strftime(parsed, format="%Y-%m-%dT%H:%M:%S"), head))
    calendar &= ~_blank_false(pc.starts_with(stamps, "0000"))
    valid_stamp = shaped & calendar
    indices = encoded.indices
    valid = np.zeros(len(indices), dtype=bool)
    present = pc.is_valid(indices).to_numpy(zero_copy_only=False)
    idx = pc.fill_null(indices, 0).to_numpy(zero_copy_only=False)
    if len(stamps):
        valid = present & valid_stamp[idx]
    days = pc.utf8_slice_codeunits(stamps, 0, 10)
    return valid, days.take(indices)


def _classify(table: pa.Table, counts: RecordCounts) -> pa.Table:
    """Apply the rules to parsed rows: count rejections, return every row's key and value.

    A rejected row keeps its place with a null value rather than being filtered out:
    the group-by ignores nulls (a group of only rejected rows has count 0 and is dropped
    later), and filtering seven string columns cost more than the whole rule check.
    """
    valid_date, day = _valid_dates(pc.struct_field(table.column("date"), "utc"))
    value = table.column("value")
    value_np = pc.fill_null(value, 0.0).to_numpy(zero_copy_only=False)
    masks = [
        ~valid_date,
        _missing_text(table.column("country")),
        _missing_text(table.column("parameter")),
        _missing_text(table.column("unit")),
        _blank_false(pc.is_null(value)),
        ~np.isfinite(value_np),
        value_np < 0,
    ]
    rejected = np.zeros(table.num_rows, dtype=bool)
    for reason, mask in zip(VECTOR_REASONS, masks, strict=True):
        hit = mask & ~rejected
        counts.reject(reason, int(hit.sum()))
        rejected |= hit
    counts.records_valid += int(table.num_rows - rejected.sum())
    coords = table.column("coordinates")
    lat, lon = pc.struct_field(coords, "latitude"), pc.struct_field(coords, "longitude")
    null = pa.scalar(None, pa.float64())
    return pa.table(
        {
            "country": table.column("country"),
            "city": pc.fill_null(table.column("city"), ""),
            "latitude": _degree(lat),
            "longitude": _degree(lon),
            "day": day,
            "parameter": table.column("parameter"),
            "unit": table.column("unit"),
            "value": pc.if_else(pa.array(rejected), null, value),
        }
    )


def _degree(column: pa.ChunkedArray) -> pa.ChunkedArray:
    """Finite degrees, null otherwise; + 0.0 makes -0.0 the 0.0 it equals (one group, as the specification)."""
    return pc.add(pc.if_else(pc.fill_null(pc.is_finite(column), False), column, pa.scalar(None, pa.float64())), 0.0)


def measurements_table(found: list[Measurement]) -> pa.Table:
    """Kept lines as a table of key columns plus ``value``, ready for :func:`group_values`."""
    columns = {k: [getattr(m, k) for m in found] for k in (*KEY_COLUMNS, "value")}
    types = {f.name: f.type for f in PARTIAL_SCHEMA} | {"value": pa.float64()}
    return pa.table({k: pa.array(v, type=types[k]) for k, v in columns.items()})


def judge_lines(lines: list[bytes], counts: RecordCounts, found: list[Measurement]) -> None:
    """The specification, line by line: count each line kept or rejected, collect the kept ones."""
    for line in lines:
        result = parse_line(line)
        if isinstance(result, Measurement):
            counts.records_valid += 1
            found.append(result)
        elif result is not None:
            counts.reject(result)


def _pieces(size: int, nl: np.ndarray) -> list[tuple[int, int]]:
    """Byte ranges of about PIECE_BYTES, cut just after a newline."""
    targets = np.arange(PIECE_BYTES, size, PIECE_BYTES)
    at = np.searchsorted(nl, targets)
    cuts = sorted({int(nl[i]) + 1 for i in at if i < len(nl)} - {0, size})
    bounds = [0, *cuts, size]
    return list(itertools.pairwise(bounds))


@dataclass
class _Piece:
    """One piece's parsed rows and the account of its lines (each piece parses on its own thread)."""

    tables: list[pa.Table] = field(default_factory=list)
    counts: RecordCounts = field(default_factory=RecordCounts)
    found: list[Measurement] = field(default_factory=list)


def _row_span(buf: np.ndarray, newlines: np.ndarray, row: int) -> tuple[int, int] | None:
    """Byte span of the ``row``-th line Arrow counted in ``buf``."""
    counted = line_starts(buf, newlines)
    if row >= len(counted):
        return None
    start = int(counted[row])
    after = np.searchsorted(newlines, start)
    return start, int(newlines[after]) if after < len(newlines) else len(buf)


def _parse_piece(body: bytes | bytearray, first: int, last: int, newlines: np.ndarray) -> _Piece:
    """Parse ``body[first:last]``; a line Arrow refuses is judged alone and blanked, then the piece again.

    The piece is one Arrow block, so the row in Arrow's error is the piece's n-th non-blank
    line: a refused line costs one re-parse of its piece, not a line-by-line pass. If the
    error names no row, or the named line parses alone, or Arrow returns more rows than the
    piece has lines (``{...}{...}`` on one line is one malformed line, not two records),
    the piece goes the slow way, in chunks. ``newlines``: the piece's newline offsets.
    """
    out = _Piece()
    view = memoryview(body)[first:last]
    options = pajson.ReadOptions(use_threads=False, block_size=max(BLOCK_SIZE, last - first + 1))
    while True:
        buf = np.frombuffer(view, dtype=np.uint8)
        try:
            table = pajson.read_json(pa.BufferReader(pa.py_buffer(view)), parse_options=PARSE, read_options=options)
        except pa.ArrowInvalid as exc:
            refused = ROW_IN_ERROR.search(str(exc))
            span = _row_span(buf, newlines, int(refused.group(1))) if refused else None
            if span is None or _parses(bytes(view[span[0] : span[1]])):
                _in_chunks(bytes(view), out)
                return out
            judge_lines([bytes(view[span[0] : span[1]])], out.counts, out.found)
            if view.readonly:
                view = memoryview(bytearray(view))
            view[span[0] : span[1]] = b" " * (span[1] - span[0])
            continue
        if table.num_rows != len(line_starts(buf, newlines)):
            _in_chunks(bytes(view), out)
        else:
            out.tables.append(_classify(table, out.counts))
        return out


def _parses(line: bytes) -> bool:
    try:
        read_fields(line + b"\n", threads=False)
    except pa.ArrowInvalid:
        return False
    return True


def _in_chunks(data: bytes, out: _Piece) -> None:
    """The slow path: lines in chunks, and chunks Arrow refuses (or reads as more rows) line by line."""
    log.debug("Arrow refused part of the object; retrying in chunks of %d lines", CHUNK_LINES)
    lines = [ln for ln in data.split(b"\n") if ln.strip()]
    for first in range(0, len(lines), CHUNK_LINES):
        chunk = lines[first : first + CHUNK_LINES]
        try:
            table = read_fields(b"\n".join(chunk) + b"\n", threads=False)
        except pa.ArrowInvalid:
            table = None
        if table is not None and table.num_rows == len(chunk):
            out.tables.append(_classify(table, out.counts))
        else:
            judge_lines(chunk, out.counts, out.found)


def map_object(body: bytes | bytearray, compressed: bool = False, threads: bool = True) -> Partial:
    """One object's lines → a partial aggregate with the account of every line.

    A ``bytearray`` body is used as scratch space (its malformed lines are blanked).
    The object is parsed in pieces of about PIECE_BYTES, on every core when ``threads``.
    """
    use_system_allocator()
    body = plain_lines(body, compressed)
    counts = RecordCounts()
    found: list[Measurement] = []
    suspicious, nl = suspicious_lines(body, threads)
    for_the_spec = invalid_utf8_lines(body, nl) + long_lines(nl, len(body))  # long: may nest too deep
    if for_the_spec:
        suspicious = sorted(set(suspicious) | set(for_the_spec))
    judge_lines([bytes(body[a:b]) for a, b in suspicious], counts, found)
    good = blank(body, suspicious)

    def parse(piece: tuple[int, int]) -> _Piece:
        first, last = piece
        within = nl[np.searchsorted(nl, first) : np.searchsorted(nl, last)] - first
        return _parse_piece(good, first, last, within)

    ranges = _pieces(len(good), nl)
    pieces = list(pool().map(parse, ranges)) if threads and len(ranges) > 1 else [parse(r) for r in ranges]
    tables: list[pa.Table] = []
    for piece in pieces:
        tables += piece.tables
        counts = counts.merge(piece.counts)
        found += piece.found
    if found:
        tables.append(measurements_table(found))
    if not tables:
        return Partial(PARTIAL_SCHEMA.empty_table(), counts)
    rows = pa.concat_tables([t.cast(tables[0].schema) for t in tables])
    grouped = group_values(rows, threads)
    return Partial(grouped.filter(pc.greater(grouped.column("count"), 0)), counts)
