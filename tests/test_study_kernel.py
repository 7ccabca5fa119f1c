"""The study's own code: it runs its way on its own layout, and what it gets wrong is counted by cause."""

from __future__ import annotations

import json

import pandas as pd

from aqbench.kernels import get_kernel, run_in_process
from aqbench.kernels.reference import aggregate_files
from aqbench.kernels.study import CAUSES, differences, to_study_layout

from conftest import line


def _objects(tmp_path, objects: list[list[str]]):
    paths = []
    for i, lines in enumerate(objects):
        path = tmp_path / f"df{i:05d}.ndjson"
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        paths.append(path)
    return paths


def _run(paths):
    docs = [(p.with_suffix(".json").name, to_study_layout(p.read_bytes())) for p in paths]
    return run_in_process(get_kernel("study"), docs)


def test_the_study_layout_is_one_to_json_document_with_the_nested_columns():
    body = (line(value=1.5) + "\n{broken\n" + line(value=2.5) + "\n").encode()
    doc = json.loads(to_study_layout(body))
    frame = pd.DataFrame(doc)
    assert len(frame) == 2 and set(frame["value"]) == {1.5, 2.5}  # the malformed line is not a record
    assert frame["coordinates"].iloc[0] == {"latitude": 50.057678, "longitude": 19.926189}
    assert frame["date"].iloc[0]["utc"] == "2018-01-01T10:00:00.000Z"


def test_each_station_day_is_counted_by_what_the_study_code_made_of_it(tmp_path):
    kr = {"coordinates": {"latitude": 50.06, "longitude": 19.93}}
    wa = {"coordinates": {"latitude": 52.23, "longitude": 21.01}, "city": "Warszawa"}
    po = {"coordinates": {"latitude": 52.41, "longitude": 16.93}, "city": "Poznań"}
    gd = {"coordinates": {"latitude": 54.35, "longitude": 18.65}, "city": "Gdańsk"}
    first = [
        line(value=10.0, **kr),  # exact: one object, one unit, valid values
        line(value=20.0, **kr, utc="2018-01-01T11:00:00.000Z"),
        line(parameter="co", unit="ppm", value=0.5, **wa),  # the same gas in two units
        line(parameter="co", unit="µg/m³", value=500.0, **wa),
        line(value=5.0, city=None),  # no city: pandas' groupby drops it
        line(value=7.0, **po),  # a maximum split across two objects
        line(value=3.0, **gd),  # a sentinel the specification rejects, averaged in
        line(value=-999, **gd, utc="2018-01-01T12:00:00.000Z"),
    ]
    second = [line(value=9.0, **po, utc="2018-01-01T20:00:00.000Z")]
    paths = _objects(tmp_path, [first, second])
    table, counts = _run(paths)
    assert counts.records_read == 9  # every record of the documents, none validated
    by_cause = differences(aggregate_files(paths).aggregates, table)
    assert set(CAUSES) <= set(by_cause)
    assert by_cause["exact"] == 1
    assert by_cause["units averaged together"] == 1
    assert by_cause["dropped: no city or coordinates"] == 1
    assert by_cause["maximum split across objects"] == 1
    assert by_cause["rejected values averaged in"] == 1
    assert by_cause["value differs, other"] == 0 and by_cause["missing, other"] == 0


def test_a_station_day_within_the_engines_tolerance_is_exact_and_beyond_it_digits_lost():
    """The study's code is judged as every engine is (aggregates.SUM_RTOL): a value a JSON round trip
    moved by less than that is exact, one moved by more (within a millionth) is digits lost."""
    import pyarrow as pa

    from aqbench.aggregates import SUM_RTOL

    key = {"country": "PL", "city": "Kraków", "day": "2018-01-01", "parameter": "pm25", "latitude": 50.06,
           "longitude": 19.93}  # fmt: skip
    reference = pa.Table.from_pylist([key | {"unit": "µg/m³", "count": 3, "sum": 30.0, "max": 12.0}])

    def study(shift: float) -> pa.Table:
        return pa.Table.from_pylist([key | {"unit": "µg/m³", "count": 3, "average": 10.0 * (1 + shift),
                                            "max": 12.0 * (1 + shift)}])  # fmt: skip

    assert differences(reference, study(SUM_RTOL / 10))["exact"] == 1
    assert differences(reference, study(SUM_RTOL * 100))["digits lost in JSON"] == 1
