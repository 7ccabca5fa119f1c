"""The figures of the measured runs, per call: durations, CPU and network, memory, starts, the
warm-up and locality experiments, timelines, cost.

Twelve short plotting functions, one per figure, each readable alone (hence the length)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from aqbench import experiments as ex
from aqbench.lambda_facts import facts
from aqbench.metrics import start_calls, start_latency
from aqbench.report.figures.common import ENGINE_COLOURS, MEMORY_COLOURS, Inputs, lithops_rows, no_data


def call_durations(inp: Inputs):
    """Per-call duration (min/avg/max) over the job's time, per memory size."""
    calls = lithops_rows(inp.table("calls"), ex.MEMORY)
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
    ax.legend(title="Lambda memory") if len(calls) else no_data(ax, "no memory experiment")
    return fig


def cpu_network(inp: Inputs):
    """CPU use and network use of the map calls over the job's time, per memory size, as the study
    showed them: the median of the calls running in each stretch of time, and Lambda's CPU share."""
    calls = lithops_rows(inp.table("calls"), ex.MEMORY)
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
    a.legend(fontsize=7) if len(calls) else no_data(a, "no memory experiment")
    return fig


def network_transmission(inp: Inputs):
    """Bytes moved by the job over time: object reads by maps, partials by reducers; one line per
    run, coloured by the reduce."""
    calls = lithops_rows(inp.table("calls"), ex.REDUCERS).dropna(subset=["t_end"])
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
        no_data(ax, "no reducers experiment")
        title = "Bytes a job moves"
    ax.set(xlabel="time since the job's submission (s)", ylabel="MB read + written (cumulative)", title=title)
    ax.set_ylim(bottom=0)
    return fig


def memory_use(inp: Inputs):
    """Peak resident memory per call against the Lambda memory size; beside it, the study's
    "occupied memory" with local and with non-local data (the data_locality experiment's maps).
    The axis is the calls' own range: every memory size's limit (the size itself) lies far above it,
    so no limit line is drawn and the title says where they are."""
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
        ax.set_ylim(0, top * 1.15)
        ax.set_xticks(range(len(sizes)), [f"{m} MB" for m in sizes], fontsize=7)
        ax.legend(fontsize=7, loc="lower right")
        above = f"(each limit, its memory size, lies above this axis's {top * 1.15:.0f} MB)"
        ax.set_title(f"Occupied memory per call\n{above}", fontsize=8)
    ax.set(xlabel="Lambda memory (= the call's memory limit)", ylabel="peak RSS of the call (MB)")
    maps = lithops_rows(calls, ex.DATA_LOCALITY)
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
        no_data(side, "no data_locality runs")
    fig.tight_layout()
    return fig


MIN_QUARTILE_CALLS = 4
"""Calls below which a bar shows its median alone: fewer have no quartiles worth drawing."""


def cold_warm(inp: Inputs):
    """The warm-up experiment: call duration and start latency of cold and warm calls, per memory size."""
    calls = lithops_rows(inp.table("calls"), ex.WARMUP)
    calls = start_calls(calls)
    # per object: a warm-up activation reads one object, a measured call objects_per_call of them
    calls = calls.assign(latency=start_latency(calls), per_object=calls["duration_s"] / calls["objects"].clip(lower=1))
    fig, axes = plt.subplots(1, 2, figsize=(7, 2.8))
    sizes = sorted(calls["memory_mb"].dropna().unique())
    if not len(calls):
        for ax in axes:
            no_data(ax, "no warm-up experiment")
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
            ax.bar(x, med, width, color=colour, label=label)
            # quartiles only where there are enough calls to have them (a lone call has none)
            some = np.array([len(d) >= MIN_QUARTILE_CALLS for d in data])
            if some.any():
                ax.errorbar(x[some], med[some], yerr=[(med - q1)[some], (q3 - med)[some]], fmt="none",
                            ecolor="black", capsize=2, lw=0.8)  # fmt: skip
            for xi, d, top, m in zip(x, data, q3, med, strict=True):
                if len(d):
                    y = top if len(d) >= MIN_QUARTILE_CALLS else m
                    ax.text(xi, y, f"n={len(d)}", ha="center", va="bottom", fontsize=5.5, color="0.3")
    labels = ("start latency: dispatch to function (s)", "call duration per object read (s)")
    for ax, ylabel in zip(axes, labels, strict=True):
        ax.set_xticks(range(len(sizes)), [f"{int(m)} MB" for m in sizes])
        ax.set(xlabel="Lambda memory", ylabel=ylabel)
    axes[0].legend(fontsize=7)
    fig.suptitle(f"Warm-up job (cold calls) then measured job (warm): median, bars: quartiles "
                 f"(where {MIN_QUARTILE_CALLS} calls or more)", fontsize=8)  # fmt: skip
    return fig


def locality(inp: Inputs):
    """The study's local vs non-local data: CPU, network rate and occupied memory per call."""
    calls = lithops_rows(inp.table("calls"), ex.DATA_LOCALITY)
    calls = calls[calls["phase"] == "map"]
    fig, axes = plt.subplots(1, 3, figsize=(7.5, 2.6))
    places = [p for p in ("local", "remote") if p in set(calls.get("locality", pd.Series(dtype=object)))]
    if not places:
        for ax in axes:
            no_data(ax, "no data-locality experiment")
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
    calls = lithops_rows(inp.table("calls"), ex.OBJECTS_PER_CALL).dropna(subset=["t_start", "t_end"])
    runs = calls.groupby("objects_per_call")["run_id"].first()
    fig, axes = plt.subplots(len(runs) or 1, 1, figsize=(6, 1.2 + 0.9 * max(1, len(runs))), sharex=True, squeeze=False)
    for ax, (opc, run) in zip(axes[:, 0], runs.items(), strict=False):
        group = calls[calls["run_id"] == run].sort_values("t_start")
        t0 = group["t_submit"].min()
        for i, c in enumerate(group.itertuples()):
            ax.plot([c.t_start - t0, c.t_end - t0], [i, i], color="#d95f02" if c.phase == "map" else "#7570b3", lw=2)
        ax.set_ylabel(f"{int(opc)} obj/call", fontsize=7)
        ax.set_yticks(sorted({0, len(group) - 1}), [str(t + 1) for t in sorted({0, len(group) - 1})], fontsize=6)
        ax.set_ylim(-1, len(group))
    axes[-1, 0].set_xlabel("seconds since the job's submission (orange: map, purple: reduce; one run per setting)")
    axes[0, 0].set_title("Call lifetimes, calls in order of their start (queueing on this host not drawn)")
    fig.supylabel("call (first and last numbered)", fontsize=7)
    return fig


def worker_lifetimes(inp: Inputs):
    """The study's "Lambdas lifetime": each worker (one Lambda invocation) of the warm-up job, its
    activations one after another, per memory size (one run each)."""
    calls = lithops_rows(inp.table("calls"), ex.WARMUP)
    calls = calls[calls["phase"] == "warmup"].dropna(subset=["t_start", "t_end"])
    chunked = "position" in calls and calls["position"].notna().any()
    runs = calls.groupby("memory_mb")["run_id"].first() if chunked else pd.Series(dtype=object)
    fig, axes = plt.subplots(max(1, len(runs)), 1, figsize=(6, 1.2 + 1.1 * max(1, len(runs))), sharex=True,
                             squeeze=False)  # fmt: skip
    if not chunked:
        no_data(axes[0, 0], "no worker data: these runs were made before chunksize was a setting")
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
    same records (experiments study_code and study_objects); not the study's bill, which is no pass."""
    from aqbench import study_facts as study
    from aqbench.report.study_code import OBJECT_MB, _maps

    calls = inp.table("calls")
    fig, ax = plt.subplots(figsize=(6, 3.2))
    study_maps = _maps(calls, "study") if "call_cost_usd" in calls else pd.DataFrame()
    if not len(study_maps):
        no_data(ax, "no study_code runs")
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
    # the study's bill is two days of testing, not a pass: it has no place on a per-pass axis
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
    calls = lithops_rows(inp.table("calls"), ex.MEMORY)
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


def cost_vs_duration(inp: Inputs):
    """A map call's billed cost against its duration across memory sizes. Per call: this host's job wall
    times are capped by how many quotas fit its cores. No optimum is marked: on three sizes, a trade-off
    normalised over them picks whichever the normalisation favours; the job at scale decides (Section 6)."""
    s = inp.table("summary")
    s = s[(s["engine"] == "lithops") & (s["experiment"] == ex.MEMORY) & (s["status"] == "ok")].sort_values("memory_mb")
    fig, ax = plt.subplots(figsize=(4.5, 3))
    if "call_cost_usd" not in s or s["call_cost_usd"].isna().all():
        no_data(ax, "no per-call costs")
        return fig
    micro = s["call_cost_usd"] * 1e6
    ax.plot(s["call_median_s"], micro, "-", color="0.6", lw=0.8)
    for r, cost in zip(s.itertuples(), micro, strict=True):
        ax.scatter([r.call_median_s], [cost], color=MEMORY_COLOURS.get(int(r.memory_mb), "0.4"), s=30, zorder=3)
        ax.annotate(f"{int(r.memory_mb)} MB", (r.call_median_s, cost), fontsize=7, xytext=(4, 4),
                    textcoords="offset points")  # fmt: skip
    ax.set(xlabel="median duration of a map call (s)", ylabel="billed cost of a map call (millionths of a USD)")
    return fig
