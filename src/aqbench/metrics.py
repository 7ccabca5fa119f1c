"""Per-call rows of every engine → one tidy table and per-configuration summaries.

Medians over repetitions with their range (minimum to maximum: with five runs a 95 % bootstrap
interval of the median is that range, so it is given and named as what it is), and the one rule
that may call one configuration faster or slower than another (:func:`direction`); CPU
utilisation and the study's "scaled" utilisation; cold starts;
stragglers (slowest call ÷ median call); bytes read; and the cost model's price.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from aqbench.atomic import atomic_path
from aqbench.cost import Prices, instance_run_cost, lambda_call_cost, lithops_run_cost
from aqbench.engines.runs import SETTINGS
from aqbench.lambda_facts import facts

log = logging.getLogger(__name__)
CONFIG_COLUMNS = ["engine", "experiment", *SETTINGS]


def median_range(values: np.ndarray) -> tuple[float, float, float]:
    """Median and range (minimum, maximum) of the values, NaNs left out."""
    values = np.asarray(values, dtype=float)
    values = values[~np.isnan(values)]
    if len(values) == 0:
        return (np.nan, np.nan, np.nan)
    return float(np.median(values)), float(values.min()), float(values.max())


NO_DIFFERENCE = "no difference measured"
"""What the paper says where two ranges overlap."""

MIN_RUNS = 2
"""Runs a side needs before :func:`direction` may order it: one run is a value, not a range."""

MIN_ROUNDS = 5
"""Rounds below which a benchmark's spread is too thin to rank by: the engines bench's report and the
paper's ranking of the engines list them by median instead (the paper profile runs 5)."""


def direction(a: np.ndarray | list[float], b: np.ndarray | list[float], smaller: str, larger: str,
              same: str = NO_DIFFERENCE) -> str:  # fmt: skip
    """``a`` against ``b`` in words: ``smaller`` only if every run of ``a`` is below every run of
    ``b`` (their ranges do not overlap), ``larger`` the other way round, else ``same``. The one
    place a direction word is chosen, so no sentence claims a difference its runs do not show.
    A side of fewer than :data:`MIN_RUNS` runs has no range, so two single runs are never ordered
    (a profile that runs a configuration once shows its value, not a direction)."""
    a, b = (np.asarray(x, dtype=float) for x in (a, b))
    if min(np.count_nonzero(~np.isnan(a)), np.count_nonzero(~np.isnan(b))) < MIN_RUNS:
        return same
    _, a_lo, a_hi = median_range(a)
    _, b_lo, b_hi = median_range(b)
    if a_hi < b_lo:
        return smaller
    if a_lo > b_hi:
        return larger
    return same


def load(folders: list[Path]) -> tuple[pd.DataFrame, pd.DataFrame]:
    calls = [pq.read_table(f / "calls.parquet").to_pandas() for f in folders]
    runs = [pq.read_table(f / "runs.parquet").to_pandas() for f in folders]
    return pd.concat(calls, ignore_index=True), pd.concat(runs, ignore_index=True)


def enrich_calls(calls: pd.DataFrame) -> pd.DataFrame:
    """Utilisation columns. ``cpu_usage`` is in cores; a Lambda of M MB has M/1769 vCPUs of
    share and shows visible_cores(M) cores: utilisation = cpu_usage / visible cores, and the
    study's scaled utilisation = utilisation × visible cores / vCPUs = cpu_usage / vCPUs."""
    calls = calls.copy()
    vcpus = calls["memory_mb"] / facts().mb_per_vcpu
    visible = calls["memory_mb"].map(lambda m: facts().visible_cores(int(m)) if pd.notna(m) else np.nan)
    calls["utilisation"] = calls["cpu_usage"] / visible
    calls["scaled_utilisation"] = calls["cpu_usage"] / vcpus
    return calls


def call_costs(calls: pd.DataFrame, prices: Prices) -> pd.Series:
    """What each Lithops call would be billed on Lambda (its billed duration where Lambda reported one);
    the memory sweep's cost/speed comparison rests on calls, not on this host's concurrency-capped jobs."""

    def one(c: pd.Series) -> float:
        seconds = c.get("billed_duration_s")
        if seconds is None or pd.isna(seconds):
            seconds = c.get("duration_s")
        if c.get("engine") != "lithops" or seconds is None or pd.isna(seconds):
            return np.nan
        arch = c.get("architecture") if isinstance(c.get("architecture"), str) else "x86_64"
        return lambda_call_cost(float(seconds), int(c["memory_mb"]), prices, arch)

    return calls.apply(one, axis=1) if len(calls) else pd.Series(dtype=float)


def run_costs(runs: pd.DataFrame, calls: pd.DataFrame, prices: Prices) -> pd.Series:
    costs = []
    by_run = {k: g.to_dict("records") for k, g in calls.groupby("run_id")}
    for run in runs.itertuples():
        if run.engine == "lithops":
            timeout = getattr(run, "timeout_s", None)
            timeout = None if timeout is None or pd.isna(timeout) else float(timeout)
            costs.append(lithops_run_cost(by_run.get(run.run_id, []), prices, timeout))
        else:  # Dask and the single machine run on instances, billed by the hour
            costs.append(instance_run_cost(run.wall_s, int(run.workers or 2), prices))
    return pd.Series(costs, index=runs.index)


NEWER_COLUMNS = {"warmup": False, "locality": "local", "chunksize": 1}
"""Configuration columns runs recorded before these settings existed: their values then."""


def _probe_columns(ok: pd.DataFrame) -> dict[str, float]:
    """Each run's throughput over its own probes (the machine's limit before and after it), median over
    the configuration's runs; the probe's median; the most a probe moved within one run."""
    if "probe_before_mb_s" not in ok or ok["probe_before_mb_s"].isna().all():
        return {"probe_mb_s": np.nan, "vs_limit": np.nan, "probe_drift": np.nan}
    probe = (ok["probe_before_mb_s"] + ok["probe_after_mb_s"]) / 2
    drift = (ok["probe_after_mb_s"] - ok["probe_before_mb_s"]).abs() / ok["probe_before_mb_s"]
    return {
        "probe_mb_s": float(probe.median()),
        "vs_limit": float((ok["throughput_mb_s"] / probe).median()),
        "probe_drift": float(drift.max()),
    }


def summarise(runs: pd.DataFrame, calls: pd.DataFrame) -> pd.DataFrame:
    runs = runs.assign(**{c: v for c, v in NEWER_COLUMNS.items() if c not in runs})
    rows = []
    for key, group in runs.groupby(CONFIG_COLUMNS, dropna=False):
        ok = group[group["status"] == "ok"]
        config_calls = calls[calls["run_id"].isin(group["run_id"])]
        maps = config_calls[config_calls["phase"] == "map"]
        row = dict(zip(CONFIG_COLUMNS, key, strict=True))
        row["runs"] = len(group)
        row["runs_ok"] = len(ok)
        row["status"] = "ok" if len(ok) == len(group) else ",".join(sorted(set(group["status"])))
        for name in ("wall_s", "throughput_mb_s", "cost_usd"):
            med, lo, hi = median_range(ok[name].to_numpy(dtype=float)) if len(ok) else (np.nan,) * 3
            row |= {name: med, f"{name}_lo": lo, f"{name}_hi": hi}
        durations = maps["duration_s"].dropna()
        row["calls_per_run"] = len(maps) / max(1, len(group))
        row["call_median_s"] = float(durations.median()) if len(durations) else np.nan
        costs = maps["call_cost_usd"].dropna() if "call_cost_usd" in maps else pd.Series(dtype=float)
        row["call_cost_usd"] = float(costs.median()) if len(costs) else np.nan
        row["straggler_ratio"] = float(durations.max() / durations.median()) if len(durations) else np.nan
        row["cold_starts"] = int(maps["cold_start"].fillna(False).astype(bool).sum())
        row["cpu_usage"] = float(maps["cpu_usage"].median()) if maps["cpu_usage"].notna().any() else np.nan
        row["scaled_utilisation"] = (
            float(maps["scaled_utilisation"].median()) if maps["scaled_utilisation"].notna().any() else np.nan
        )
        row["peak_rss_mb"] = float(maps["peak_rss_mb"].max()) if maps["peak_rss_mb"].notna().any() else np.nan
        row["bytes_read"] = float(ok["bytes"].median()) if len(ok) else np.nan
        row["emulated"] = bool(group["emulated"].all())
        row |= _probe_columns(ok)
        rows.append(row)
    return pd.DataFrame(rows)


def compute(folders: list[Path], prices: Prices, out_dir: Path) -> pd.DataFrame:
    calls, runs = load(folders)
    calls = enrich_calls(calls)
    runs = runs.copy()
    runs["cost_usd"] = run_costs(runs, calls, prices)
    calls["call_cost_usd"] = call_costs(calls, prices)
    summary = summarise(runs, calls)
    out_dir.mkdir(parents=True, exist_ok=True)
    environments = [
        json.loads((f / "environment.json").read_text()) for f in folders if (f / "environment.json").exists()
    ]
    first = environments[0] if environments else {}
    # the machine of the first experiment; the code of every one (a rerun of some may differ)
    versions = sorted({(e.get("commit") or "") + ("+dirty" if e.get("dirty") else "") for e in environments} - {""})
    with atomic_path(out_dir / "environment.json") as tmp:
        tmp.write_text(json.dumps(first | {"commits": versions}, indent=1) + "\n")
    for name, frame in (("calls.parquet", calls), ("runs.parquet", runs), ("summary.parquet", summary)):
        with atomic_path(out_dir / name) as tmp:
            pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), tmp, compression="zstd")
    log.info("metrics: %d runs, %d calls, %d configurations", len(runs), len(calls), len(summary))
    return summary


def start_latency(calls: pd.DataFrame) -> pd.Series:
    """Seconds from a call's dispatch to an environment to its function's start.

    Not from submission: on this host calls beyond the cores' concurrency wait in Lithops'
    queue, where Lambda would start more environments; the dispatch time excludes that wait.
    Rows without one (a process per call) count from submission.
    """
    dispatched = calls["t_dispatch"] if "t_dispatch" in calls else pd.Series(np.nan, index=calls.index)
    return calls["t_start"] - dispatched.fillna(calls["t_submit"])


def start_calls(calls: pd.DataFrame) -> pd.DataFrame:
    """The calls whose start latency the paper shows (Fig. cold_warm and the text's medians beside it):
    the warm-up's activations and the measured map calls with a submission, a start and a duration."""
    return calls[calls["phase"].isin(["warmup", "map"])].dropna(subset=["t_start", "t_submit", "duration_s"])
