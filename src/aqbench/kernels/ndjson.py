"""The exact kernel on DuckDB's JSON reader: ``read_ndjson`` over the object, the rules in SQL.

Why it is shaped like this. DuckDB's reader (yyjson), read as a user would write it (typed
columns, ``ignore_errors``), is the fastest reader of this data here, but departs from the
specification (:mod:`aqbench.openaq`) in three ways, and each is closed here:

1. *Types are coerced*: a string ``"12"`` or ``true`` read as a number becomes one, and a
   number, boolean or object read as text becomes its JSON text (``5``, ``true``, ``{"a":1}``).
   So the value and the degrees are read as DuckDB's ``JSON`` type (their text), and the rules
   test the value's JSON type by its first character; the degrees are decoded once per distinct
   text after the group-by. The text keys are read typed, at full speed: a key whose text may
   come from a non-string (:data:`NOT_TEXT`) is rare, and is found after the group-by.
2. *A line it cannot read becomes a row of nulls* (with ``ignore_errors``), which looks like
   ``{}``. Such rows are counted by the fast query (:data:`FAST`).
3. *yyjson is lenient*: it accepts trailing commas and ``nan``/``inf`` in any case anywhere in a
   line, even in fields never read. A byte screen (:func:`lenient_lines`) sets those lines aside
   first, with the lines that do not look like one object (:func:`screen.suspicious_lines`) and
   lines long enough to nest deeper than the specification allows (:func:`screen.long_lines`).

Only if the fast query met a row of nulls or a key that was not text is the object read again
with ordinals (:data:`REFERRING`), and those lines are judged by :func:`aqbench.openaq.parse_line`
like the set-aside ones, so every line is aggregated or rejected with its reason, as in the arrow
kernel. The partial is the arrow kernel's (:class:`aqbench.kernels.partial.Partial`), so reducers
and engines are unchanged. What exactness costs beside the idiomatic query, and why no exact
kernel here comes near its rate, is measured by ``aqbench bench kernels`` (``exact_query_*``).
The reference (:mod:`aqbench.kernels.reference`) also runs on DuckDB, through its JSON functions
on each line rather than this reader; the fuzz test's oracle is the plain-Python specification.
"""

from __future__ import annotations

import json
import os
import tempfile
import threading
from datetime import date

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from aqbench.kernels.arrow import judge_lines, measurements_table, use_system_allocator
from aqbench.kernels.partial import PARTIAL_SCHEMA, Partial, group_values, merge
from aqbench.kernels.screen import blank, line_starts, long_lines, plain_lines, spans_of, suspicious_lines
from aqbench.openaq import REJECT_REASONS, Measurement, RecordCounts, coordinate

COLUMNS = (
    "{date: 'STRUCT(utc VARCHAR)', country: 'VARCHAR', city: 'VARCHAR', "
    "coordinates: 'STRUCT(latitude JSON, longitude JSON)', parameter: 'VARCHAR', unit: 'VARCHAR', value: 'JSON'}"
)
"""Typed text columns, which DuckDB reads at full speed; the value and the degrees as JSON text,
so that a string ``"12"`` is not read as the number 12 (the rules test the value's first
character; the degrees are decoded once per distinct text after the group-by). A number or an
object read into a text column becomes its JSON text (``5``, ``true``, ``{"a":1}``): such
keys are found after the group-by (:data:`NOT_TEXT`) and their lines judged by the specification."""

TIME_OF_DAY = r"^\d{4}-\d{2}-\d{2}T([01]\d|2[0-3]):[0-5]\d:[0-5]\d(\.\d{1,9})?(Z|\+00:00)$"
"""A timestamp's shape with the time of day in range; the calendar date is checked per distinct
day after the group-by (:func:`_real_day`). No non-string's text (``5``, ``{...}``) has it."""

TEXT_KEYS = ("country", "city", "parameter", "unit")
NOT_TEXT = r"^(-?[0-9]|true$|false$|[\[{])"
"""What DuckDB's text of a JSON number, boolean, array or object starts with; a real string may
too (a city named ``1 Maja``), and is then judged by the specification like the rest."""

REASON_CODES = dict(enumerate(REJECT_REASONS, start=1))
REFERRED = -1
"""The reason code of lines the query sends to the specification (unreadable, or a key not text)."""

FIELDS = ("date", "country", "city", "coordinates", "parameter", "unit", "value")
_ALL_NULL = " AND ".join(f"{c} IS NULL" for c in FIELDS)


def _missing(column: str) -> str:
    return f"({column} IS NULL OR {column} = '')"


def _query(refer: str, with_rows: bool) -> str:
    """The rules as one CASE per line, then the group-by; ``refer``: lines sent to the specification.

    Keys stay on rejected lines from ``missing_country`` on (real data has few), so that a key
    that was not text is seen after the group-by whatever reason its line got.
    """
    source = f"read_ndjson(?, columns = {COLUMNS}, ignore_errors = true)"
    return f"""
WITH r AS (
    SELECT {"ordinality AS row, " if with_rows else ""}date.utc AS utc, country, city, coordinates.latitude AS lat,
           coordinates.longitude AS lon, parameter, unit, value, TRY_CAST(value::VARCHAR AS DOUBLE) AS v,
           {refer} AS refer
    FROM {source}{" WITH ORDINALITY" if with_rows else ""}
), c AS (
    SELECT *, CASE
        WHEN refer THEN {REFERRED}
        WHEN utc IS NULL OR NOT regexp_full_match(utc, '{TIME_OF_DAY}') THEN 2
        WHEN {_missing("country")} THEN 3
        WHEN {_missing("parameter")} THEN 4
        WHEN {_missing("unit")} THEN 5
        WHEN value IS NULL THEN 6
        WHEN v IS NULL OR starts_with(value, '"') THEN 7
        WHEN NOT isfinite(v) THEN 8
        WHEN v < 0 THEN 9
        ELSE 0 END AS reason
    FROM r
)
SELECT reason, left(utc, 10) AS day,
       CASE WHEN reason = 0 OR reason >= 3 THEN country END AS country, CASE WHEN reason = 0 THEN city END AS city,
       CASE WHEN reason = 0 THEN lat END AS lat, CASE WHEN reason = 0 THEN lon END AS lon,
       CASE WHEN reason = 0 OR reason >= 4 THEN parameter END AS parameter,
       CASE WHEN reason = 0 OR reason >= 5 THEN unit END AS unit,
       count(*) AS count, sum(CASE WHEN reason = 0 THEN v END) AS sum, max(CASE WHEN reason = 0 THEN v END) AS max
       {", list(row) FILTER (WHERE reason = -1) AS rows" if with_rows else ""}
FROM c
GROUP BY ALL
"""


FAST = _query(f"({_ALL_NULL})", with_rows=False)
"""The common case: only rows of nulls (lines DuckDB could not read) are set apart, and counted."""
_MAY_NOT_BE_TEXT = " OR ".join(f"coalesce(regexp_matches({c}, '{NOT_TEXT}'), false)" for c in TEXT_KEYS)
REFERRING = _query(f"(({_ALL_NULL}) OR {_MAY_NOT_BE_TEXT})", with_rows=True)
"""Run when the fast query found rows of nulls or keys that were not text: those lines by ordinal.
Reason codes are :data:`REJECT_REASONS` from 1 (0: kept; -1: referred to the specification)."""

_local = threading.local()


def _connection(threads: bool) -> duckdb.DuckDBPyConnection:
    """One in-memory DuckDB per thread (a map call's thread), reused across calls."""
    con = getattr(_local, "con", None)
    if con is None:
        con = _local.con = duckdb.connect(config={"preserve_insertion_order": False})
    con.execute(f"SET threads = {(os.cpu_count() or 1) if threads else 1}")
    return con


LENIENT_CONTEXT = np.zeros(256, dtype=bool)
LENIENT_CONTEXT[list(b":,[ \t-")] = True
"""Bytes after which a bare literal (``nan``, ``-inf``) can start a JSON value."""
_NA = ord("n") | ord("a") << 8
_IN = ord("i") | ord("n") << 8
_COMMA_CLOSE = ord(",") | ord("}") << 8  # after lower-casing, ']' (0x5D) is '}' (0x7D)
_BLANK_CLOSE = ord(" ") | ord("}") << 8  # a tab (0x09) lower-cased is ')' and is caught below
_TAB_CLOSE = ord(")") | ord("}") << 8
LENIENT_SLICE = 1 << 20
"""Bytes screened at a time: 1 MB keeps the temporaries in cache (measured 2x faster than whole)."""


def lenient_lines(body: bytes | bytearray, nl: np.ndarray) -> list[tuple[int, int]]:
    """(start, end) of every line that may hold what yyjson accepts and JSON does not.

    Those are a trailing comma (``,`` or a blank, then ``}`` or ``]``) and ``nan``/``inf``/
    ``infinity`` in any case as a bare value. Found over-inclusively (``NaN`` and ``Infinity``,
    which the specification accepts, and such words after a space inside a string, are set aside
    too, and judged exactly by the specification), by comparing byte pairs at even and odd offsets;
    the few candidate words are then checked letter by letter (:func:`_literals`).
    """
    buf = np.frombuffer(body, dtype=np.uint8)
    n = len(buf)
    hits, words = [], []
    scratch = np.empty(LENIENT_SLICE + 1, dtype=np.uint8)
    for first in range(0, n, LENIENT_SLICE):
        view = buf[first : first + LENIENT_SLICE + 1]
        low = np.bitwise_or(view, 0x20, out=scratch[: len(view)])
        for odd in (0, 1):
            pairs = low[odd : odd + (len(low) - odd) // 2 * 2].view("<u2")
            letters = pairs == _NA
            letters |= pairs == _IN
            at = np.flatnonzero(letters) * 2 + odd + first
            at = at[at > 0]  # the byte before may lie in the slice before: read it from the whole buffer
            words.append(at[LENIENT_CONTEXT[buf[at - 1]]])
            closing = pairs == _COMMA_CLOSE
            closing |= pairs == _BLANK_CLOSE
            closing |= pairs == _TAB_CLOSE
            hits.append(np.flatnonzero(closing) * 2 + odd + first)
    if words:
        hits.append(_literals(buf, np.concatenate(words)))
    found = np.concatenate(hits) if hits else np.zeros(0, dtype=np.int64)
    if len(found) == 0:
        return []
    return spans_of(np.unique(np.searchsorted(nl, found)), nl, n)


def _lower_at(buf: np.ndarray, at: np.ndarray) -> np.ndarray:
    """The bytes at ``at`` with ASCII letters lower-cased (0 past the end)."""
    inside = at < len(buf)
    out = np.zeros(len(at), dtype=np.uint8)
    out[inside] = buf[at[inside]] | 0x20
    return out


def _literals(buf: np.ndarray, at: np.ndarray) -> np.ndarray:
    """Of the ``na``/``in`` pairs at ``at`` (after a byte that can precede a value), those that start
    ``nan`` or ``inf`` not followed by a letter, or ``infi`` (``infinity``): the words yyjson reads
    as numbers. ``Nantes`` and `` institute`` in a string are not set aside; ``nanx`` is no literal
    to yyjson either (it refuses the line, which is then referred by its row of nulls)."""
    third, after = _lower_at(buf, at + 2), _lower_at(buf, at + 3)
    not_letter = (after < ord("a")) | (after > ord("z"))
    nan = (_lower_at(buf, at) == ord("n")) & (third == ord("n")) & not_letter
    inf = (_lower_at(buf, at) == ord("i")) & (third == ord("f")) & (not_letter | (after == ord("i")))
    return at[nan | inf]


def _real_day(day: str) -> bool:
    """A real calendar date (``fromisoformat`` refuses Feb 30 and year 0, as the specification)."""
    try:
        date.fromisoformat(day)
    except ValueError:
        return False
    return True


def _lat_lon(text: str | None) -> float | None:
    """A degree from its JSON text (null unless a finite number), as the specification reads it."""
    return coordinate({"x": json.loads(text)}, "x") if text is not None else None


def _degrees(column: pa.ChunkedArray) -> pa.Array:
    """Each kept group's degrees, decoded once per distinct JSON text (a partial repeats its stations)."""
    encoded = pc.dictionary_encode(column.combine_chunks())
    distinct = pa.array([_lat_lon(t) for t in encoded.dictionary.to_pylist()], pa.float64())
    return distinct.take(encoded.indices)


def _not_text(result: pa.Table) -> bool:
    """Whether a key the rules or the groups used may have been a JSON number, boolean or object."""
    for name in TEXT_KEYS:
        distinct = pc.unique(result.column(name).combine_chunks())
        if pc.any(pc.match_substring_regex(distinct, NOT_TEXT)).as_py():
            return True
    return False


def _read(path: str, query: str, threads: bool) -> pa.Table:
    return _connection(threads).sql(query, params=[path]).to_arrow_table()


def _account(result: pa.Table, counts: RecordCounts) -> pa.Table:
    """Count the query's rejections (the calendar checked per day); return the kept groups as a partial."""
    days = result.column("day").to_pylist()
    reasons = result.column("reason").to_pylist()
    real = {d: _real_day(d) for d in set(days) if d is not None}
    kept_rows = []
    for i, (reason, day, n) in enumerate(zip(reasons, days, result.column("count").to_pylist(), strict=True)):
        if reason == REFERRED:
            continue
        if reason != 2 and not real.get(day, False):
            counts.reject("bad_date", n)  # the calendar comes first: Feb 30 is a bad date
        elif reason == 0:
            kept_rows.append(i)
            counts.records_valid += n
        else:
            counts.reject(REASON_CODES[reason], n)
    kept = result.take(pa.array(kept_rows, pa.int64()))
    return pa.table(
        {
            "country": kept.column("country"),
            "city": pc.fill_null(kept.column("city"), ""),
            "latitude": _degrees(kept.column("lat")),
            "longitude": _degrees(kept.column("lon")),
            "day": kept.column("day"),
            "parameter": kept.column("parameter"),
            "unit": kept.column("unit"),
            "count": kept.column("count"),
            "sum": kept.column("sum"),
            "max": kept.column("max"),
        }
    )


def _referred_lines(body: bytes | bytearray, nl: np.ndarray, result: pa.Table) -> list[bytes]:
    """The lines of the referred rows (ordinals count the lines DuckDB read: those starting with '{').

    ``nl``: the body's newlines, unchanged by blanking (it keeps every offset)."""
    rows = result.filter(pc.equal(result.column("reason"), REFERRED)).column("rows").to_pylist()
    starts = line_starts(np.frombuffer(body, dtype=np.uint8), nl)
    lines = []
    for row in sorted(r for group in rows for r in group):
        start = int(starts[row - 1])
        end = body.find(b"\n", start)
        lines.append(bytes(body[start : len(body) if end < 0 else end]))
    return lines


def map_object(body: bytes | bytearray, compressed: bool = False, threads: bool = True) -> Partial:
    """One object's lines → a partial aggregate with the account of every line.

    A ``bytearray`` body is used as scratch space (its set-aside lines are blanked). The fast
    query runs first; only if it met a line DuckDB could not read, or a key that was not text,
    is the object read again with ordinals, to send those lines to the specification.
    """
    use_system_allocator()
    body = plain_lines(body, compressed)
    counts = RecordCounts()
    found: list[Measurement] = []
    suspicious, nl = suspicious_lines(body, threads)
    aside = sorted(set(suspicious) | set(lenient_lines(body, nl)) | set(long_lines(nl, len(body))))
    judge_lines([bytes(body[a:b]) for a, b in aside], counts, found)
    good = blank(body, aside)
    tables: list[pa.Table] = []
    some_left = len(aside) < len(nl) + 1  # a line not set aside (an object has at most len(nl) + 1)
    if len(good) and some_left:
        with tempfile.NamedTemporaryFile(prefix="aqbench-", suffix=".ndjson", dir=_scratch()) as fh:
            fh.write(good)
            fh.flush()
            result = _read(fh.name, FAST, threads)
            if pc.any(pc.equal(result.column("reason"), REFERRED)).as_py() or _not_text(result):
                result = _read(fh.name, REFERRING, threads=False)  # ordinals in file order: one thread
                judge_lines(_referred_lines(good, nl, result), counts, found)
        tables.append(_account(result, counts))
    if found:
        tables.append(group_values(measurements_table(found), threads=False).select(PARTIAL_SCHEMA.names))
    tables = [t.select(PARTIAL_SCHEMA.names).cast(PARTIAL_SCHEMA) for t in tables if t.num_rows]
    if not tables:
        return Partial(PARTIAL_SCHEMA.empty_table(), counts)
    rows = pa.concat_tables(tables)
    merged = merge([Partial(rows, RecordCounts())]).table  # 2 and 2.0 are one latitude
    return Partial(merged.filter(pc.greater(merged.column("count"), 0)), counts)


def _scratch() -> str | None:
    """Where the object is written for DuckDB to read: memory-backed /dev/shm where there is one."""
    return "/dev/shm" if os.access("/dev/shm", os.W_OK) else None
