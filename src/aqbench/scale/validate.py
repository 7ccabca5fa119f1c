"""The simulation against our own runs: every Lithops configuration the profile measured.

Each measured run is simulated on this host's terms (its concurrency for the memory size,
the emulated link, Lithops' localhost queue and polling, the environments already warm at
the run's start) with the constants calibrated from the profile's calls, and its predicted
wall time set beside the measured one. The calibration sees only the experiments of
``calibration.CALIBRATION_EXPERIMENTS``; every other configuration is held out, and the verdict
(the errors the paper reports) is over the held-out ones only. The same model then projects
the study's scale.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd

from aqbench.emulated.cgroups import max_concurrency
from aqbench.emulated.platform import LOOPBACK_MONITORING_INTERVAL_S
from aqbench.scale.calibration import CALIBRATION_EXPERIMENTS, Calibration, calibrate, measured_calls
from aqbench.scale.model import JobSpec, SimPlatform, simulate

CONFIG = ["experiment", "kernel", "memory_mb", "objects_per_call", "reducers", "fraction", "locality", "warmup"]
"""What makes two runs the same configuration."""


@dataclass(frozen=True)
class Link:
    """The profile's emulated network (lithops.network)."""

    local_mbit: float
    remote_mbit: float
    remote_latency_s: float


def host_platform(
    cal: Calibration, memory_mb: int, locality: str, link: Link, timeout_s: float, warm: int
) -> SimPlatform:
    """This host's emulation of Lambda, as the profile's runs had it."""
    remote = locality == "remote"
    return SimPlatform(
        max_workers=max_concurrency(memory_mb, cal.host_cores),
        release_on_notice=False,
        invokes_per_s=float("inf"),
        poll_s=LOOPBACK_MONITORING_INTERVAL_S,
        cold_init_s=cal.cold_init_s,
        warm_start_s=cal.dispatch_s,
        net_mb_s=cal.net_mb_s * (link.remote_mbit / link.local_mbit if remote else 1.0),
        request_s=link.remote_latency_s if remote else 0.0,
        max_cores=cal.host_cores,
        timeout_s=timeout_s,
        scale_per_10s=None,
        account_concurrency=None,
        warm_envs=warm,
        init_billed=False,
    )


def predict_run(
    run: pd.Series, calls: pd.DataFrame, cal: Calibration, link: Link, object_mb: float
) -> tuple[float, str]:
    """Predicted wall time and status of one measured run (``object_mb``: the staged objects' size)."""
    measured = calls[calls["phase"].isin(["map", "reduce"])]
    conc = max_concurrency(int(run["memory_mb"]), cal.host_cores)
    warm = max(0, conc - int(measured["cold_start"].fillna(False).astype(bool).sum()))
    platform = host_platform(
        cal, int(run["memory_mb"]), run["locality"] or "local", link, float(run["timeout_s"]), warm
    )
    from aqbench.kernels import MULTI_THREADED

    cost = replace(cal.cost, map_cpu_s_per_mb=cal.kernel_cpu_s_per_mb.get(run["kernel"], cal.cost.map_cpu_s_per_mb),
                   threaded=run["kernel"] in MULTI_THREADED)  # fmt: skip
    objects = int(run["objects"])
    chunksize = run.get("chunksize")  # runs before Lithops' chunksize was a setting ran one activation a worker
    job = JobSpec(objects, object_mb, min(int(run["objects_per_call"]), objects), int(run["memory_mb"]),
                  int(run["reducers"]), chunksize=int(chunksize) if pd.notna(chunksize) else 1)  # fmt: skip
    result = simulate(job, platform, cost)
    return result.wall_s, result.status


def validate(metrics: Path, link: Link, bench: Path | None = None) -> tuple[pd.DataFrame, Calibration]:
    """Predicted against measured wall time, one row per measured configuration (medians of its runs)."""
    cal = calibrate(metrics, link.local_mbit, LOOPBACK_MONITORING_INTERVAL_S, bench, CALIBRATION_EXPERIMENTS)
    calls, runs, _ = measured_calls(metrics)  # every experiment: the held-out ones are the check
    runs = runs[runs["status"].isin(["ok", "timeout"])]
    done = runs[runs["bytes"] > 0]
    object_mb = float((done["bytes"] / done["objects"]).median() / 1e6)  # a timed-out run read nothing
    rows = []
    for _, run in runs.iterrows():
        wall, status = predict_run(run, calls[calls["run_id"] == run["run_id"]], cal, link, object_mb)
        predicted = "ok" if status == "success" else status
        chunksize = run.get("chunksize")  # runs made before chunksize was a setting ran one activation a worker
        rows.append({**{k: run[k] for k in CONFIG}, "chunksize": int(chunksize) if pd.notna(chunksize) else 1,
                     "measured_s": run["wall_s"], "predicted_s": wall,
                     "measured_status": run["status"], "predicted_status": predicted})  # fmt: skip
    table = pd.DataFrame(rows)
    table["locality"] = table["locality"].fillna("local")
    grouped = table.groupby([*CONFIG, "chunksize"], dropna=False).agg(
        runs=("measured_s", "size"),
        measured_s=("measured_s", "median"),
        predicted_s=("predicted_s", "median"),
        measured_status=("measured_status", "first"),
        predicted_status=("predicted_status", "first"),
    )
    grouped = grouped.reset_index()
    # held out: a configuration of an experiment the calibration did not see, unless the same
    # settings (experiment aside) were among those it saw (e.g. reducers R=1 = objects_per_call 4)
    settings = [c for c in [*CONFIG, "chunksize"] if c != "experiment"]
    seen = {
        tuple(r) for r in grouped.loc[grouped["experiment"].isin(cal.experiments), settings].itertuples(index=False)
    }
    rows = zip(grouped["experiment"], grouped[settings].itertuples(index=False), strict=True)
    grouped["held_out"] = [not (e in cal.experiments or tuple(r) in seen) for e, r in rows]
    grouped["error"] = (grouped["predicted_s"] - grouped["measured_s"]) / grouped["measured_s"]
    # a run stopped by its time limit has no wall time to predict: its status is the check
    grouped.loc[grouped["measured_status"] == "timeout", "error"] = np.nan
    return grouped, cal


@dataclass(frozen=True)
class Verdict:
    median_abs_error: float
    worst_abs_error: float
    configurations: int
    statuses_agree: bool

    def meets(self, median_target: float = 0.15, worst_target: float = 0.30) -> bool:
        return self.statuses_agree and self.median_abs_error <= median_target and self.worst_abs_error <= worst_target


def verdict(table: pd.DataFrame) -> Verdict:
    """The errors over the held-out configurations only (all of them where none is marked)."""
    if "held_out" in table and table["held_out"].any():
        table = table[table["held_out"]]
    errors = table["error"].dropna().abs()
    agree = bool((table["measured_status"] == table["predicted_status"]).all())
    return Verdict(float(errors.median()), float(errors.max()), len(table), agree)
