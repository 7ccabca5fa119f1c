"""The OpenAQ legacy "realtime" record format, and the rules that keep or reject a line.

This module is the executable specification of those rules, written in plain Python
so that it reads like the issue that defines them. The fast paths (the DuckDB
reference, the arrow and ndjson kernels) implement the same rules vectorised, and the
tests check each of them against this module line by line.

A line is rejected, with the first reason that applies, in this order:

=================  =====================================================================
reason             when
=================  =====================================================================
invalid_json       not UTF-8 (anywhere in the line, in any field), not valid JSON, or
                   not a JSON object; or a string escapes a lone surrogate
                   (``"\\ud800"`` not followed by its pair: valid JSON syntax, but not
                   Unicode text, RFC 8259 §8.2); or arrays and objects nested
                   deeper than 512 levels (:data:`MAX_DEPTH`). ``NaN``, ``Infinity`` and
                   ``-Infinity`` are read as numbers (Python's json module writes
                   them), and such a value is rejected as not finite
bad_date           ``date.utc`` missing, or not an ISO-8601 UTC timestamp
                   (``YYYY-MM-DDTHH:MM:SS[.fff]`` in ASCII digits, then ``Z`` or ``+00:00``)
                   of a real calendar date from year 1 on
missing_country    ``country`` absent, null, empty, or not a string
missing_parameter  ``parameter`` absent, null, empty, or not a string
missing_unit       ``unit`` absent, null, empty, or not a string
missing_value      ``value`` absent or null
value_not_number   ``value`` is a string, boolean, array or object
value_not_finite   ``value`` is NaN or infinite, or overflows a double (``1e999``, an
                   integer of 400 digits); integers beyond 2^53 are kept, rounded to the
                   nearest double as every JSON reader here does
value_negative     ``value`` < 0 (OpenAQ's invalid-reading sentinels, such as -999)
=================  =====================================================================

A kept line contributes ``value`` to the group of its key. A missing or non-string
``city`` becomes the empty string; missing, non-numeric or non-finite coordinates (``1e999``,
an integer of 400 digits) leave latitude and longitude empty (null); ``-0.0`` is the degree 0
(IEEE 754 equal values, one group). Lines that are empty or
only spaces and tabs are skipped and not counted. Lines end at ``\\n``, ``\\r\\n`` or ``\\r``,
and may be of any length. A UTF-8 byte-order mark at the start of a line is ignored (files
written on Windows start with one).
Repeated keys: the first occurrence counts. An escaped NUL (``\\u0000``) is a character like any
other; a raw NUL or other control byte is invalid JSON. Any bytes at all (a binary file) are
lines like any other: each non-blank one is rejected, and nothing raises.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

KEY_COLUMNS: tuple[str, ...] = (
    "country",
    "city",
    "latitude",
    "longitude",
    "day",
    "parameter",
    "unit",
)
"""The grouping key. ``unit`` is part of it: ppm and µg/m³ are never averaged together."""

AGGREGATE_COLUMNS: tuple[str, ...] = ("count", "sum", "average", "max")
OUTPUT_COLUMNS: tuple[str, ...] = KEY_COLUMNS + AGGREGATE_COLUMNS

REJECT_REASONS: tuple[str, ...] = (
    "invalid_json",
    "bad_date",
    "missing_country",
    "missing_parameter",
    "missing_unit",
    "missing_value",
    "value_not_number",
    "value_not_finite",
    "value_negative",
)

DATA_SUFFIXES: tuple[str, ...] = (".ndjson", ".ndjson.gz")

UTC_TIMESTAMP = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,9})?(Z|\+00:00)")
"""Shape of an accepted ``date.utc``; :func:`is_utc_timestamp` also checks the calendar. ASCII
digits only (ISO 8601's): Python's ``\\d`` would take ``٢٠١٨``, the kernels' RE2 does not."""

MAX_DEPTH = 512
"""Deepest nesting of arrays and objects a line may have. A rule of its own, not a parser's limit:
Python's parser gives up at its recursion limit (about 1000 levels, fewer the deeper its caller's
stack), yyjson and Arrow's reader go further. OpenAQ records nest 3 levels. A line that nests
deeper than this is at least ``2 * MAX_DEPTH`` bytes long, which is how the kernels find it."""
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)

LINE_BREAK = re.compile(r"\r\n|\r|\n")
BLANK_CHARS = " \t"
BOM = "\ufeff"
SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
"""A ``\\uD800``-``\\uDFFF`` escape: half of a pair, or a lone surrogate."""


@dataclass(frozen=True, slots=True)
class Measurement:
    """One kept line, reduced to the grouping key and the value."""

    country: str
    city: str
    latitude: float | None
    longitude: float | None
    day: str
    parameter: str
    unit: str
    value: float

    @property
    def key(self) -> tuple[Any, ...]:
        return (
            self.country,
            self.city,
            self.latitude,
            self.longitude,
            self.day,
            self.parameter,
            self.unit,
        )


@dataclass
class RecordCounts:
    """How many lines were read, kept and rejected (by reason).

    Counts travel with every partial result so that a job can prove that
    ``read == valid + rejected``, summed over all its calls.
    """

    records_valid: int = 0
    rejected_by_reason: dict[str, int] = field(default_factory=dict)

    @property
    def records_rejected(self) -> int:
        return sum(self.rejected_by_reason.values())

    @property
    def records_read(self) -> int:
        return self.records_valid + self.records_rejected

    def reject(self, reason: str, n: int = 1) -> None:
        if reason not in REJECT_REASONS:
            raise ValueError(f"unknown rejection reason {reason!r}")
        if n:
            self.rejected_by_reason[reason] = self.rejected_by_reason.get(reason, 0) + n

    def merge(self, other: RecordCounts) -> RecordCounts:
        """Return the sum of two counts (associative and commutative)."""
        merged = RecordCounts(self.records_valid + other.records_valid, dict(self.rejected_by_reason))
        for reason, n in other.rejected_by_reason.items():
            merged.reject(reason, n)
        return merged

    def to_dict(self) -> dict[str, Any]:
        return {
            "records_read": self.records_read,
            "records_valid": self.records_valid,
            "records_rejected": self.records_rejected,
            "rejected_by_reason": {r: self.rejected_by_reason[r] for r in sorted(self.rejected_by_reason)},
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RecordCounts:
        return cls(int(data["records_valid"]), {str(k): int(v) for k, v in data["rejected_by_reason"].items()})


def first_wins(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """Keep the first of repeated keys, as DuckDB and Arrow do (Python's default keeps the last)."""
    record: dict[str, Any] = {}
    for name, value in pairs:
        record.setdefault(name, value)
    return record


def is_utc_timestamp(text: str) -> bool:
    """True for an ISO-8601 timestamp in UTC with a real calendar date and time."""
    if not UTC_TIMESTAMP.fullmatch(text):
        return False
    try:
        datetime.strptime(text[:19], "%Y-%m-%dT%H:%M:%S")
    except ValueError:
        return False
    return True


def _nonempty_string(value: Any) -> bool:
    return isinstance(value, str) and value != ""


def coordinate(coordinates: Any, name: str) -> float | None:
    if not isinstance(coordinates, dict):
        return None
    value = coordinates.get(name)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        value = float(value)
    except OverflowError:  # an integer too large for a double: not finite, like 1e999
        return None
    return value + 0.0 if math.isfinite(value) else None  # + 0.0: -0.0 becomes 0.0, one key


def too_deep(line: str) -> bool:
    """Whether a line nests arrays and objects deeper than :data:`MAX_DEPTH` (strings not counted).

    Counted only on lines with that many brackets at all. In valid JSON every quote outside a string
    opens one, so removing the strings left to right leaves the structure; on invalid JSON the answer
    may be wrong but the line is invalid either way."""
    if line.count("[") + line.count("{") <= MAX_DEPTH:
        return False
    depth = deepest = 0
    for c in _STRING.sub("", line):
        if c in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif c in "]}":
            depth -= 1
    return deepest > MAX_DEPTH


def _all_pairs(pairs: list[tuple[str, Any]]) -> list[Any]:
    """Every key and value of an object, duplicates included (first_wins keeps only the first)."""
    return [item for pair in pairs for item in pair]


def _has_lone_surrogate(value: Any) -> bool:
    """True if a decoded JSON value holds a surrogate code point (a pair decodes to one character)."""
    if isinstance(value, str):
        return any("\ud800" <= c <= "\udfff" for c in value)
    if isinstance(value, dict):
        return any(_has_lone_surrogate(k) or _has_lone_surrogate(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_lone_surrogate(v) for v in value)
    return False


def parse_line(line: str | bytes | bytearray) -> Measurement | str | None:
    """Classify one line: a :class:`Measurement`, a rejection reason, or None for a blank line."""
    if isinstance(line, bytes | bytearray):
        line = bytes(line)
        try:
            line = line.decode("utf-8")
        except UnicodeDecodeError:
            return "invalid_json" if line.strip(BLANK_CHARS.encode()) else None
    if line.startswith(BOM):
        line = line[1:]
    if line.strip(BLANK_CHARS) == "":
        return None
    if too_deep(line):
        return "invalid_json"
    try:
        record = json.loads(line, object_pairs_hook=first_wins)
    except (ValueError, RecursionError):  # JSONDecodeError; RecursionError only from a caller ~500 frames deep
        return "invalid_json"
    if not isinstance(record, dict):
        return "invalid_json"
    # a lone surrogate anywhere in the line, a dropped duplicate's too: the line is not valid Unicode text
    if SURROGATE_ESCAPE.search(line) and _has_lone_surrogate(json.loads(line, object_pairs_hook=_all_pairs)):
        return "invalid_json"
    date = record.get("date")
    utc = date.get("utc") if isinstance(date, dict) else None
    if not isinstance(utc, str) or not is_utc_timestamp(utc):
        return "bad_date"
    for name in ("country", "parameter", "unit"):
        if not _nonempty_string(record.get(name)):
            return f"missing_{name}"
    value = record.get("value")
    if value is None:
        return "missing_value"
    if isinstance(value, bool) or not isinstance(value, int | float):
        return "value_not_number"
    try:
        value = float(value)
    except OverflowError:  # an integer too large for a double
        return "value_not_finite"
    if not math.isfinite(value):
        return "value_not_finite"
    if value < 0:
        return "value_negative"
    city = record.get("city")
    coordinates = record.get("coordinates")
    return Measurement(
        country=record["country"],
        city=city if isinstance(city, str) else "",
        latitude=coordinate(coordinates, "latitude"),
        longitude=coordinate(coordinates, "longitude"),
        day=utc[:10],
        parameter=record["parameter"],
        unit=record["unit"],
        value=value,
    )


def split_lines(text: str) -> list[str]:
    """Split a decoded object into lines the way every kernel does (``\\n``, ``\\r\\n``, ``\\r``)."""
    lines = LINE_BREAK.split(text)
    if lines and lines[-1] == "":
        lines.pop()
    return lines
