"""The validation rules, each checked in the Python specification and in the DuckDB reference."""

from __future__ import annotations

import json

import pytest

from aqbench.kernels.reference import aggregate_files
from aqbench.openaq import MAX_DEPTH, Measurement, RecordCounts, is_utc_timestamp, parse_line, split_lines

from conftest import line, record


def _drop(field: str) -> str:
    rec = record()
    del rec[field]
    return json.dumps(rec)


def _with(**fields: object) -> str:
    rec = record()
    rec.update(fields)
    return json.dumps(rec)


def _nested(depth: int) -> str:
    """A kept record with a field nesting arrays ``depth`` levels below the line's object."""
    return line().replace('"mobile": false', '"mobile": ' + "[" * depth + "]" * depth)


REJECTED = [
    ("invalid_json", "not json at all"),
    ("invalid_json", line()[:40]),  # a truncated fetch
    ("invalid_json", "[1, 2, 3]"),  # valid JSON, but not a record
    ("invalid_json", '{"value": 1,}'),  # trailing comma: DuckDB accepts it, JSON does not
    ("invalid_json", line().replace("12.5", "nan")),
    ("bad_date", _drop("date")),
    ("bad_date", _with(date={"local": "2018-01-01T11:00:00+01:00"})),
    ("bad_date", _with(date={"utc": "2018-01-01"})),
    ("bad_date", _with(date={"utc": "2018-01-01T10:00:00+01:00"})),  # not UTC
    ("bad_date", _with(date={"utc": "2018-02-30T10:00:00Z"})),  # no such day
    ("bad_date", _with(date={"utc": "2018-01-01T25:00:00Z"})),
    ("bad_date", _with(date={"utc": 1514800800})),
    ("bad_date", _with(date={"utc": "\u0662\u0660\u0661\u0668-01-01T10:00:00Z"})),  # Arabic-Indic digits
    ("bad_date", _with(date={"utc": "2018-01-01T10:00:00.\uff10Z"})),  # a full-width digit
    ("bad_date", _with(date={"utc": "0000-01-01T10:00:00Z"})),  # no year 0 in the calendar
    ("invalid_json", _nested(MAX_DEPTH)),  # the line's object is one level more
    ("missing_country", _drop("country")),
    ("missing_country", _with(country=None)),
    ("missing_parameter", _drop("parameter")),
    ("missing_unit", _drop("unit")),
    ("missing_unit", _with(unit="")),
    ("missing_value", _drop("value")),
    ("missing_value", _with(value=None)),
    ("value_not_number", _with(value="12.5")),
    ("value_not_number", _with(value=True)),
    ("value_not_number", _with(value=[1])),
    ("value_not_finite", line().replace("12.5", "NaN")),
    ("value_not_finite", line().replace("12.5", "Infinity")),
    ("value_not_finite", line().replace("12.5", "1e999")),
    ("value_negative", _with(value=-999)),
    ("value_negative", _with(value=-0.5)),
]


@pytest.mark.parametrize(("reason", "text"), REJECTED)
def test_rejection_rule_in_spec_and_reference(reason, text, write_lines):
    assert parse_line(text) == reason
    result = aggregate_files([write_lines([line(), text])])
    assert result.counts.rejected_by_reason == {reason: 1}
    assert result.counts.records_valid == 1


def test_invalid_utf8_is_invalid_json(tmp_path):
    bad = line().encode().replace(b"Krak\xc3\xb3w", b"Krak\xf3w")  # Latin-1 byte
    path = tmp_path / "latin1.ndjson"
    path.write_bytes(bad + b"\n" + line().encode() + b"\n")
    assert parse_line(bad) == "invalid_json"
    assert aggregate_files([path]).counts.rejected_by_reason == {"invalid_json": 1}


def test_separator_byte_inside_a_line_is_invalid_json(tmp_path):
    path = tmp_path / "ctl.ndjson"
    path.write_bytes(line().encode() + b"\n" + b'{"a":"\x01"}\n')
    counts = aggregate_files([path]).counts
    assert counts.rejected_by_reason == {"invalid_json": 1} and counts.records_valid == 1


def test_kept_fields_and_defaults():
    m = parse_line(line(city=None, coordinates={}))
    assert isinstance(m, Measurement)
    assert (m.city, m.latitude, m.longitude, m.day) == ("", None, None, "2018-01-01")
    assert parse_line(line(value=0)).value == 0.0  # zero is a reading, not a sentinel
    assert parse_line(line(value=7)).value == 7.0  # integers are numbers


def test_blank_lines_are_skipped_and_not_counted(write_lines):
    result = aggregate_files([write_lines(["", line(), "   ", "\t", line(), ""])])
    assert result.counts.records_read == 2
    assert parse_line("  \t") is None


def test_accepted_timestamp_shapes():
    assert is_utc_timestamp("2018-01-01T10:00:00Z")
    assert is_utc_timestamp("2018-01-01T10:00:00.123Z")
    assert is_utc_timestamp("2018-01-01T10:00:00+00:00")
    assert not is_utc_timestamp("2018-01-01 10:00:00Z")
    assert not is_utc_timestamp("2018-13-01T10:00:00Z")


def test_line_splitting_accepts_crlf():
    assert split_lines("a\r\nb\nc\rd\n") == ["a", "b", "c", "d"]


def test_counts_merge_and_reconcile():
    a = RecordCounts(3, {"invalid_json": 1})
    b = RecordCounts(2, {"invalid_json": 2, "value_negative": 1})
    merged = a.merge(b)
    assert merged.to_dict() == {
        "records_read": 9,
        "records_valid": 5,
        "records_rejected": 4,
        "rejected_by_reason": {"invalid_json": 3, "value_negative": 1},
    }
    assert RecordCounts.from_dict(merged.to_dict()) == merged
    with pytest.raises(ValueError, match="unknown rejection reason"):
        a.reject("no_such_reason")


def test_nesting_is_judged_by_the_rule_whatever_the_callers_stack():
    """Python's parser gives up near its recursion limit, sooner from a deep caller: the rule does not."""

    def deep(frames: int, text: str):
        return deep(frames - 1, text) if frames else parse_line(text)

    for frames in (0, 300):
        assert isinstance(deep(frames, _nested(MAX_DEPTH - 1)), Measurement)
        assert deep(frames, _nested(MAX_DEPTH)) == "invalid_json"
        assert deep(frames, _nested(5000)) == "invalid_json"
        assert isinstance(deep(frames, line().replace("false", '"' + "[" * 2000 + '"')), Measurement)  # in a string


def test_minus_zero_is_the_degree_zero():
    a, b = parse_line(line().replace("50.057678", "-0.0")), parse_line(line().replace("50.057678", "0"))
    assert a.key == b.key and str(a.latitude) == "0.0"


@pytest.mark.parametrize("degrees", ["1" + "0" * 400, "1e999", '"50.1"', "true"])
def test_coordinates_that_are_not_finite_numbers_are_left_empty(degrees):
    """An integer too large for a double is as infinite as 1e999: the line is kept, its latitude null."""
    text = line().replace('"latitude": 50.057678', f'"latitude": {degrees}')
    kept = parse_line(text)
    assert isinstance(kept, Measurement)
    assert kept.latitude is None and kept.longitude == 19.926189
