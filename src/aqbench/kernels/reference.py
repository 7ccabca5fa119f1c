"""The reference aggregation: one DuckDB query over every line of the input.

It is deliberately independent of the kernels the engines run (different parser,
different grouping code), so that agreement with it means something. It follows the
rules of :mod:`aqbench.openaq`; the tests check the two line by line.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from aqbench.aggregates import sort_aggregates
from aqbench.inputs import LineReader, Source
from aqbench.openaq import MAX_DEPTH, RecordCounts

log = logging.getLogger(__name__)

# yyjson, DuckDB's parser, is lenient where JSON is not: it accepts trailing commas and
# nan/inf in any case. A line DuckDB calls valid is refused when, with its string literals
# blanked, it still shows one of these. NaN, Infinity and -Infinity are accepted, as
# Python's json module (and every OpenAQ emitter) reads and writes them.
LENIENT = r",\s*[}\]]|(?i:nan|inf)"
STRING_LITERAL = r'"(?:[^"\\]|\\.)*"'

UTC_PATTERN = r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,9})?(Z|\+00:00)"

_STEP = "CASE WHEN c IN ('[', '{') THEN 1 ELSE -1 END"
_BRACKETS = f"regexp_replace(regexp_replace(s, '{STRING_LITERAL}', '', 'g'), '[^\\[\\]{{}}]', '', 'g')"
TOO_DEEP = (
    f"(CASE WHEN length(s) <= {2 * MAX_DEPTH} THEN false WHEN length({_BRACKETS}) <= {MAX_DEPTH} THEN false "
    f"ELSE list_reduce(string_split({_BRACKETS}, ''), lambda acc, c: {{'d': acc.d + {_STEP}, "
    f"'m': greatest(acc.m, acc.d + {_STEP})}}, {{'d': 0, 'm': 0}}).m > {MAX_DEPTH} END)"
)
"""A line nesting arrays and objects deeper than the rules allow, by a running count of the brackets
outside strings (yyjson has no depth limit). Only lines long enough to nest that deep are counted:
a CASE, because DuckDB evaluates both sides of an AND on every row (measured: twice the query's time)."""

PATHS = [
    "$.date.utc",
    "$.country",
    "$.parameter",
    "$.unit",
    "$.value",
    "$.city",
    "$.coordinates.latitude",
    "$.coordinates.longitude",
]

QUERY = f"""
WITH raw AS (
    SELECT rtrim(try(decode(line)), E'\\r\\n') AS s FROM lines
), decoded AS (  -- a byte-order mark at the start of a line is ignored
    SELECT CASE WHEN starts_with(s, chr(65279)) THEN substr(s, 2) ELSE s END AS s FROM raw
), nonblank AS (
    SELECT s FROM decoded WHERE s IS NULL OR trim(s, E' \\t') <> ''
), checked AS (
    SELECT s,
        s IS NOT NULL AND json_valid(s) AND NOT {TOO_DEEP}
        AND json_type(CASE WHEN json_valid(s) THEN s END) = 'OBJECT'
        AND NOT (regexp_matches(s, '{LENIENT}')
                 AND regexp_matches(regexp_replace(regexp_replace(s, '{STRING_LITERAL}', '""', 'g'),
                                                   'NaN|Infinity', '', 'g'),
                                    '{LENIENT}')) AS ok
    FROM nonblank
), fields AS (
    SELECT ok, json_extract(CASE WHEN ok THEN s END, {PATHS!r}) AS f FROM checked
), typed AS (
    SELECT ok,
        json_type(f[1]) AS utc_t, f[1] ->> '$' AS utc,
        json_type(f[2]) AS country_t, f[2] ->> '$' AS country,
        json_type(f[3]) AS parameter_t, f[3] ->> '$' AS parameter,
        json_type(f[4]) AS unit_t, f[4] ->> '$' AS unit,
        json_type(f[5]) AS value_t, TRY_CAST(f[5] AS DOUBLE) AS value,
        json_type(f[6]) AS city_t, f[6] ->> '$' AS city,
        json_type(f[7]) AS lat_t, TRY_CAST(f[7] AS DOUBLE) AS lat,
        json_type(f[8]) AS lon_t, TRY_CAST(f[8] AS DOUBLE) AS lon
    FROM fields
), classified AS (
    SELECT *,
        CASE
            WHEN NOT ok THEN 'invalid_json'
            WHEN utc_t IS DISTINCT FROM 'VARCHAR'
                 OR NOT regexp_full_match(utc, '{UTC_PATTERN}') OR starts_with(utc, '0000')
                 OR try_strptime(substr(utc, 1, 19), '%Y-%m-%dT%H:%M:%S') IS NULL THEN 'bad_date'
            WHEN country_t IS DISTINCT FROM 'VARCHAR' OR country = '' THEN 'missing_country'
            WHEN parameter_t IS DISTINCT FROM 'VARCHAR' OR parameter = '' THEN 'missing_parameter'
            WHEN unit_t IS DISTINCT FROM 'VARCHAR' OR unit = '' THEN 'missing_unit'
            WHEN value_t IS NULL OR value_t = 'NULL' THEN 'missing_value'
            WHEN value_t NOT IN ('BIGINT', 'UBIGINT', 'HUGEINT', 'DOUBLE') THEN 'value_not_number'
            WHEN NOT isfinite(value) THEN 'value_not_finite'
            WHEN value < 0 THEN 'value_negative'
        END AS reason
    FROM typed
), keyed AS (
    SELECT reason,
        CASE WHEN reason IS NULL THEN country END AS country,
        CASE WHEN reason IS NULL THEN (CASE WHEN city_t = 'VARCHAR' THEN city ELSE '' END) END AS city,
        CASE WHEN reason IS NULL AND lat_t IN ('BIGINT', 'UBIGINT', 'HUGEINT', 'DOUBLE') AND isfinite(lat)
             THEN lat END AS latitude,
        CASE WHEN reason IS NULL AND lon_t IN ('BIGINT', 'UBIGINT', 'HUGEINT', 'DOUBLE') AND isfinite(lon)
             THEN lon END AS longitude,
        CASE WHEN reason IS NULL THEN substr(utc, 1, 10) END AS day,
        CASE WHEN reason IS NULL THEN parameter END AS parameter,
        CASE WHEN reason IS NULL THEN unit END AS unit,
        CASE WHEN reason IS NULL THEN value END AS value
    FROM classified
)
SELECT reason, country, city, latitude, longitude, day, parameter, unit,
       count(*) AS count, fsum(value) AS sum, max(value) AS max
FROM keyed
GROUP BY ALL
"""


@dataclass
class ReferenceResult:
    """The reference aggregates of a set of files and the account of every line read."""

    aggregates: pa.Table
    counts: RecordCounts


def aggregate_files(files: list[Source], threads: int | None = None) -> ReferenceResult:
    """Aggregate ``files`` in one query; every non-blank line is either grouped or counted rejected."""
    reader = LineReader(files)
    con = duckdb.connect(config={"threads": threads} if threads else {})
    try:
        con.register("lines", reader.reader())
        result = con.sql(QUERY).to_arrow_table()
    except duckdb.Error:
        if reader.error is not None:
            raise reader.error from None
        raise
    finally:
        con.close()
    rejected = result.filter(pc.is_valid(result.column("reason")))
    kept = result.filter(pc.is_null(result.column("reason")))
    counts = RecordCounts(records_valid=int(pc.sum(kept.column("count")).as_py() or 0))
    for reason, n in zip(rejected.column("reason").to_pylist(), rejected.column("count").to_pylist(), strict=True):
        counts.reject(reason, n)
    average = pc.divide(kept.column("sum"), pc.cast(kept.column("count"), pa.float64()))
    aggregates = kept.drop_columns(["reason"]).append_column("average", average)
    log.info("reference: %d files, %d lines, %d groups", len(files), counts.records_read, aggregates.num_rows)
    return ReferenceResult(sort_aggregates(aggregates), counts)
