"""The study's kernel, ported: pandas maps that serialise frames to JSON, one pandas reduce.

What the original did, per object and per job:

1. parse the JSON-lines object into a DataFrame and preprocess it (the day from
   ``date.utc``, latitude/longitude out of ``coordinates``);
2. ``day_average``: ``groupby(key)['value'].agg(['sum', 'count'])``;
   ``day_max``: ``groupby(key)['value'].max()``;
3. merge the group values back onto the rows, drop the duplicates, and serialise the
   frame to JSON — the partial;
4. the reduce reads every JSON partial back, concatenates, groups again and divides
   sum by count (average) or takes the max.

What is changed here, and why (each a bug, not a style choice):

- **unit joins the key**: the original grouped by country, city, date, parameter,
  latitude, longitude, so a station reporting one gas in ppm and in µg/m³ had the two
  averaged together;
- **no group dropped**: pandas' ``groupby`` drops keys with a missing value (no city, no
  coordinates) unless ``dropna=False``, and the merge back then dropped those rows;
- **malformed lines are rejected, not fatal**: ``pd.read_json(lines=True)`` raises on the
  first bad line of an object; lines are read one by one with the same rules as every
  other kernel (:func:`aqbench.openaq.parse_line`) and the rejections counted;
- **the partial carries its counts** next to the frame, so nothing is lost unseen;
- **floats survive the JSON round trip**: ``DataFrame.to_json`` writes at most 15
  significant digits (``double_precision=15`` is pandas' maximum), so a maximum such as
  0.30000000000000004 or a value of 1.2345678901234568e+41 came back different, and
  ``pd.read_json`` parses numbers with a routine that is not correctly rounded. The
  partials are still JSON records, as the study's were, but written and read with
  Python's json module, whose floats round-trip exactly (shortest repr).
"""

from __future__ import annotations

import gzip
import json
import zlib

import numpy as np
import pandas as pd
import pyarrow as pa

from aqbench.aggregates import sort_aggregates
from aqbench.openaq import KEY_COLUMNS, Measurement, RecordCounts, parse_line, split_lines

KEY = list(KEY_COLUMNS)
JOBS = ("day_average", "day_max")


def read_object(body: bytes, compressed: bool = False) -> tuple[pd.DataFrame, RecordCounts]:
    """Step 1: the object as a frame of kept measurements, and the account of its lines."""
    if compressed:
        body = gzip.decompress(body)
    counts = RecordCounts()
    rows: list[Measurement] = []
    for line in split_lines(body.decode("utf-8", errors="surrogateescape")):
        result = parse_line(line.encode("utf-8", errors="surrogateescape"))
        if isinstance(result, Measurement):
            rows.append(result)
        elif result is not None:
            counts.reject(result)
    counts.records_valid = len(rows)
    frame = _typed(pd.DataFrame(rows, columns=[*KEY, "value"]))
    return frame, counts


def _partition(frame: pd.DataFrame, reducers: int) -> np.ndarray:
    if reducers == 1 or frame.empty:
        return np.zeros(len(frame), dtype=np.int64)
    keys = frame[KEY].astype(object).where(frame[KEY].notna(), None).itertuples(index=False, name=None)
    return np.fromiter((zlib.crc32(repr(tuple(k)).encode()) % reducers for k in keys), dtype=np.int64, count=len(frame))


def map_job(frame: pd.DataFrame, job: str) -> pd.DataFrame:
    """Steps 2-3 for one job: group values merged back onto the rows, duplicates dropped."""
    if job == "day_average":
        groups = frame.groupby(KEY, dropna=False)["value"].agg(["sum", "count"]).reset_index()
    elif job == "day_max":
        groups = frame.groupby(KEY, dropna=False)["value"].max().rename("max").reset_index()
    else:
        raise ValueError(f"unknown job {job!r}: choose one of {', '.join(JOBS)}")
    merged = frame.merge(groups, on=KEY, how="left")
    return merged.drop(columns=["value"]).drop_duplicates(subset=KEY)


def map_object(body: bytes, reducers: int = 1, compressed: bool = False) -> list[str]:
    """Both jobs of one object, as JSON partials, one per reducer (key-hash partitioned)."""
    frame, counts = read_object(body, compressed)
    partials = {job: map_job(frame, job) for job in JOBS}
    out = []
    for r in range(reducers):
        part = {"counts": counts.to_dict() if r == 0 else RecordCounts().to_dict()}
        for job, df in partials.items():
            rows = df[_partition(df, reducers) == r]
            part[job] = _to_json(rows)
        out.append(json.dumps(part, ensure_ascii=False))
    return out


TYPES = {
    "country": object,
    "city": object,
    "latitude": "float64",
    "longitude": "float64",
    "day": object,
    "parameter": object,
    "unit": object,
    "value": "float64",
    "sum": "float64",
    "count": "int64",
    "max": "float64",
}


def _typed(frame: pd.DataFrame) -> pd.DataFrame:
    """JSON round trips lose dtypes (an all-null column comes back as object): restore them."""
    return frame.astype({c: TYPES[c] for c in frame.columns})


def _to_json(frame: pd.DataFrame) -> str:
    """A frame as JSON records whose floats read back bit for bit (NaN for a missing coordinate)."""
    return json.dumps(frame.to_dict(orient="records"), ensure_ascii=False)


def _frame(text: str, value_columns: list[str]) -> pd.DataFrame:
    return _typed(pd.DataFrame.from_records(json.loads(text), columns=[*KEY, *value_columns]))


def reduce_partials(partials: list[str]) -> str:
    """Step 4 without the division: merge JSON partials into one JSON partial (for trees of reducers)."""
    counts = RecordCounts()
    average, maximum = [], []
    for text in partials:
        part = json.loads(text)
        counts = counts.merge(RecordCounts.from_dict(part["counts"]))
        average.append(_frame(part["day_average"], ["sum", "count"]))
        maximum.append(_frame(part["day_max"], ["max"]))
    average.append(_typed(pd.DataFrame(columns=[*KEY, "sum", "count"])))  # a reducer may receive no partial
    maximum.append(_typed(pd.DataFrame(columns=[*KEY, "max"])))
    avg = pd.concat(average).groupby(KEY, dropna=False)[["sum", "count"]].sum().reset_index()
    mx = pd.concat(maximum).groupby(KEY, dropna=False)["max"].max().reset_index()
    return json.dumps(
        {
            "counts": counts.to_dict(),
            "day_average": _to_json(avg),
            "day_max": _to_json(mx),
        },
        ensure_ascii=False,
    )


def finalize(partial: str) -> tuple[pa.Table, RecordCounts]:
    """The division, and both jobs' results side by side in the common aggregate table."""
    part = json.loads(partial)
    avg = _frame(part["day_average"], ["sum", "count"])
    mx = _frame(part["day_max"], ["max"])
    both = avg.merge(mx, on=KEY, how="outer")
    both["average"] = both["sum"] / both["count"]
    for column in ("latitude", "longitude"):
        both[column] = both[column].astype("float64")
    for column in ("country", "city", "day", "parameter", "unit"):
        both[column] = both[column].astype(object)
    both["city"] = both["city"].fillna("")
    table = pa.Table.from_pandas(both, preserve_index=False)
    return sort_aggregates(table), RecordCounts.from_dict(part["counts"])
