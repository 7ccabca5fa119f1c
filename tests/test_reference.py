"""The DuckDB reference against the plain-Python rules, on fixtures and on generated lines."""

from __future__ import annotations

import functools
import json
import math

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aqbench.kernels.reference import aggregate_files
from strategies import TIMES, lines, records

from conftest import line, record, spec_aggregate, table_groups


def test_gzip_and_plain_files_give_the_same_result(write_lines):
    lines = [line(value=v, utc=f"2018-01-01T{h:02d}:00:00.000Z") for h, v in enumerate([1.5, 2.5, 4.0])]
    plain = aggregate_files([write_lines(lines, "a.ndjson")])
    packed = aggregate_files([write_lines(lines, "b.ndjson.gz")])
    assert plain.aggregates.equals(packed.aggregates)
    assert table_groups(plain.aggregates) == {
        ("PL", "Kraków", 50.057678, 19.926189, "2018-01-01", "pm10", "µg/m³"): (3, 8.0, 4.0)
    }


def test_units_are_never_mixed(write_lines):
    result = aggregate_files(
        [write_lines([line(parameter="co", unit="ppm", value=0.4), line(parameter="co", unit="µg/m³", value=400.0)])]
    )
    by_unit = {k[6]: v for k, v in table_groups(result.aggregates).items()}
    assert by_unit == {"ppm": (1, 0.4, 0.4), "µg/m³": (1, 400.0, 400.0)}


def test_missing_city_and_coordinates_form_their_own_groups(write_lines):
    no_city = record(city=None)
    no_coords = record()
    del no_coords["coordinates"]
    result = aggregate_files([write_lines([line(), json.dumps(no_city), json.dumps(no_coords)])])
    keys = sorted(table_groups(result.aggregates), key=repr)
    assert ("PL", "", 50.057678, 19.926189, "2018-01-01", "pm10", "µg/m³") in keys
    assert ("PL", "Kraków", None, None, "2018-01-01", "pm10", "µg/m³") in keys
    assert len(keys) == 3


def test_non_ascii_names_survive(write_lines):
    result = aggregate_files([write_lines([line(city="Łódź"), line(city="São Paulo", country="BR")])])
    assert {k[1] for k in table_groups(result.aggregates)} == {"Łódź", "São Paulo"}


def test_day_is_the_utc_date(write_lines):
    result = aggregate_files(
        [write_lines([line(utc="2018-01-01T23:30:00.000Z"), line(utc="2018-01-02T00:30:00+00:00")])]
    )
    assert sorted(k[4] for k in table_groups(result.aggregates)) == ["2018-01-01", "2018-01-02"]


def test_counts_reconcile_over_several_files(write_lines):
    a = write_lines([line(), "oops", line(value=-999)], "a.ndjson")
    b = write_lines([line(), "", line(unit=None)], "b.ndjson.gz")
    counts = aggregate_files([a, b]).counts
    assert counts.records_read == 5 == counts.records_valid + counts.records_rejected
    assert counts.rejected_by_reason == {"invalid_json": 1, "value_negative": 1, "missing_unit": 1}


def test_sum_is_accurate(write_lines):
    values = [0.1] * 1000 + [1e6, 1e-6]
    result = aggregate_files([write_lines([line(value=v) for v in values])])
    ((count, total, peak),) = table_groups(result.aggregates).values()
    assert count == 1002 and peak == 1e6
    assert math.isclose(total, math.fsum(values), rel_tol=1e-15)


# Lines built from valid records, then damaged the ways real fetches were damaged.
_values = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True, width=64),
    st.integers(min_value=-(10**20), max_value=10**20),
    st.sampled_from([-999, 0, "12", True, None]),
)
_lines = functools.partial(
    lines,
    records(_values, [*TIMES, "yesterday"], ("PL", "DE", "")),
    ("truncate", "blank", "garbage"),
    intact_weight=2,
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(_lines(), max_size=40))
def test_reference_equals_the_specification(tmp_path_factory, lines):
    path = tmp_path_factory.mktemp("h") / "x.ndjson"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = aggregate_files([path])
    groups, reasons = spec_aggregate(lines)
    assert result.counts.rejected_by_reason == reasons
    got = table_groups(result.aggregates)
    assert got.keys() == groups.keys()
    for key, (count, total, peak) in groups.items():
        assert got[key][0] == count and got[key][2] == peak
        assert math.isclose(got[key][1], total, rel_tol=1e-9, abs_tol=1e-300)
