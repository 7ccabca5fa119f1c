"""The study's own map and reduce code, as close to its slides as they allow, on its own layout.

The study's objects (``df0`` ... ``dfN``) were whole JSON documents, read with
``json.loads(download_bytes(key).decode('utf-8'))`` into a DataFrame: a pandas frame's
``to_json()`` of the realtime records, nested columns (``date``, ``coordinates``,
``averagingPeriod``, ``attribution``) kept. :func:`to_study_layout` writes such a document from
one of our objects; this module's maps read it the study's way.

Deviations from the slides, each forced, none a fix:

- the slides call ``pd.DataFrame.loads_recursive(...)``, which does not exist: the document
  goes to ``pd.DataFrame(json.loads(...))``, which is what a ``to_json()`` document reads back as;
- ``preprocess`` is not shown: written the plain pandas way (the day from ``date.utc``,
  latitude and longitude out of ``coordinates``), the day kept in the study's ``date`` column;
- a worker returns its two jobs' partials together (one Lithops activation here, where the
  study ran the two jobs as two map calls over the same objects), and a reducer hands its
  frames back as JSON (a fresh index: ``to_json`` refuses the concatenation's repeated one).

What it keeps of the study, bugs included, on purpose: the six-column key without the unit
(a station reporting a gas in ppm and in µg/m³ has the two averaged together); ``groupby``'s
default ``dropna=True`` (groups with no city or no coordinates vanish); no line validation
(values the specification rejects, such as -999 sentinels, are averaged in); partials through
``to_json``/``read_json`` (10 significant digits by default, dates read back as timestamps);
``day_max_reduce`` only concatenates, so a station-day whose rows span two objects keeps two
maxima. Its runs are measured like every other and compared with the reference, but a
difference does not fail them: :func:`differences` counts them by cause. Its aggregates are
never used for the paper's maps or numbers.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterable

import numpy as np
import pandas as pd
import pyarrow as pa

from aqbench.aggregates import SUM_RTOL
from aqbench.openaq import RecordCounts

KEY = ["country", "city", "date", "parameter", "latitude", "longitude"]
"""The study's grouping key: no unit."""

CAUSES = (
    "exact",
    "units averaged together",
    "dropped: no city or coordinates",
    "maximum split across objects",
    "rejected values averaged in",
    "digits lost in JSON",
    "missing, other",
    "value differs, other",
)
"""Each reference station-day gets one, in this order of precedence."""
EXTRA = "groups the reference rejects"
"""Beside the causes: groups the study's code made that the reference has none of."""


def to_study_layout(body: bytes) -> bytes:
    """One of our newline-delimited objects as the study's document: ``DataFrame.to_json()`` of
    its records (the lines that parse as JSON objects; the study's fetch kept no others)."""
    records = []
    for line in body.decode("utf-8", errors="replace").splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if isinstance(record, dict):
            records.append(record)
    return pd.DataFrame(records).to_json().encode("utf-8")


def load(body: bytes) -> pd.DataFrame:
    """The study's read: ``json.loads(download_bytes(key).decode('utf-8'))`` into a DataFrame."""
    return pd.DataFrame(json.loads(body.decode("utf-8")))


def preprocess(df: pd.DataFrame) -> pd.DataFrame:
    """Not in the slides; the plain pandas way."""
    df["date"] = df["date"].str.get("utc").str[:10]
    df["latitude"] = df["coordinates"].str.get("latitude")
    df["longitude"] = df["coordinates"].str.get("longitude")
    return df


def day_average_map(df: pd.DataFrame) -> str:
    grouped = df.groupby(KEY)["value"].agg(["sum", "count"]).reset_index()
    df = df.merge(grouped, on=KEY)
    df = df.drop_duplicates(subset=KEY)
    return df.to_json()


def day_max_map(df: pd.DataFrame) -> str:
    grouped = df.groupby(KEY)["value"].max().reset_index().rename(columns={"value": "max"})
    df = df.merge(grouped, on=KEY)
    df = df.drop_duplicates(subset=KEY)
    return df.to_json()


def day_average_reduce(results: Iterable[str]) -> pd.DataFrame:
    df = pd.concat([pd.read_json(io.StringIO(r)) for r in results])
    grouped = df.groupby(KEY)[["sum", "count"]].sum().reset_index()
    grouped["average"] = grouped.apply(lambda row: row["sum"] / row["count"], axis=1)
    df = df.drop(columns=[c for c in ("sum", "count", "average") if c in df]).merge(grouped, on=KEY)
    return df.drop_duplicates(subset=KEY)


def day_max_reduce(results: Iterable[str]) -> pd.DataFrame:
    return pd.concat([pd.read_json(io.StringIO(r)) for r in results])


class StudyKernel:
    """The study's code behind the kernels' interface (one reducer, as the study had)."""

    name = "study"

    def map(self, body: bytes, name: str, reducers: int, threads: bool = True) -> list[bytes]:
        df = preprocess(load(body))
        part = {"rows": len(df), "day_average": [day_average_map(df)], "day_max": [day_max_map(df)]}
        return [json.dumps(part).encode()] + [json.dumps(_empty()).encode()] * (reducers - 1)

    def reduce(self, parts: Iterable[bytes]) -> bytes:
        decoded = [json.loads(p) for p in parts]
        average = [r for p in decoded for r in p["day_average"]]
        maximum = [r for p in decoded for r in p["day_max"]]
        out = _empty() | {"rows": sum(p["rows"] for p in decoded), "reduced": True}
        # the reducer's results go back to the driver as JSON (the study's reduce returned frames)
        if average:
            reduced = day_average_reduce(average)[[*KEY, "sum", "count", "average"]]
            out["day_average"] = [reduced.reset_index(drop=True).to_json(date_format="iso")]
        if maximum:
            out["day_max"] = [day_max_reduce(maximum)[[*KEY, "max"]].reset_index(drop=True).to_json(date_format="iso")]
        return json.dumps(out).encode()

    def finalize(self, part: bytes) -> tuple[pa.Table, RecordCounts]:
        """The study's results as one table: its averages beside every maximum its reduce kept."""
        data = json.loads(part)
        if not data.get("reduced"):  # a map's partial, never through a reducer
            data = json.loads(self.reduce([part]))
        avg = _read(data["day_average"], ["sum", "count", "average"])
        mx = _read(data["day_max"], ["max"])
        both = avg.merge(mx, on=KEY, how="outer")
        both["date"] = both["date"].map(_day)
        table = pa.Table.from_pandas(both.rename(columns={"date": "day"}), preserve_index=False)
        return table, RecordCounts(records_valid=int(data["rows"]))


def _empty() -> dict:
    return {"rows": 0, "day_average": [], "day_max": []}


def _read(frames: list[str], values: list[str]) -> pd.DataFrame:
    if not frames:
        return pd.DataFrame(columns=[*KEY, *values])
    return pd.read_json(io.StringIO(frames[0]))[[*KEY, *values]]


def _day(value) -> str | None:
    """The study's ``date`` as a day: ``read_json`` turns a column named date into timestamps."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    return pd.Timestamp(value).strftime("%Y-%m-%d")


def differences(reference: pa.Table, study: pa.Table) -> dict[str, int]:
    """Each station-day of the reference (its key without the unit) by what the study's code made
    of it, in :data:`CAUSES` order; and the groups the study made that the reference has none of.

    ``read_json`` parses floats with a routine that is not correctly rounded, so a coordinate can
    come back a digit off and split its group from the reference's: such a group is found again
    by its coordinates to six decimals (a metre or less) and counted as digits lost in JSON."""
    ref = reference.to_pandas()
    ours = study.to_pandas()
    key = ["country", "city", "day", "parameter", "latitude", "longitude"]
    ref["city"] = ref["city"].replace("", None)
    got = {k: g for k, g in ours.groupby(key, dropna=True)}
    near = {_rounded(k): k for k in got}
    counts = dict.fromkeys(CAUSES, 0)
    found: set[tuple] = set()
    for k, group in ref.groupby(key, dropna=False):
        hit = k if k in got else near.get(_rounded(k))
        cause = _cause(k, group, got.get(hit) if hit is not None else None)
        if hit is not None:
            found.add(hit)
            if hit != k and cause == "exact":
                cause = "digits lost in JSON"
        counts[cause] += 1
    counts[EXTRA] = sum(1 for k in got if k not in found)
    return counts


def summary(by_cause: dict[str, int]) -> tuple[int, int, dict[str, int], int]:
    """Of :func:`differences`' counts: the station-days, how many are wrong, the wrong ones by
    cause (those that occur), and the groups the reference rejects."""
    total = sum(v for k, v in by_cause.items() if k != EXTRA)
    causes = {k: v for k, v in by_cause.items() if v and k not in ("exact", EXTRA)}
    return total, total - by_cause.get("exact", 0), causes, by_cause.get(EXTRA, 0)


def _rounded(key: tuple) -> tuple:
    return (*key[:4], *(round(v, 6) if isinstance(v, float) and not np.isnan(v) else v for v in key[4:]))


def _cause(key: tuple, ref: pd.DataFrame, got: pd.DataFrame | None) -> str:
    city, lat, lon = key[1], key[4], key[5]
    if got is None:
        missing_part = city is None or pd.isna(city) or pd.isna(lat) or pd.isna(lon)
        return "dropped: no city or coordinates" if missing_part else "missing, other"
    if ref["unit"].nunique() > 1:
        return "units averaged together"
    if len(got) > 1:
        return "maximum split across objects"
    row, want = got.iloc[0], ref.iloc[0]
    if int(row["count"]) > int(want["count"]):
        return "rejected values averaged in"
    average = want["sum"] / want["count"]
    # equal as every engine's answer is judged equal (aggregates.SUM_RTOL): a difference the comparison
    # of the other engines forgives is not counted against the study's code
    if np.isclose(row["average"], average, rtol=SUM_RTOL, atol=0) and np.isclose(
        row["max"], want["max"], rtol=SUM_RTOL, atol=0
    ):
        return "exact"
    if np.isclose(row["average"], average, rtol=1e-6) and np.isclose(row["max"], want["max"], rtol=1e-6):
        return "digits lost in JSON"
    return "value differs, other"
