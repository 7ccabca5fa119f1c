"""One plotting function per figure; each reads only the metrics tables it names.

Compute and plot are separate steps: restyling a figure reruns only its rule.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from importlib import resources
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from aqbench import experiments as ex
from aqbench.lambda_facts import facts
from aqbench.report.figure_names import FIGURES, SCALE_FIGURES

ENGINE_COLOURS = {"lithops": "#d95f02", "dask": "#1b9e77", "duckdb": "#7570b3", "polars": "#e6ab02"}
MEMORY_COLOURS = {1024: "#1b9e77", 1769: "#7570b3", 2048: "#d95f02", 3538: "#e7298a", 10240: "#66a61e"}
"""One colour per memory size wherever a figure tells them apart."""
plt.rcParams.update(
    {"figure.dpi": 110, "font.size": 8, "axes.spines.top": False, "axes.spines.right": False, "savefig.bbox": "tight"}
)


class Inputs:
    """The metrics tables and other inputs a figure may use, loaded on demand."""

    def __init__(
        self,
        metrics_dir: Path,
        reference: Path | None = None,
        bench: Path | None = None,
        scale: Path | None = None,
        engines_bench: Path | None = None,
    ):
        self.dir, self.reference, self.bench, self.scale = metrics_dir, reference, bench, scale
        self.engines_bench = engines_bench

    def table(self, name: str) -> pd.DataFrame:
        return pd.read_parquet(self.dir / f"{name}.parquet")


def _lithops(df: pd.DataFrame, experiment: str) -> pd.DataFrame:
    return df[(df["engine"] == "lithops") & (df["experiment"] == experiment)]


def _empty(ax, text: str) -> None:
    ax.text(0.5, 0.5, text, ha="center", va="center", transform=ax.transAxes, color="grey")


def call_durations(inp: Inputs):
    """Per-call duration (min/avg/max) over the job's time, per memory size."""
    calls = _lithops(inp.table("calls"), ex.MEMORY)
    calls = calls[calls["phase"] == "map"].dropna(subset=["t_start", "duration_s"])
    fig, ax = plt.subplots(figsize=(6, 3))
    for mem, group in calls.groupby("memory_mb"):
        group = group.assign(t=group["t_start"] - group.groupby("run_id")["t_submit"].transform("min"))
        bins = np.linspace(0, group["t"].max() + 1e-9, 12)
        group["bin"] = np.digitize(group["t"], bins)
        stats = group.groupby("bin").agg(
            t=("t", "mean"), lo=("duration_s", "min"), mean=("duration_s", "mean"), hi=("duration_s", "max")
        )
        colour = MEMORY_COLOURS.get(int(mem), "0.4")
        ax.plot(stats["t"], stats["mean"], marker="o", ms=3, label=f"{mem} MB", color=colour)
        ax.fill_between(stats["t"], stats["lo"], stats["hi"], color=colour, alpha=0.2)
    ax.set(
        xlabel="time since the job's first call was submitted (s)",
        ylabel="call duration (s)",
        title="Map call duration over time: mean, band = min to max",
    )
    ax.legend(title="Lambda memory") if len(calls) else _empty(ax, "no memory experiment")
    return fig


def cpu_network(inp: Inputs):
    """CPU use and network use of the map calls over the job's time, per memory size, as the study
    showed them: the median of the calls running in each stretch of time, and Lambda's CPU share."""
    calls = _lithops(inp.table("calls"), ex.MEMORY)
    calls = calls[calls["phase"] == "map"].dropna(subset=["t_start", "duration_s"])
    calls = calls.assign(rate=calls["bytes_read"] / calls["duration_s"] / 1e6)
    fig, (a, b) = plt.subplots(1, 2, figsize=(6.5, 2.8), sharex=True)
    for mem, group in calls.groupby("memory_mb"):
        group = group.assign(t=group["t_start"] - group.groupby("run_id")["t_submit"].transform("min"))
        group["bin"] = np.digitize(group["t"], np.linspace(0, group["t"].max() + 1e-9, 10))
        stats = group.groupby("bin").agg(t=("t", "mean"), cpu=("cpu_usage", "median"), rate=("rate", "median"))
        colour = MEMORY_COLOURS.get(int(mem), "0.4")
        a.plot(stats["t"], stats["cpu"], marker="o", ms=3, color=colour, label=f"{int(mem)} MB")
        a.axhline(facts().vcpus(mem), color=colour, ls="--", lw=0.8)
        b.plot(stats["t"], stats["rate"], marker="o", ms=3, color=colour, label=f"{int(mem)} MB")
    a.set(xlabel="time since submission (s)", ylabel="CPU used (cores)", title="CPU per call (dashed: share)")
    b.set(xlabel="time since submission (s)", ylabel="MB read per second of call", title="Network per call")
    a.legend(fontsize=7) if len(calls) else _empty(a, "no memory experiment")
    return fig


def network_transmission(inp: Inputs):
    """Bytes moved by the job over time: object reads by maps, partials by reducers; one line per
    run, coloured by the reduce."""
    calls = _lithops(inp.table("calls"), ex.REDUCERS).dropna(subset=["t_end"])
    fig, ax = plt.subplots(figsize=(6, 2.8))
    colours = ("#1b9e77", "#d95f02", "#7570b3", "#e7298a")
    for index, (reducers, runs) in enumerate(calls.groupby("reducers")):
        for n, (_run, group) in enumerate(runs.groupby("run_id")):
            group = group.sort_values("t_end")
            t = group["t_end"] - group["t_submit"].min()
            moved = (group["bytes_read"].fillna(0) + group["bytes_written"].fillna(0)).cumsum() / 1e6
            label = f"R = {int(reducers)} ({runs['run_id'].nunique()} runs)" if n == 0 else None
            ax.step(t, moved, where="post", alpha=0.7, color=colours[index % len(colours)], label=label)
    if len(calls):
        memory, opc = int(calls["memory_mb"].iloc[0]), int(calls["objects_per_call"].iloc[0])
        ax.legend(title="reducers", fontsize=7)
        title = f"Bytes a job moves: reducers experiment, {memory} MB, {opc} objects per call"
    else:
        _empty(ax, "no reducers experiment")
        title = "Bytes a job moves"
    ax.set(xlabel="time since the job's submission (s)", ylabel="MB read + written (cumulative)", title=title)
    ax.set_ylim(bottom=0)
    return fig


def memory_use(inp: Inputs):
    """Peak resident memory per call against the Lambda memory size; beside it, the study's
    "occupied memory" with local and with non-local data (the data_locality experiment's maps).
    The axis is the calls' own range: each memory size's limit is written above its box."""
    calls = inp.table("calls")
    calls = calls[(calls["engine"] == "lithops") & calls["peak_rss_mb"].notna()]
    fig, (ax, side) = plt.subplots(1, 2, figsize=(6.5, 3), gridspec_kw={"width_ratios": [3, 1.3]})
    sizes = sorted(int(m) for m in calls["memory_mb"].unique())
    for offset, (phase, colour) in enumerate((("map", "#d95f02"), ("reduce", "#7570b3"))):
        data = [calls[(calls["phase"] == phase) & (calls["memory_mb"] == m)]["peak_rss_mb"] for m in sizes]
        positions = np.arange(len(sizes)) + (offset - 0.5) * 0.36
        kept = [(x, d) for x, d in zip(positions, data, strict=True) if len(d)]
        if kept:
            box = ax.boxplot([d for _, d in kept], positions=[x for x, _ in kept], widths=0.3, patch_artist=True)
            for patch in box["boxes"]:
                patch.set(facecolor=colour, alpha=0.5)
            ax.plot([], [], color=colour, lw=6, alpha=0.5, label=f"{phase} calls")
    if len(calls):
        top = float(calls["peak_rss_mb"].max())
        ax.set_ylim(0, top * 1.3)
        for x, m in enumerate(sizes):
            ax.text(x, top * 1.2, f"limit {m} MB", ha="center", fontsize=6.5, color="0.3")
        ax.set_xticks(range(len(sizes)), [f"{m} MB" for m in sizes], fontsize=7)
        ax.legend(fontsize=7, loc="lower right")
    ax.set(xlabel="Lambda memory", ylabel="peak RSS of the call (MB)", title="Occupied memory per call")
    maps = _lithops(calls, ex.DATA_LOCALITY)
    maps = maps[maps["phase"] == "map"]
    where = maps["locality"].fillna("local") if "locality" in maps else pd.Series("local", index=maps.index)
    groups = [(w, maps[where == w]["peak_rss_mb"]) for w in ("local", "remote")]
    groups = [(w, g) for w, g in groups if len(g)]
    if groups:
        side.boxplot([g for _, g in groups], tick_labels=[f"{w} data" for w, _ in groups], widths=0.5)
        memory = int(maps["memory_mb"].mode().iloc[0])
        side.set(title=f"map calls, {memory} MB", ylabel="peak RSS (MB)")
        side.set_ylim(0, float(maps["peak_rss_mb"].max()) * 1.15)
    else:
        _empty(side, "no data_locality runs")
    fig.tight_layout()
    return fig


def start_latency(calls: pd.DataFrame) -> pd.Series:
    """Seconds from a call's dispatch to an environment to its function's start.

    Not from submission: on this host calls beyond the cores' concurrency wait in Lithops'
    queue, where Lambda would start more environments; the dispatch time excludes that wait.
    Rows without one (a process per call) count from submission.
    """
    dispatched = calls["t_dispatch"] if "t_dispatch" in calls else pd.Series(np.nan, index=calls.index)
    return calls["t_start"] - dispatched.fillna(calls["t_submit"])


def cold_warm(inp: Inputs):
    """The warm-up experiment: call duration and start latency of cold and warm calls, per memory size."""
    calls = _lithops(inp.table("calls"), ex.WARMUP)
    calls = calls[calls["phase"].isin(["warmup", "map"])].dropna(subset=["t_start", "t_submit", "duration_s"])
    # per object: a warm-up activation reads one object, a measured call objects_per_call of them
    calls = calls.assign(latency=start_latency(calls), per_object=calls["duration_s"] / calls["objects"].clip(lower=1))
    fig, axes = plt.subplots(1, 2, figsize=(7, 2.8))
    sizes = sorted(calls["memory_mb"].dropna().unique())
    if not len(calls):
        for ax in axes:
            _empty(ax, "no warm-up experiment")
        return fig
    width = 0.38
    # greys: the engines and memory sizes own the colours
    for offset, (cold, label, colour) in enumerate(((True, "cold start", "0.25"), (False, "warm", "0.7"))):
        sub = calls[calls["cold_start"].fillna(False).astype(bool) == cold]
        x = np.arange(len(sizes)) + (offset - 0.5) * width
        for ax, values in (
            (axes[0], sub["latency"]),
            (axes[1], sub["per_object"]),
        ):
            data = [values[sub["memory_mb"] == m].dropna() for m in sizes]
            med = np.array([d.median() if len(d) else np.nan for d in data])
            q1 = np.array([d.quantile(0.25) if len(d) else np.nan for d in data])
            q3 = np.array([d.quantile(0.75) if len(d) else np.nan for d in data])
            ax.bar(x, med, width, yerr=[med - q1, q3 - med], color=colour, label=label, capsize=2)
            for xi, d, top in zip(x, data, q3, strict=True):
                if len(d):
                    ax.text(xi, top, f"n={len(d)}", ha="center", va="bottom", fontsize=5.5, color="0.3")
    labels = ("start latency: dispatch to function (s)", "call duration per object read (s)")
    for ax, ylabel in zip(axes, labels, strict=True):
        ax.set_xticks(range(len(sizes)), [f"{int(m)} MB" for m in sizes])
        ax.set(xlabel="Lambda memory", ylabel=ylabel)
    axes[0].legend(fontsize=7)
    fig.suptitle("Warm-up job (cold calls) then measured job (warm): median, bars: quartiles", fontsize=8)
    return fig


def locality(inp: Inputs):
    """The study's local vs non-local data: CPU, network rate and occupied memory per call."""
    calls = _lithops(inp.table("calls"), ex.DATA_LOCALITY)
    calls = calls[calls["phase"] == "map"]
    fig, axes = plt.subplots(1, 3, figsize=(7.5, 2.6))
    places = [p for p in ("local", "remote") if p in set(calls.get("locality", pd.Series(dtype=object)))]
    if not places:
        for ax in axes:
            _empty(ax, "no data-locality experiment")
        return fig
    received = calls["net_recv_bytes"].where(calls["net_recv_bytes"].notna(), calls["bytes_read"])
    rate = received / calls["duration_s"] / 1e6
    labels = ["local data" if p == "local" else "non-local data" for p in places]
    for ax, values, ylabel in (
        (axes[0], calls["cpu_usage"], "CPU used (cores)"),
        (axes[1], rate, "network in (MB/s)"),
        (axes[2], calls["peak_rss_mb"], "peak RSS (MB)"),
    ):
        ax.boxplot([values[calls["locality"] == p].dropna() for p in places], tick_labels=labels)
        ax.set_ylabel(ylabel)
        ax.set_ylim(0, float(values.max()) * 1.15 if values.notna().any() else 1)
    fig.suptitle("Per call, local vs non-local data", fontsize=8)
    return fig


def call_timeline(inp: Inputs):
    """Lifetimes of the calls of one run per objects-per-call setting (Gantt)."""
    calls = _lithops(inp.table("calls"), ex.OBJECTS_PER_CALL).dropna(subset=["t_start", "t_end"])
    runs = calls.groupby("objects_per_call")["run_id"].first()
    fig, axes = plt.subplots(len(runs) or 1, 1, figsize=(6, 1.2 + 0.9 * max(1, len(runs))), sharex=True, squeeze=False)
    for ax, (opc, run) in zip(axes[:, 0], runs.items(), strict=False):
        group = calls[calls["run_id"] == run].sort_values("t_start")
        t0 = group["t_submit"].min()
        for i, c in enumerate(group.itertuples()):
            ax.plot([c.t_start - t0, c.t_end - t0], [i, i], color="#d95f02" if c.phase == "map" else "#7570b3", lw=2)
        ax.set_ylabel(f"{int(opc)} obj/call\ncall", fontsize=7)
        ax.set_yticks(sorted({0, len(group) - 1}), [str(t + 1) for t in sorted({0, len(group) - 1})], fontsize=6)
        ax.set_ylim(-1, len(group))
    axes[-1, 0].set_xlabel("seconds since the job's submission (orange: map, purple: reduce; one run per setting)")
    axes[0, 0].set_title("Call lifetimes, calls in order of their start (queueing on this host not drawn)")
    return fig


def worker_lifetimes(inp: Inputs):
    """The study's "Lambdas lifetime": each worker (one Lambda invocation) of the warm-up job, its
    activations one after another, per memory size (one run each)."""
    calls = _lithops(inp.table("calls"), ex.WARMUP)
    calls = calls[calls["phase"] == "warmup"].dropna(subset=["t_start", "t_end"])
    chunked = "position" in calls and calls["position"].notna().any()
    runs = calls.groupby("memory_mb")["run_id"].first() if chunked else pd.Series(dtype=object)
    fig, axes = plt.subplots(max(1, len(runs)), 1, figsize=(6, 1.2 + 1.1 * max(1, len(runs))), sharex=True,
                             squeeze=False)  # fmt: skip
    if not chunked:
        _empty(axes[0, 0], "no worker data: these runs were made before chunksize was a setting")
        return fig
    shades = ("#d95f02", "#fdae6b")  # alternate activations of one worker
    for ax, (memory, run) in zip(axes[:, 0], runs.items(), strict=False):
        group = calls[calls["run_id"] == run]
        t0 = group["t_submit"].min()
        order = group.groupby("invocation")["t_start"].min().sort_values().index
        for row, invocation in enumerate(order):
            acts = group[group["invocation"] == invocation].sort_values("position")
            first = acts.iloc[0]
            ax.plot([first.t_submit - t0, first.t_start - t0], [row, row], color="#bbbbbb", lw=1)
            for a in acts.itertuples():
                ax.plot([a.t_start - t0, a.t_end - t0], [row, row], color=shades[int(a.position) % 2], lw=3,
                        solid_capstyle="butt")  # fmt: skip
        ax.set_ylabel(f"{int(memory)} MB\n{len(order)} Lambdas", fontsize=7)
        ax.set_yticks([])
    axes[-1, 0].set_xlabel("seconds since submission (grey: waiting; dark, light: a worker's activations in turn)")
    per = calls.groupby(["run_id", "invocation"])["call"].size().median()
    axes[0, 0].set_title(f"Lambdas' lifetimes in the warm-up: {per:.0f} activations a worker")
    return fig


def study_cost(inp: Inputs):
    """The study's cost, in its units: what its warm-up (1979 activations of one 25 MB object each)
    is billed at each memory size, from each kernel's measured billed cost per activation on the
    same records (experiments study_code and study_objects), beside the study's own bill."""
    from aqbench.report import study
    from aqbench.report.study_code import OBJECT_MB, _maps

    calls = inp.table("calls")
    fig, ax = plt.subplots(figsize=(6, 3.2))
    study_maps = _maps(calls, "study") if "call_cost_usd" in calls else pd.DataFrame()
    if not len(study_maps):
        _empty(ax, "no study_code runs")
        return fig
    doc_bytes = study_maps.groupby("call")["bytes_read"].first()  # activation i reads object i in both
    colours = {"study": "#d95f02", "seed": "#7570b3", "arrow": "#1b9e77"}
    for kernel, experiment in (("study", ex.STUDY_CODE), ("seed", ex.STUDY_OBJECTS), ("arrow", ex.STUDY_OBJECTS)):
        maps = _maps(calls, kernel, experiment)
        maps = maps[maps["call"].isin(doc_bytes.index) & maps["call_cost_usd"].notna()]
        if not len(maps):
            continue
        per = maps["call_cost_usd"] / (maps["call"].map(doc_bytes) / 1e6) * OBJECT_MB * study.WARMUP_ACTIVATIONS
        by = per.groupby(maps["memory_mb"])
        mid, lo, hi = by.median(), by.min(), by.max()
        label = "the study's code" if kernel == "study" else f"{kernel} kernel (same records)"
        ax.errorbar(mid.index, mid, yerr=[mid - lo, hi - mid], marker="o", capsize=3, color=colours[kernel],
                    label=label)  # fmt: skip
    ax.axhline(study.BILL_USD, color="0.4", ls=":", lw=1)
    ax.annotate(f"the study's bill: ${study.BILL_USD:.2f} (two days of testing)", (0.01, study.BILL_USD),
                xycoords=("axes fraction", "data"), fontsize=7, va="bottom", color="0.3")  # fmt: skip
    ax.set(
        yscale="log",
        xlabel="Lambda memory (MB)",
        xticks=sorted(study_maps["memory_mb"].unique()),
        ylabel="USD for one pass (1979 activations)",
        title=f"The study's warm-up, billed: {study.WARMUP_ACTIVATIONS} activations of a {OBJECT_MB} MB object",
    )
    ax.legend(fontsize=7, loc="center right")
    return fig


def cost(inp: Inputs):
    """Cost of a run per configuration, as if on AWS."""
    s = inp.table("summary")
    s = s[s["status"] == "ok"].sort_values(["engine", "experiment", "memory_mb"])
    fig, ax = plt.subplots(figsize=(6.5, 0.9 + 0.16 * len(s)))  # a readable line per configuration
    labels = [
        (
            f"{r.engine} {r.experiment}, {r.kernel}, one process"
            if r.engine in ("duckdb", "polars")
            else f"{r.engine} {r.experiment}, {r.kernel}, "
            + (f"{int(r.memory_mb)} MB" if r.engine == "lithops" else f"{int(r.workers)} x {int(r.memory_mb)} MB")
        )
        + (f", {int(r.objects_per_call)} obj/call" if r.objects_per_call > 1 else "")
        + (f", R={int(r.reducers)}" if r.reducers > 1 else "")
        + (f", {r.fraction:.0%} of data" if r.fraction < 1 else "")
        + (f", {r.locality}" if getattr(r, "locality", "local") == "remote" else "")
        for r in s.itertuples()
    ]
    ax.barh(
        range(len(s)),
        s["cost_usd"] * 1e3,
        color=[ENGINE_COLOURS[e] for e in s["engine"]],
        xerr=[(s["cost_usd"] - s["cost_usd_lo"]) * 1e3, (s["cost_usd_hi"] - s["cost_usd"]) * 1e3],
    )
    ax.set_yticks(range(len(s)), labels, fontsize=7)
    ax.invert_yaxis()
    ax.set(xlabel="cost of one run (thousandths of a USD, as if on AWS)", title="Cost per configuration")
    from matplotlib.patches import Patch

    handles = [Patch(color=colour, label=e) for e, colour in ENGINE_COLOURS.items() if e in set(s["engine"])]
    ax.legend(handles=handles, fontsize=7, loc="upper right")
    return fig


def scaled_utilisation(inp: Inputs):
    """The study's scaled CPU utilisation per memory size."""
    calls = _lithops(inp.table("calls"), ex.MEMORY)
    calls = calls[calls["phase"] == "map"]
    sizes = sorted(calls["memory_mb"].dropna().unique())
    fig, ax = plt.subplots(figsize=(4.5, 3))
    ax.boxplot(
        [calls[calls["memory_mb"] == m]["scaled_utilisation"].dropna() for m in sizes],
        tick_labels=[str(int(m)) for m in sizes],
    )
    ax.axhline(1.0, color="k", lw=0.8, ls="--")
    ax.set(
        xlabel="Lambda memory (MB)",
        ylabel="utilisation × cores / vCPUs",
        title="Scaled CPU utilisation (1 = the whole share used)",
    )
    return fig


def _borders(ax) -> None:
    data = json.loads(resources.files("aqbench.report").joinpath("data/central_europe.geojson").read_text())
    for feature in data["features"]:
        for polygon in feature["geometry"]["coordinates"]:
            ring = np.array(polygon[0])
            ax.plot(ring[:, 0], ring[:, 1], color="#888888", lw=0.5)


def _pm10_map(inp: Inputs, column: str, title: str):
    agg = pd.read_csv(inp.reference, keep_default_na=False, na_values={"latitude": [""], "longitude": [""]})
    pl = agg[(agg["country"] == "PL") & (agg["parameter"] == "pm10") & agg["latitude"].notna()]
    days = sorted(pl["day"].unique())
    windows = np.array_split(np.array(days), min(4, max(1, len(days))))
    cols = 2 if len(windows) > 1 else 1
    rows = math.ceil(len(windows) / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(6.4, 2.9 * rows + 0.4), squeeze=False)
    vmax = np.nanpercentile(pl[column], 98) if len(pl) else 1
    scatter = None
    for ax in axes.flat[len(windows) :]:
        ax.set_visible(False)
    for ax, window in zip(axes.flat, windows, strict=False):
        sub = pl[pl["day"].isin(window)]
        if column == "average":
            st = sub.groupby(["latitude", "longitude"]).agg(s=("sum", "sum"), n=("count", "sum"))
            st = st.assign(v=st["s"] / st["n"]).reset_index()
        else:
            st = sub.groupby(["latitude", "longitude"])["max"].max().rename("v").reset_index()
        _borders(ax)
        st = st.sort_values("v")  # the highest drawn last, on top of their neighbours
        scatter = ax.scatter(
            st["longitude"],
            st["latitude"],
            c=st["v"],
            cmap="magma_r",
            vmin=0,
            vmax=vmax,
            s=16,
            edgecolors="0.2",
            linewidths=0.25,
            alpha=0.9,
        )
        ax.set(xlim=(14, 24.3), ylim=(48.9, 55), aspect=1.5, xticks=[], yticks=[])
        ax.set_frame_on(False)
        ax.set_title(f"{window[0]} – {window[-1]}" if len(window) else "", fontsize=8)
    if scatter is not None:
        fig.colorbar(scatter, ax=axes.ravel().tolist(), shrink=0.7, label="PM10 (µg/m³)")
    fig.suptitle(title, fontsize=9)
    return fig


def map_pm10_average(inp: Inputs):
    """Average PM10 in Poland by station, one panel per time window."""
    return _pm10_map(inp, "average", "Average PM10 by station and time window")


def map_pm10_max(inp: Inputs):
    """Maximum PM10 in Poland by station, one panel per time window."""
    return _pm10_map(inp, "max", "Maximum PM10 by station and time window")


def engines(inp: Inputs):
    """The engines on equal terms, never across them: (a) the same machine (the engines bench: same
    cores, no emulation, same store, interleaved), (b) Lambda's terms (Lithops on emulated Lambdas
    beside Dask workers under the same quotas), per memory size. Medians, 95 % intervals."""
    from aqbench.metrics import median_ci
    from aqbench.report.engines_compare import MIN_RUNS, SAME_TERMS, lambda_terms

    fig, (left, right) = plt.subplots(1, 2, figsize=(7.2, 2.9), gridspec_kw={"width_ratios": [1.25, 1]})
    bench = json.loads(inp.engines_bench.read_text()) if inp.engines_bench and inp.engines_bench.exists() else None
    if bench:
        names = [*SAME_TERMS, "duckdb_idiomatic", "polars"]
        labels = [*SAME_TERMS.values(), "DuckDB idiomatic\n(answer unverified)", "Polars idiomatic"]
        colours = ["lithops", "lithops", "dask", "dask", "duckdb", "duckdb", "duckdb"]
        rng = np.random.default_rng(0)
        for i, (name, engine) in enumerate(zip(names, colours, strict=True)):
            rates = [bench["mb"] / w for w in bench.get(f"{name}_walls_s") or []]
            if not rates:
                error = bench.get(f"{name}_error", "no run").split(":", 1)[-1].strip()
                left.text(
                    2,
                    i,
                    f"could not read the data: {error[:40]}",
                    va="center",
                    fontsize=6,
                    color="0.3",
                    bbox={"facecolor": "white", "edgecolor": "none", "pad": 0.5},
                )
                continue
            med, lo, hi = median_ci(np.array(rates), rng)
            err = [[med - lo], [hi - med]] if len(rates) >= MIN_RUNS else None
            hatch = "//" if name in ("duckdb_idiomatic", "polars") else None
            left.barh(i, med, xerr=err, color=ENGINE_COLOURS[engine], hatch=hatch, edgecolor="white", height=0.65)
        left.set_yticks(range(len(names)), labels, fontsize=6.5)
        left.invert_yaxis()
        for x, text, style in ((bench["limit_mb_s"], "bare Arrow parse + group-by", "--"),
                               (bench["read_parse_mb_s"], "read from the store + bare parse", ":")):  # fmt: skip
            left.axvline(x, color="0.3", ls=style, lw=0.8, label=text)
        left.legend(fontsize=5.5, loc="upper right", framealpha=0.9, edgecolor="none")
        left.set_xlabel("MB/s (median, 95 % interval)")
        left.set_title(f"(a) same machine: {bench['mb']:.0f} MB, {bench.get('cores', '?')} cores, no emulation",
                       fontsize=7.5, loc="left")  # fmt: skip
    else:
        _empty(left, "no engines bench")
    rows = lambda_terms(inp.table("summary"))
    if len(rows):
        x = np.arange(len(rows))
        for offset, engine in ((-0.18, "lithops"), (0.18, "dask")):
            med = np.array([r[engine]["wall_s"] for r in rows.to_dict("records")])
            lo = np.array([r[engine]["wall_s_lo"] for r in rows.to_dict("records")])
            hi = np.array([r[engine]["wall_s_hi"] for r in rows.to_dict("records")])
            enough = np.array([r[engine]["runs_ok"] >= MIN_RUNS for r in rows.to_dict("records")])
            err = np.where(enough, [med - lo, hi - med], 0)
            right.bar(x + offset, med, width=0.36, yerr=err, color=ENGINE_COLOURS[engine],
                      label="Lithops" if engine == "lithops" else "Dask, same quotas")  # fmt: skip
        right.set_xticks(x, [f"{m} MB\n({int(d['workers'])} at once)" for m, d in zip(rows["memory_mb"], rows["dask"],
                                                                                 strict=True)])  # fmt: skip
        right.set_ylabel("job wall time (s)")
        right.legend(fontsize=6.5, frameon=False)
    else:
        _empty(right, "no lambda_terms experiment")
    right.set_title("(b) Lambda's terms: memory/1769 of a core, one link each", fontsize=7.5, loc="left")
    fig.tight_layout()
    return fig


def cost_vs_duration(inp: Inputs):
    """A map call's billed cost against its duration across memory sizes, the balanced optimum marked (as
    power-tuning tools do). Per call: this host's job wall times are capped by how many quotas fit its cores."""
    s = inp.table("summary")
    s = s[(s["engine"] == "lithops") & (s["experiment"] == ex.MEMORY) & (s["status"] == "ok")].sort_values("memory_mb")
    fig, ax = plt.subplots(figsize=(4.5, 3))
    if "call_cost_usd" not in s or s["call_cost_usd"].isna().all():
        _empty(ax, "no per-call costs")
        return fig
    micro = s["call_cost_usd"] * 1e6
    ax.plot(s["call_median_s"], micro, "-", color="0.6", lw=0.8)
    for r, cost in zip(s.itertuples(), micro, strict=True):
        ax.scatter([r.call_median_s], [cost], color=MEMORY_COLOURS.get(int(r.memory_mb), "0.4"), s=30, zorder=3)
        ax.annotate(f"{int(r.memory_mb)} MB", (r.call_median_s, cost), fontsize=7, xytext=(4, 4),
                    textcoords="offset points")  # fmt: skip
    best = s.iloc[balanced_optimum(s["call_median_s"].to_numpy(), s["call_cost_usd"].to_numpy())]
    ax.scatter([best["call_median_s"]], [best["call_cost_usd"] * 1e6], s=160, facecolors="none", edgecolors="k",
               label="balanced optimum")  # fmt: skip
    ax.legend(fontsize=7)
    ax.set(xlabel="median duration of a map call (s)", ylabel="billed cost of a map call (millionths of a USD)")
    return fig


def balanced_optimum(duration: np.ndarray, cost: np.ndarray) -> int:
    """Index minimising the sum of duration and cost, each normalised to [0, 1] (the power-tuning 'balanced')."""

    def norm(x: np.ndarray) -> np.ndarray:
        span = x.max() - x.min()
        return (x - x.min()) / span if span > 0 else np.zeros_like(x)

    return int(np.argmin(norm(duration) + norm(cost)))


def kernel_throughput(inp: Inputs):
    """Kernel throughput on one object against the machine's practical limit."""
    bench = json.loads(Path(inp.bench).read_text()) if inp.bench and Path(inp.bench).exists() else {}
    fig, ax = plt.subplots(figsize=(4.5, 2.6))
    names = [("bare parse + group-by (limit)", "bare"), ("arrow kernel map", "arrow")]
    y = np.arange(3)
    for offset, (suffix, label, colour) in enumerate(
        (("_mb_s", "all cores", "0.3"), ("_1core_mb_s", "one core", "0.7"))  # greys: engines own the colours
    ):
        # the seed kernel is pandas, single-threaded: all cores give what one core does
        values = [bench.get(k + suffix, np.nan) for _, k in names] + [bench.get("seed_mb_s", np.nan)]
        ax.barh(y + 0.2 - 0.4 * offset, values, height=0.38, color=colour, label=label)
    seed = bench.get("seed_mb_s", np.nan)
    if seed == seed:
        ax.text(seed, 2, f"  {seed:.1f} MB/s (single-threaded: the same on all cores)", va="center", fontsize=6)
    ax.set_yticks(y, [n for n, _ in names] + ["seed kernel map (the study's)"])
    ax.invert_yaxis()
    ax.legend(fontsize=7, loc="lower right")
    size = f"{bench['object_mb']:.1f} MB" if "object_mb" in bench else "benchmark"
    ax.set(xlabel=f"MB/s on one {size} object", title="Kernels against the machine's limit")
    return fig


def scale_validation(inp: Inputs):
    """The simulation against our own runs: predicted against measured wall time per configuration."""
    table = pd.read_csv(inp.scale / "validation.csv")
    fig, ax = plt.subplots(figsize=(4.6, 3.6))
    timed = table[table["measured_status"] == "ok"]
    top = float(max(timed["measured_s"].max(), timed["predicted_s"].max()) * 1.1)
    x = np.linspace(0, top, 50)
    ax.fill_between(x, x * 0.7, x * 1.3, color="0.93", label="within 30 %")
    ax.fill_between(x, x * 0.85, x * 1.15, color="0.85", label="within 15 %")
    ax.plot(x, x, color="0.4", lw=0.8)
    held = timed["held_out"].astype(bool) if "held_out" in timed else pd.Series(True, index=timed.index)
    for i, (exp, rows) in enumerate(timed.groupby("experiment")):
        colour = f"C{i % 10}"
        out = held[rows.index]
        ax.scatter(rows.loc[out, "measured_s"], rows.loc[out, "predicted_s"], s=18, color=colour, label=exp)
        if (~out).any():  # the calibration's own runs: shown, not counted
            ax.scatter(rows.loc[~out, "measured_s"], rows.loc[~out, "predicted_s"], s=18, facecolors="none",
                       edgecolors=colour, label=f"{exp} (calibrated on)")  # fmt: skip
    ax.set(xlim=(0, top), ylim=(0, top), xlabel="measured wall time (s)", ylabel="simulated wall time (s)")
    ax.legend(fontsize=6, ncol=2, loc="upper left", frameon=False)
    return fig


def scale_cost_speed(inp: Inputs):
    """The study's scale: wall time against cost of one job per configuration, the frontier marked, and
    the single large instance and the Dask cluster (stars)."""
    from aqbench.scale.project import optimum

    table = pd.read_csv(inp.scale / "projection.csv")
    ok = table[(table["status"] == "success") & (table["architecture"] == "x86_64")]
    frontier = optimum(ok)
    fig, ax = plt.subplots(figsize=(5.2, 3.6))
    markers = {1: "o", 2: "s", 4: "^", 8: "D"}
    for (memory, opc), rows in ok.groupby(["memory_mb", "objects_per_call"]):
        for reducers, row in rows.groupby("reducers"):
            colour = MEMORY_COLOURS.get(memory, "0.5")
            ax.scatter(row["wall_s"], row["cost_usd"], marker=markers.get(opc, "o"), s=22, color=colour,
                       facecolors="none" if reducers > 1 else None)  # fmt: skip
    ax.plot(frontier["wall_s"], frontier["cost_usd"], color="0.3", lw=0.8, ls="--", label="cost/speed frontier")
    for memory, colour in MEMORY_COLOURS.items():
        if memory in set(ok["memory_mb"]):
            ax.scatter([], [], color=colour, s=22, label=f"{memory} MB")
    for opc, marker in markers.items():
        if opc in set(ok["objects_per_call"]):
            ax.scatter([], [], color="0.4", marker=marker, s=22, label=f"{opc} object(s)/call")
    ax.scatter([], [], color="0.4", facecolors="none", s=22, label="hollow: hash reduce")
    others = inp.scale / "alternatives.csv"
    if others.exists() and others.stat().st_size > 1:
        for _, alt in pd.read_csv(others).iterrows():
            ax.scatter(alt["wall_s"], alt["cost_usd"], marker="*", s=70, color="black")
            ax.annotate(alt["option"], (alt["wall_s"], alt["cost_usd"]), fontsize=6, xytext=(4, -3),
                        textcoords="offset points")  # fmt: skip
    ax.set(xscale="log", yscale="log", xlabel="simulated wall time of one job (s)", ylabel="cost of one job, x86 (USD)")
    ax.legend(fontsize=6, frameon=False, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    return fig


def scale_sensitivity(inp: Inputs):
    """A tornado per job (the fastest and the cheapest projected): its wall time and cost with each
    published input known only within a range at its low and its high end."""
    table = pd.read_csv(inp.scale / "sensitivity.csv")
    fig, axes = plt.subplots(2, 2, figsize=(6.6, 4.4), squeeze=False)
    for row, (target, rows) in zip(axes, table.groupby("target", sort=False), strict=False):
        first = rows.iloc[0]
        arch = "arm64" if first["architecture"] == "arm64" else "x86"
        name = (f"{target}: {int(first['memory_mb'])} MB, {int(first['objects_per_call'])} obj/call, "
                f"R={int(first['reducers'])}, {arch}")  # fmt: skip
        for ax, (col, base_col, label) in zip(
            row, (("wall_s", "base_wall_s", "wall time (s)"), ("cost_usd", "base_cost_usd", "cost (USD)")), strict=True
        ):
            base = float(first[base_col])
            spans = []
            for _, r in rows.groupby("input", sort=False):
                lo, hi = r.set_index("end").reindex(["low", "high"])[col]
                spans.append((r["label"].iloc[0], lo, hi, r.set_index("end")["value"]))
            spans.sort(key=lambda t: abs(np.nan_to_num(t[2] - t[1])))
            for y, (_, lo, hi, _) in enumerate(spans):
                for v, colour in ((lo, "#6baed6"), (hi, "#fd8d3c")):
                    if v == v:
                        ax.barh(y, v - base, left=base, color=colour, height=0.6)
            ax.axvline(base, color="0.3", lw=0.8)
            ax.set_yticks(range(len(spans)), [f"{lab} {v['low']:g}-{v['high']:g}" for lab, _, _, v in spans],
                          fontsize=6)  # fmt: skip
            ax.set_xlabel(label, fontsize=7)
            ax.tick_params(axis="x", labelsize=6)
            ax.set_title(name if col == "wall_s" else "", fontsize=7, loc="left")
            if col == "cost_usd":
                ax.set_yticks(range(len(spans)), [""] * len(spans))
    from matplotlib.patches import Patch

    fig.legend(handles=[Patch(color="#6baed6", label="input at its low end"),
                        Patch(color="#fd8d3c", label="input at its high end")],
               loc="lower center", ncol=2, fontsize=7, frameon=False)  # fmt: skip
    fig.tight_layout(rect=(0, 0.05, 1, 1))
    return fig


PLOTS: dict[str, Callable[[Inputs], plt.Figure]] = {name: globals()[name] for name in FIGURES + SCALE_FIGURES}
"""The plotting function of each figure, named as the figure (see figure_names)."""


def draw(name: str, inp: Inputs, pdf: Path, png: Path) -> None:
    from aqbench.atomic import atomic_path

    fig = PLOTS[name](inp)
    for path, fmt in ((pdf, "pdf"), (png, "png")):
        path.parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(path) as tmp:
            fig.savefig(tmp, format=fmt)
    plt.close(fig)
