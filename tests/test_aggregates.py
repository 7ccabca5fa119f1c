"""Comparing aggregate tables: the check that makes every engine run honest."""

from __future__ import annotations

import pyarrow as pa
import pytest

from aqbench.aggregates import SCHEMA, compare, read_csv, sort_aggregates, verify, write_csv
from aqbench.errors import VerificationError


def _table(rows):
    return pa.Table.from_pylist(rows, schema=SCHEMA)


ROW = dict(
    country="PL",
    city="",
    latitude=None,
    longitude=None,
    day="2018-01-01",
    parameter="pm10",
    unit="µg/m³",
    count=3,
    sum=0.30000000000000004,
    average=0.1,
    max=0.2,
)


def test_equal_tables_pass_and_sums_may_differ_in_the_last_bits():
    other = dict(ROW, sum=0.3)
    assert compare(_table([ROW]), _table([other])).equal


@pytest.mark.parametrize("change", [dict(count=4), dict(max=0.25), dict(sum=0.31), dict(unit="ppm")])
def test_any_real_difference_fails(change):
    with pytest.raises(VerificationError, match="differs from the reference"):
        verify(_table([ROW]), _table([dict(ROW, **change)]), "test run")


def test_lost_group_is_named():
    result = compare(_table([ROW, dict(ROW, day="2018-01-02")]), _table([ROW]))
    assert (result.missing, result.unexpected, result.mismatched) == (1, 0, 0)
    assert "2018-01-02" in result.describe()


def test_csv_round_trip_keeps_empty_city_and_null_coordinates(tmp_path):
    rows = [ROW, dict(ROW, city="NA", latitude=-0.5, longitude=1e-7, country="DE")]
    write_csv(_table(rows), tmp_path / "a.csv")
    back = read_csv(tmp_path / "a.csv")
    assert back.equals(sort_aggregates(_table(rows)))
