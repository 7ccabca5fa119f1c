"""The aggregate table every kernel and engine produces: one schema, one order, one CSV form,
and the comparison that decides whether a run agrees with the reference."""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from aqbench.atomic import atomic_path
from aqbench.errors import VerificationError
from aqbench.openaq import KEY_COLUMNS, OUTPUT_COLUMNS

SCHEMA = pa.schema(
    [
        ("country", pa.string()),
        ("city", pa.string()),
        ("latitude", pa.float64()),
        ("longitude", pa.float64()),
        ("day", pa.string()),
        ("parameter", pa.string()),
        ("unit", pa.string()),
        ("count", pa.int64()),
        ("sum", pa.float64()),
        ("average", pa.float64()),
        ("max", pa.float64()),
    ]
)
assert tuple(SCHEMA.names) == OUTPUT_COLUMNS

SUM_RTOL = 1e-9
"""Sums are order-dependent in floating point; counts, maxima and keys must match exactly."""


def sort_aggregates(table: pa.Table) -> pa.Table:
    """Order rows by the key (byte order for text, empty coordinates first)."""
    table = table.select(list(OUTPUT_COLUMNS)).cast(SCHEMA)
    order = [(name, "ascending", "at_start") for name in KEY_COLUMNS]
    indices = pc.sort_indices(table, sort_keys=order)
    return table.take(indices)


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return repr(value)  # shortest text that reads back to the same double
    return str(value)


def write_csv(table: pa.Table, path: str | Path) -> None:
    """Write the aggregates atomically, floats in round-trip form."""
    table = sort_aggregates(table)
    with atomic_path(path) as tmp, open(tmp, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(OUTPUT_COLUMNS)
        columns = [table.column(name).to_pylist() for name in OUTPUT_COLUMNS]
        for row in zip(*columns, strict=True):
            writer.writerow([_cell(v) for v in row])


def read_csv(path: str | Path) -> pa.Table:
    """Read an aggregate CSV back with exact types (empty city stays empty, empty coordinates null)."""
    options = pacsv.ConvertOptions(
        column_types=SCHEMA,
        strings_can_be_null=False,
        null_values=[""],
        quoted_strings_can_be_null=False,
    )
    return pacsv.read_csv(str(path), convert_options=options).select(list(OUTPUT_COLUMNS))


@dataclass(frozen=True)
class Comparison:
    """What differs between an engine's aggregates and the reference."""

    missing: int
    unexpected: int
    mismatched: int
    examples: tuple[str, ...]

    @property
    def equal(self) -> bool:
        return self.missing == self.unexpected == self.mismatched == 0

    def describe(self) -> str:
        head = f"{self.missing} groups missing, {self.unexpected} unexpected, {self.mismatched} with different values"
        return head + (": " + "; ".join(self.examples) if self.examples else "")


def _rows(table: pa.Table) -> dict[tuple, tuple]:
    table = table.select(list(OUTPUT_COLUMNS))
    cols = [table.column(n).to_pylist() for n in OUTPUT_COLUMNS]
    width = len(KEY_COLUMNS)
    rows: dict[tuple, tuple] = {}
    for row in zip(*cols, strict=True):
        rows[row[:width]] = row[width:]
    return rows


def _close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=SUM_RTOL, abs_tol=0.0) or a == b


def compare(expected: pa.Table, actual: pa.Table, max_examples: int = 3) -> Comparison:
    """Compare two aggregate tables: keys, counts and maxima exactly, sums and averages to 1e-9."""
    want, got = _rows(expected), _rows(actual)
    missing = [k for k in want if k not in got]
    unexpected = [k for k in got if k not in want]
    mismatched = []
    for key, (count, total, average, maximum) in want.items():
        other = got.get(key)
        if other is None:
            continue
        o_count, o_total, o_average, o_max = other
        if o_count != count or o_max != maximum or not _close(total, o_total) or not _close(average, o_average):
            mismatched.append((key, (count, total, maximum), (o_count, o_total, o_max)))
    examples = [f"missing {k}" for k in missing[:max_examples]]
    examples += [f"unexpected {k}" for k in unexpected[:max_examples]]
    examples += [f"{k}: expected {e}, got {a}" for k, e, a in mismatched[:max_examples]]
    return Comparison(len(missing), len(unexpected), len(mismatched), tuple(examples))


def verify(expected: pa.Table, actual: pa.Table, what: str) -> None:
    """Raise :class:`VerificationError` unless ``actual`` equals the reference."""
    result = compare(expected, actual)
    if not result.equal:
        raise VerificationError(f"{what} differs from the reference aggregate: {result.describe()}")


ANSWER_DIFFERENCES: tuple[str, ...] = (
    "groups_exact",
    "groups_missing",
    "groups_unexpected",
    "groups_count_differs",
    "groups_value_differs",
    "lines_skipped",
    "lines_extra",
)
"""What an engine that does not follow the record specification made of the reference's groups."""


def answer_differences(expected: pa.Table, actual: pa.Table) -> dict[str, int]:
    """An engine's answer against the reference, counted rather than failed (the idiomatic
    single-node engines, which skip what they cannot read without saying so): groups exactly
    equal, missing, unexpected, with another count (lines skipped or added in that group), or
    the same count and other values (values read differently); and the lines skipped and added."""
    want, got = _rows(expected), _rows(actual)
    out = dict.fromkeys(ANSWER_DIFFERENCES, 0)
    for key, (count, total, _average, maximum) in want.items():
        other = got.get(key)
        if other is None:
            out["groups_missing"] += 1
            out["lines_skipped"] += count
            continue
        o_count, o_total, _o_average, o_max = other
        if o_count != count:
            out["groups_count_differs"] += 1
            out["lines_skipped" if o_count < count else "lines_extra"] += abs(count - o_count)
        elif o_max != maximum or not _close(total, o_total):
            out["groups_value_differs"] += 1
        else:
            out["groups_exact"] += 1
    for key, (count, *_rest) in got.items():
        if key not in want:
            out["groups_unexpected"] += 1
            out["lines_extra"] += count
    return out


def describe_differences(diff: dict[str, int]) -> str:
    """One line for a run's note: how many of the reference's groups differ, and the nonzero counts
    of :func:`answer_differences` (an answer may equal the reference: it still has no account of
    the lines it skipped, so nothing but this comparison shows it)."""
    total = sum(diff.get(k, 0) for k in ANSWER_DIFFERENCES[:2] + ANSWER_DIFFERENCES[3:5])
    wrong = {k.replace("_", " "): v for k, v in diff.items() if v and k != "groups_exact"}
    return f"unverified answer: {total - diff.get('groups_exact', 0)} of {total} reference groups differ" + (
        " (" + ", ".join(f"{k} {v}" for k, v in wrong.items()) + ")" if wrong else ""
    )
