"""The scale model's figures: validation against the measured runs, the projection's cost and
speed, its sensitivity."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from aqbench.report.figures.common import MEMORY_COLOURS, Inputs
from aqbench.study_facts import DATA_GB


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
        alts = pd.read_csv(others)
        if "data_gb" in alts:  # the study's data size only: the others are the crossover's
            alts = alts[alts["data_gb"] == alts["data_gb"].iloc[(alts["data_gb"] - DATA_GB).abs().argmin()]]
        # each alternative its own black marker, named in the legend: labels beside the points overprinted
        shapes = iter(("*", "X", "P", "h", "8", "p", "v"))
        for _, alt in alts.iterrows():
            ax.scatter(alt["wall_s"], alt["cost_usd"], marker=next(shapes, "*"), s=60, color="black",
                       label=str(alt["option"]))  # fmt: skip
    ax.set(xscale="log", yscale="log", xlabel="simulated wall time of one job (s)", ylabel="cost of one job, x86 (USD)")
    from matplotlib.ticker import FixedLocator, NullFormatter, ScalarFormatter

    # a few round labels (the default minor labels ran into one another; the major ones are too few)
    lo, hi = ax.get_xlim()
    ticks = [t for t in (10, 20, 50, 100, 200, 500, 1000, 2000, 5000) if lo <= t <= hi]
    ax.xaxis.set_major_locator(FixedLocator(ticks))
    ax.xaxis.set_major_formatter(ScalarFormatter())
    ax.xaxis.set_minor_formatter(NullFormatter())
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
            ax.set_yticks(range(len(spans)), [f"{lab} {v['low']:.3g}-{v['high']:.3g}" for lab, _, _, v in spans],
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
