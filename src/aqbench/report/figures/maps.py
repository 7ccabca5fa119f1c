"""The maps of the reference aggregates: PM10 daily average and maximum per station."""

from __future__ import annotations

import json
import math
from importlib import resources

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from aqbench.report.figures.common import Inputs


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
