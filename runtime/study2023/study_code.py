"""The study's map and reduce code verbatim, for the software it ran on (Python 3.8, pandas 1.5).

Everything below the line ``# --- the slides' code ---`` is ``slides_cells.txt`` with exactly the
deviations :data:`DEVIATIONS` lists (a test holds the two together). Above it, only what the
slides omit or garble, reconstructed, each listed in :data:`RECONSTRUCTED`:

- ``loads_recursive``: the slides call ``pd.DataFrame.loads_recursive(...)``, which pandas never
  had; the study's objects were a DataFrame's ``to_json()`` document, which ``pd.DataFrame`` of
  the parsed document reads back.
- ``download_bytes`` and ``input_bucket``: not shown; here the object's bytes from a local file or
  a store this harness was handed (``set_source``).
- ``preprocess``: not shown. A family of the ways a pandas user of 2023 would extract the day
  and the coordinates from the nested columns (:data:`PREPROCESS`), picked by
  ``AQBENCH_PREPROCESS``; none is "the" study's. Each also drops the other nested columns
  (``coordinates``, ``averagingPeriod``, ``attribution``): ``drop_duplicates()`` over all
  columns, as the slides call it, raises on dict and list cells ("unhashable type"), so the
  study's preprocess must have removed or flattened them.

Python 3.8 syntax on purpose: this file runs in the study's environment
(``runtime/study2023/requirements.lock``), not in this project's.
"""

import json
import os

import pandas as pd

RECONSTRUCTED = ("loads_recursive", "download_bytes", "input_bucket", "preprocess")
"""What the slides' code calls but does not show (or shows garbled): defined above the slides' code."""

SLIDE_CALL = (
    "        df = pd.DataFrame.loads_recursive(json.loads(download_bytes(os.path.basename(x), input_bucket)"
    ".decode(encoding='utf-8'))))"
)
DEVIATIONS = (
    (
        SLIDE_CALL,
        "        df = loads_recursive(json.loads(download_bytes(os.path.basename(x), input_bucket)"
        ".decode(encoding='utf-8')))",
        "pandas has no DataFrame.loads_recursive, and the line closes one parenthesis too many",
    ),
    (
        SLIDE_CALL.replace("        df", "    df", 1),
        "    df = loads_recursive(json.loads(download_bytes(os.path.basename(x), input_bucket)"
        ".decode(encoding='utf-8')))",
        "the same line in day_max_map",
    ),
)
"""(the slides' line, the line run here, why): the only differences from ``slides_cells.txt``."""

TODAY = (
    (
        "    df_to_process = df_to_process.drop(columns=['value'], axis=1)",
        "    df_to_process = df_to_process.drop(columns=['value'])",
        "pandas 2 refuses axis beside columns ('Cannot specify both'); 1.5 ignored it",
    ),
    (
        "    dfs = [pd.read_json(result) for result in results]",
        "    dfs = [pd.read_json(io.StringIO(result)) for result in results]",
        "pandas 3 reads a string as a path; 1.5 read it as the document",
    ),
    (
        "    df_avg = df_concatenated.groupby(['country', 'city', 'date', 'parameter', 'latitude', 'longitude'])"
        ".sum(['count', 'sum'])",
        "    df_avg = df_concatenated.groupby(['country', 'city', 'date', 'parameter', 'latitude', 'longitude'])"
        ".sum(numeric_only=True)",
        "the list lands on numeric_only, which 1.5 took as true and pandas 2 refuses",
    ),
    (
        "    df_avg = df_avg.drop(columns=['count', 'sum'], axis=1).dropna()",
        "    df_avg = df_avg.drop(columns=['count', 'sum']).dropna()",
        "axis beside columns, as above",
    ),
    (
        "    df_concatenated = df_concatenated.drop(columns=['count', 'sum'], axis=1).dropna()",
        "    df_concatenated = df_concatenated.drop(columns=['count', 'sum']).dropna()",
        "axis beside columns, as above",
    ),
)
"""(the line run in 2023, the line today's pandas needs, why): the same code on today's software
(``activation.py --software today``) differs from the 2023 run by these lines only, each the
replacement that keeps what pandas 1.5 did."""


def today_source(source):
    """This module's source as today's pandas runs it: :data:`TODAY` applied (each line once)."""
    lines = source.split("\n")
    for old, new, _why in TODAY:
        at = [i for i, line in enumerate(lines) if line == old]
        if not at:
            raise ValueError("not in the code: " + old)
        for i in at:
            lines[i] = new
    return "import io\n" + "\n".join(lines)


input_bucket = os.environ.get("AQBENCH_INPUT_BUCKET", "")
_SOURCE = {"folder": os.environ.get("AQBENCH_INPUT_FOLDER", "")}


def set_source(folder):
    """Where ``download_bytes`` finds the objects: a folder of them (the harness copies them there)."""
    _SOURCE["folder"] = folder


def download_bytes(key, bucket):
    """The object's bytes (the study's helper read them from S3; the transfer is measured apart)."""
    with open(os.path.join(_SOURCE["folder"], key), "rb") as fh:
        return fh.read()


def loads_recursive(document):
    """The parsed ``to_json()`` document as the frame it was: nested cells stay dicts and lists."""
    return pd.DataFrame(document)


NESTED = ["coordinates", "averagingPeriod", "attribution"]


def _coordinate(cell, name):
    return cell.get(name) if isinstance(cell, dict) else None


def _finish(df):
    return df.drop(columns=[c for c in NESTED if c in df.columns])


def preprocess_str_accessors(df):
    """Vectorized ``.str`` accessors on the nested columns."""
    df["date"] = df["date"].str.get("utc").str[:10]
    df["latitude"] = df["coordinates"].str.get("latitude")
    df["longitude"] = df["coordinates"].str.get("longitude")
    return _finish(df)


def preprocess_series_apply(df):
    """Element-wise ``Series.apply``."""
    df["date"] = df["date"].apply(lambda d: d["utc"][:10])
    df["latitude"] = df["coordinates"].apply(lambda c: _coordinate(c, "latitude"))
    df["longitude"] = df["coordinates"].apply(lambda c: _coordinate(c, "longitude"))
    return _finish(df)


def preprocess_row_apply(df):
    """Row-wise ``DataFrame.apply(axis=1)``: the idiom the study's own reduce uses."""
    df["date"] = df.apply(lambda row: row["date"]["utc"][:10], axis=1)
    df["latitude"] = df.apply(lambda row: _coordinate(row["coordinates"], "latitude"), axis=1)
    df["longitude"] = df.apply(lambda row: _coordinate(row["coordinates"], "longitude"), axis=1)
    return _finish(df)


def preprocess_json_normalize(df):
    """``pd.json_normalize`` of the nested columns."""
    dates = pd.json_normalize(df["date"].tolist())
    coordinates = pd.json_normalize([c if isinstance(c, dict) else {} for c in df["coordinates"]])
    df["date"] = dates["utc"].str[:10].values
    for name in ("latitude", "longitude"):
        df[name] = coordinates[name].values if name in coordinates else None
    return _finish(df)


def preprocess_to_datetime_element(df):
    """``pd.to_datetime`` per element (the day as a date)."""
    df["date"] = df["date"].apply(lambda d: pd.to_datetime(d["utc"]).date())
    df["latitude"] = df["coordinates"].str.get("latitude")
    df["longitude"] = df["coordinates"].str.get("longitude")
    return _finish(df)


def preprocess_to_datetime_column(df):
    """``pd.to_datetime`` on the whole column (the day as a date)."""
    df["date"] = pd.to_datetime(df["date"].str.get("utc")).dt.date
    df["latitude"] = df["coordinates"].str.get("latitude")
    df["longitude"] = df["coordinates"].str.get("longitude")
    return _finish(df)


PREPROCESS = {
    "str_accessors": preprocess_str_accessors,
    "series_apply": preprocess_series_apply,
    "row_apply": preprocess_row_apply,
    "json_normalize": preprocess_json_normalize,
    "to_datetime_element": preprocess_to_datetime_element,
    "to_datetime_column": preprocess_to_datetime_column,
}
"""The family of the unshown ``preprocess``, by name."""


def preprocess(df):
    """The variant ``AQBENCH_PREPROCESS`` names (default: vectorized ``.str`` accessors)."""
    return PREPROCESS[os.environ.get("AQBENCH_PREPROCESS", "str_accessors")](df)


# --- the slides' code ---
def day_average_map(x):
    if isinstance(x, str):
        df = loads_recursive(json.loads(download_bytes(os.path.basename(x), input_bucket).decode(encoding='utf-8')))
    else:
        df = x
    df_to_process = preprocess(df)
    df_sum = df_to_process.groupby(['country', 'city', 'date', 'parameter', 'latitude', 'longitude'])['value'].agg(['sum','count'])
    df_to_process = df_to_process.drop(columns=['value'], axis=1)
    df_merged = pd.merge(df_sum, df_to_process, on=['country', 'city', 'date', 'parameter', 'latitude', 'longitude']).drop_duplicates()
    return df_merged.to_json()

def day_average_reduce(results):
    dfs = [pd.read_json(result) for result in results]
    df_concatenated = pd.concat(dfs)
    df_concatenated.reset_index(drop=True, inplace=True)

    df_avg = df_concatenated.groupby(['country', 'city', 'date', 'parameter', 'latitude', 'longitude']).sum(['count', 'sum'])
    df_avg['average'] = df_avg.apply(lambda row: row['sum'] / row['count'], axis=1)

    df_avg = df_avg.drop(columns=['count', 'sum'], axis=1).dropna()
    df_concatenated = df_concatenated.drop(columns=['count', 'sum'], axis=1).dropna()

    df_merged = pd.merge(df_avg, df_concatenated, on=['country', 'city', 'date', 'parameter', 'latitude', 'longitude']).drop_duplicates()
    return df_merged.to_json()

def day_max_map(x):
    df = loads_recursive(json.loads(download_bytes(os.path.basename(x), input_bucket).decode(encoding='utf-8')))
    df_to_process = preprocess(df)
    df_sum = df_to_process.groupby(['country', 'city', 'date', 'parameter', 'latitude', 'longitude'])['value'].agg(['max'])
    df_to_process = df_to_process.drop(columns=['value'], axis=1)

    df_merged = pd.merge(df_sum, df_to_process, on=['country', 'city', 'date', 'parameter', 'latitude', 'longitude']).drop_duplicates()
    return df_merged.to_json()

def day_max_reduce(results):
    dfs = [pd.read_json(result) for result in results]
    df_concatenated = pd.concat(dfs)
    df_concatenated.reset_index(drop=True, inplace=True)
    return df_concatenated.to_json()
