"""What every figure shares: its inputs, the colours, the style, and two small helpers."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pandas as pd

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


def lithops_rows(df: pd.DataFrame, experiment: str) -> pd.DataFrame:
    """The Lithops rows of one experiment."""
    return df[(df["engine"] == "lithops") & (df["experiment"] == experiment)]


def no_data(ax, text: str) -> None:
    """Say on the axes what is missing, instead of drawing an empty plot."""
    ax.text(0.5, 0.5, text, ha="center", va="center", transform=ax.transAxes, color="grey")
