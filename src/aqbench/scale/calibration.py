"""What the simulation takes from this build's own runs: each figure measured, with its source.

Everything here is a median or a least-squares fit over the calls and runs of
``results/<profile>/metrics`` (Lithops, emulated Lambda, shaped network, data local). Nothing
is chosen by hand; where a profile did not measure something, calibration says what is
missing instead of guessing.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from aqbench.errors import DataError
from aqbench.kernels import VERIFIED
from aqbench.lambda_facts import call_share
from aqbench.scale.model import CallCost


@dataclass(frozen=True)
class Calibration:
    """The measured constants, and where each comes from (``sources``)."""

    cost: CallCost
    kernel_cpu_s_per_mb: dict[str, float]
    net_mb_s: float
    link_mbit: float | None
    """The emulated link the calls ran through; None: unshaped loopback (the projection then takes
    the published per-environment rate)."""
    dispatch_s: float
    cold_init_s: float
    query_s: float
    host_cores: int
    sources: dict[str, str]
    probe_core_mb_s: float | None = None
    """The runs' own probe (the bare parse and group-by on every core) per core, median: the unit
    the per-MB costs are carried in to another machine (:meth:`cpu_factor`)."""
    map_factors: tuple[float, ...] = (1.0,)
    reduce_factors: tuple[float, ...] = (1.0,)
    """Quantiles (0, 0.05, ..., 1) of measured / modelled worker time of the calibrating calls."""
    study_cpu_s_per_mb: float | None = None
    """The study's own code, CPU seconds per MB of its documents (experiment study_code), if run."""
    experiments: tuple[str, ...] = ()
    """The experiments calibrated on (empty: every one)."""
    host_cpu: dict | None = None
    """The calibrating host's CPU (vendor, family, model, name; metrics/environment.json): what its CPU
    seconds are carried to Lambda's from (:func:`aqbench.scale.project.with_cpu_ratio`). None where the
    runs did not record it."""

    @classmethod
    def from_dict(cls, d: dict) -> Calibration:
        """The calibration as :meth:`to_dict` wrote it (``scale/calibration.json``)."""
        per_kernel = d["map_cpu_s_per_mb"]
        cost = CallCost(
            overhead_s=d["overhead_s"],
            map_cpu_s_per_mb=per_kernel.get("arrow", next(iter(per_kernel.values()))),
            reduce_cpu_s_per_mb=d["reduce_cpu_s_per_mb"],
            partial_mb_per_input_mb=d["partial_mb_per_input_mb"],
            job_setup_s=d["job_setup_s"],
            result_s=d["result_s"],
            final_s=d["final_s"],
            reduce_base_mb=d.get("reduce_base_mb", 0.0),
            reduce_mb_per_input_mb=d.get("reduce_mb_per_input_mb", 0.0),
        )
        return cls(
            cost, dict(per_kernel), d["net_mb_s"], d.get("link_mbit"), d["dispatch_s"], d["cold_init_s"],
            d["query_s"], int(d["host_cores"]), dict(d.get("sources", {})), d.get("probe_core_mb_s"),
            tuple(d.get("map_factors", (1.0,))), tuple(d.get("reduce_factors", (1.0,))),
            d.get("study_cpu_s_per_mb"), tuple(d.get("experiments", ())), d.get("host_cpu"),
        )  # fmt: skip

    def cpu_factor(self, target_core_probe_mb_s: float | None) -> float:
        """What this host's CPU seconds are on a core whose probe runs at ``target_core_probe_mb_s``
        per core: a CPU cost per MB times the probe's rate is a host-independent amount of work."""
        if not target_core_probe_mb_s or not self.probe_core_mb_s:
            return 1.0
        return self.probe_core_mb_s / target_core_probe_mb_s

    def to_dict(self) -> dict:
        return {
            "overhead_s": self.cost.overhead_s,
            "map_cpu_s_per_mb": self.kernel_cpu_s_per_mb,
            "reduce_cpu_s_per_mb": self.cost.reduce_cpu_s_per_mb,
            "partial_mb_per_input_mb": self.cost.partial_mb_per_input_mb,
            "job_setup_s": self.cost.job_setup_s,
            "result_s": self.cost.result_s,
            "final_s": self.cost.final_s,
            "reduce_base_mb": self.cost.reduce_base_mb,
            "reduce_mb_per_input_mb": self.cost.reduce_mb_per_input_mb,
            "net_mb_s": self.net_mb_s,
            "link_mbit": self.link_mbit,
            "dispatch_s": self.dispatch_s,
            "cold_init_s": self.cold_init_s,
            "query_s": self.query_s,
            "host_cores": self.host_cores,
            "probe_core_mb_s": self.probe_core_mb_s,
            "map_factors": list(self.map_factors),
            "reduce_factors": list(self.reduce_factors),
            "study_cpu_s_per_mb": self.study_cpu_s_per_mb,
            "experiments": list(self.experiments),
            "host_cpu": self.host_cpu,
            "sources": self.sources,
        }


def worker_seconds(calls: pd.DataFrame) -> pd.Series:
    """A call's time in its environment as Lambda would bill it: Lithops' handler from start to end."""
    return calls["lithops_worker_end_tstamp"] - calls["lithops_worker_start_tstamp"]


def host_share(
    memory_mb: pd.Series | np.ndarray, cores: int, mb_per_vcpu: float | None = None, kernels: pd.Series | None = None
) -> np.ndarray:
    """The emulation's CPU share: the cgroup's memory over MB per vCPU (Lambda's facts) of a core; from
    two vCPUs a threaded kernel (``kernels``: each call's; None: threaded) uses threads, up to the
    host's cores."""
    from aqbench.kernels import MULTI_THREADED

    memory = np.asarray(memory_mb, dtype=float)
    threaded = [True] * len(memory) if kernels is None else [k in MULTI_THREADED for k in kernels]
    return np.array([call_share(m, cores if t else 1, mb_per_vcpu) for m, t in zip(memory, threaded, strict=True)])


CALIBRATION_EXPERIMENTS = ("objects_per_call", "kernels")
"""What the simulation is calibrated on: calls of one to eight objects (the fixed part and the
network's rate are a line through them) and both verified kernels (their CPU per MB). Every other
experiment (memory sizes, warm-up, reducers, data size, locality, timeout) is held out: the
validation reports only those."""


def measured_calls(
    metrics: Path, experiments: tuple[str, ...] | None = None
) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    """The profile's Lithops calls and runs that ran as emulated Lambdas on a shaped link, with data
    local (``experiments``: only theirs)."""
    calls = pd.read_parquet(metrics / "calls.parquet")
    runs = pd.read_parquet(metrics / "runs.parquet")
    if experiments:
        calls, runs = calls[calls["experiment"].isin(experiments)], runs[runs["experiment"].isin(experiments)]
    env = json.loads((metrics / "environment.json").read_text()) if (metrics / "environment.json").exists() else {}
    # the verified kernels' (the study's own code reads another layout and is not calibrated on)
    keep = (calls["engine"] == "lithops") & calls["emulated"].fillna(False).astype(bool)
    keep &= calls.get("kernel", pd.Series("arrow", index=calls.index)).isin(VERIFIED)
    shaped = calls.get("network_emulated", pd.Series(False, index=calls.index)).fillna(False).astype(bool)
    if (keep & shaped).any():  # without CAP_NET_ADMIN the runs went unshaped, and say so
        keep &= shaped
    calls = calls[keep].copy()
    env["shaped"] = bool(shaped[keep].any()) if keep.any() else False
    runs = runs[(runs["engine"] == "lithops") & runs["emulated"].fillna(False).astype(bool)]
    runs = runs[runs.get("kernel", pd.Series("arrow", index=runs.index)).isin(VERIFIED)].copy()
    if calls.empty:
        raise DataError(
            f"{metrics}: no emulated Lithops calls to calibrate from: run the profile's Lithops experiments"
        )
    return calls, runs, env


def reducer_memory(bench: Path | None, partial_mb_per_input_mb: float) -> tuple[float, float, str]:
    """A reducer's peak memory as base + slope × MB merged: the line through the kernel bench's two
    merges of ``fan_in`` partials (one of R reducers, and a single one); (0, 0) without the bench."""
    if bench is None or not bench.exists():
        return 0.0, 0.0, "not modelled (no kernel bench)"
    b = json.loads(bench.read_text())
    keys = ("merge_r1_peak_rss_mb", f"merge_r{b.get('reducers')}_peak_rss_mb", "fan_in", "object_mb")
    if not all(k in b for k in keys):
        return 0.0, 0.0, "not modelled (the kernel bench has no merges)"
    whole = b["fan_in"] * b["object_mb"] * partial_mb_per_input_mb  # MB of partials a single reducer merges
    one_of_r = whole / b["reducers"]
    slope = (b["merge_r1_peak_rss_mb"] - b[keys[1]]) / (whole - one_of_r)
    base = b[keys[1]] - slope * one_of_r
    return (
        float(base),
        float(slope),
        (
            f"line through the kernel bench's merges of {b['fan_in']} partials: one of {b['reducers']} reducers "
            f"{b[keys[1]]:.0f} MB, a single reducer {b['merge_r1_peak_rss_mb']:.0f} MB peak"
        ),
    )


QUANTILES = np.linspace(0, 1, 21)
"""The residuals kept: every 5th percentile of measured / modelled time."""


def _study_cpu(metrics: Path) -> float | None:
    """CPU seconds per MB of the study's own code on its documents (experiment study_code)."""
    calls = pd.read_parquet(metrics / "calls.parquet")
    maps = calls[(calls["kernel"] == "study") & (calls["phase"] == "map") & (calls["status"] == "success")]
    maps = maps[maps["bytes_read"] > 0]
    if maps.empty:
        return None
    return float(((maps["cpu_user_s"] + maps["cpu_system_s"]) / (maps["bytes_read"] / 1e6)).median())


def _probe_per_core(runs: pd.DataFrame, cores: int) -> float | None:
    cols = [c for c in ("probe_before_mb_s", "probe_after_mb_s") if c in runs]
    values = runs[cols].stack().dropna() if cols else pd.Series(dtype=float)
    values = values[values > 0]
    return float(values.median() / cores) if len(values) else None


def calibrate(
    metrics: Path,
    link_mbit: float,
    poll_s: float,
    bench: Path | None = None,
    experiments: tuple[str, ...] | None = CALIBRATION_EXPERIMENTS,
) -> Calibration:
    """Fit the per-call model to the profile's own calls; ``link_mbit``: the emulated link's rate
    (lithops.network.local_mbit), ``poll_s``: the monitoring interval its runs used; ``bench``: the
    kernel bench's JSON (a reducer's memory); ``experiments``: the runs calibrated on (None: all)."""
    calls, runs, env = measured_calls(metrics, experiments)
    cores = int(env.get("cores") or 2)
    ok = calls[(calls["status"] == "success") & (calls["locality"].fillna("local") == "local")]
    maps = ok[(ok["phase"] == "map") & (ok["bytes_read"] > 0)]
    reds = ok[ok["phase"] == "reduce"]
    mb = maps["bytes_read"] / 1e6
    cpu = maps["cpu_user_s"] + maps["cpu_system_s"]
    per_kernel = (cpu / mb).groupby(maps["kernel"]).median().to_dict()
    # worker time = overhead + MB/net + MB*cpu_per_mb/share: the CPU part is measured per call, so a
    # straight line through what is left gives the fixed part (intercept) and 1/net (slope)
    share = host_share(maps["memory_mb"], cores, kernels=maps["kernel"])
    rest = worker_seconds(maps) - mb * maps["kernel"].map(per_kernel) / share
    if mb.max() < 1.5 * mb.min():
        raise DataError(f"{metrics}: every map call read about {mb.median():.0f} MB; calibration needs calls of "
                        "several sizes (the objects_per_call experiment)")  # fmt: skip
    slope, intercept = np.polyfit(mb, rest, 1)
    modelled = intercept + slope * mb + mb * maps["kernel"].map(per_kernel) / share
    map_factors = np.quantile(worker_seconds(maps) / modelled, QUANTILES)
    red_mb = reds["bytes_read"] / 1e6
    red_cpu = ((reds["cpu_user_s"] + reds["cpu_system_s"]) / red_mb).median()
    red_model = intercept + slope * red_mb + red_mb * red_cpu / host_share(reds["memory_mb"], cores)
    red_ratio = (worker_seconds(reds) / red_model).dropna()
    reduce_factors = np.quantile(red_ratio, QUANTILES) if len(red_ratio) else np.ones(1)
    partial = (maps["bytes_written"] / maps["bytes_read"]).median()

    jobs = ok.groupby(["run_id", "phase"])
    setup = (jobs["lithops_host_submit_tstamp"].min() - jobs["lithops_host_job_create_tstamp"].min()).median()
    first = jobs.apply(lambda g: g.loc[g["lithops_worker_start_tstamp"].idxmin()], include_groups=False)
    warm_first = first[~first["cold_start"].fillna(False).astype(bool)]
    dispatch = (warm_first["lithops_worker_start_tstamp"] - warm_first["lithops_host_submit_tstamp"]).median()
    notice = (ok["lithops_host_status_done_tstamp"] - ok["lithops_worker_end_tstamp"]).median()
    result = (ok["lithops_host_result_done_tstamp"] - ok["lithops_host_status_done_tstamp"]).median()
    spans = jobs["lithops_host_result_done_tstamp"].max() - jobs["lithops_host_job_create_tstamp"].min()
    per_run = spans.groupby(level="run_id").sum()
    walls = runs.set_index("run_id")["wall_s"]
    final = (walls.reindex(per_run.index) - per_run).dropna().median()
    cold_calls = ok[ok["cold_start"].fillna(False).astype(bool)]
    cold, n_cold = cold_calls["init_s"].median(), len(cold_calls)

    mem_base, mem_slope, mem_source = reducer_memory(bench, float(partial))
    cost = CallCost(
        overhead_s=float(intercept),
        map_cpu_s_per_mb=float(per_kernel.get("arrow", next(iter(per_kernel.values())))),
        reduce_cpu_s_per_mb=float(red_cpu),
        partial_mb_per_input_mb=float(partial),
        job_setup_s=float(setup),
        result_s=float(result + max(0.0, notice - poll_s / 2)),
        final_s=float(max(0.0, final)),
        reduce_base_mb=mem_base,
        reduce_mb_per_input_mb=mem_slope,
    )
    n_map, n_red, n_runs = len(maps), len(reds), len(per_run)
    sources = {
        "overhead_s": f"intercept of a least-squares line through {n_map} map calls' worker time less their CPU part",
        "net_mb_s": "1 / slope of that line, "
        + (f"through the {link_mbit:g} Mbit/s emulated link" if env["shaped"] else "on unshaped loopback"),
        "map_cpu_s_per_mb": f"median CPU seconds (user+system) per MB read, {n_map} map calls, by kernel",
        "reduce_cpu_s_per_mb": f"median CPU seconds per MB of partials read, {n_red} reduce calls",
        "partial_mb_per_input_mb": "median bytes written / bytes read of the map calls",
        "job_setup_s": "median first submit - job creation, per job (Lithops' statistics)",
        "dispatch_s": "median submit - worker start of each job's first call on a warm environment",
        "cold_init_s": f"median init_s of the {n_cold} cold calls",
        "query_s": f"median status noticed - worker end, less half the {poll_s:g} s polling interval",
        "result_s": "median result fetched - status noticed, plus query_s",
        "final_s": f"median run wall time - its jobs' spans, {n_runs} runs",
        "host_cores": "metrics/environment.json",
        "host_cpu": "metrics/environment.json (/proc/cpuinfo's vendor, family, model and name where recorded)",
        "reduce_memory": mem_source,
        "probe_core_mb_s": "median of the calibrating runs' probes (before and after), per core",
        "map_factors": "every 5th percentile of the map calls' worker time over the fitted model's",
        "reduce_factors": "every 5th percentile of the reduce calls' worker time over the model's",
        "study_cpu_s_per_mb": "median CPU seconds per MB of the study_code experiment's map calls",
        "experiments": "the experiments calibrated on; every other one is held out"
        if experiments
        else "every experiment",
    }
    return Calibration(
        cost,
        {k: float(v) for k, v in per_kernel.items()},
        float(1 / slope) if slope > 0 else float("inf"),
        link_mbit if env["shaped"] else None,
        float(dispatch),
        float(cold),
        float(max(0.0, notice - poll_s / 2)),
        cores,
        sources,
        _probe_per_core(runs, cores),
        tuple(float(x) for x in map_factors),
        tuple(float(x) for x in reduce_factors),
        _study_cpu(metrics),
        tuple(experiments or ()),
        _host_cpu(env),
    )


def _host_cpu(env: dict) -> dict | None:
    """The CPU the runs recorded (runs.environment), None where only a name was (older records)."""
    keys = ("cpu_vendor", "cpu_family", "cpu_model", "cpu_name")
    return {k: env[k] for k in keys} if all(k in env for k in keys) else None
