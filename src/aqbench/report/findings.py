"""The findings paragraph's numbers and direction words, computed from the metrics.

Each finding is a comparison of two medians; its words ("shorter", "longer", "pays", "does not
pay") are chosen here from the numbers, so a rerun that turns a result round turns the sentence
round with it. Each comes with the repetitions it rests on.
"""

from __future__ import annotations

import pandas as pd


def _ratio(a: float, b: float) -> str:
    return f"{a / b:.2f}"


def _dir(a: float, b: float, smaller: str, larger: str, same: str = "about the same as") -> str:
    """``a`` against ``b`` in words (within 5 %: the same)."""
    if abs(a - b) <= 0.05 * abs(b):
        return same
    return smaller if a < b else larger


KEYS = (
    *("FindMemSmallMB", "FindMemLargeMB", "FindCallAtSmall", "FindCallAtLarge", "FindMemoryRatio"),
    *("FindMemoryCPURatio", "FindMemoryWord", "FindMemoryRuns", "FindBestObjectsPerCall", "FindBestObjectsWall"),
    *("FindOneObjectWall", "FindMostObjects", "FindMostObjectsWall", "FindObjectsWord", "FindObjectsRuns"),
    *("FindReducersMany", "FindSingleWall", "FindHashWall", "FindReduceWord", "FindSinglePeak", "FindHashPeak"),
    *("FindReduceRuns", "FindSeedWall", "FindArrowWall", "FindKernelRatio", "FindKernelRuns", "FindKernelShare"),
    *("FindLocalCall", "FindRemoteCall", "FindLocalityRatio", "FindLocalityRuns", "FindEngineOrder"),
    "FindFastestEngine",
)
"""Every finding's macro: a profile that did not run an experiment prints "--" in its place."""


def findings(summary: pd.DataFrame, calls: pd.DataFrame) -> dict[str, str]:
    ok = summary[summary["status"] == "ok"]
    lith = ok[ok["engine"] == "lithops"]
    values: dict[str, str] = dict.fromkeys(KEYS, "--")

    mem = lith[lith["experiment"] == "memory"].set_index("memory_mb").sort_index()
    if len(mem) >= 2:
        small, large = int(mem.index[0]), int(mem.index[1])  # the two smallest sizes the profile measured
        a, b = mem.loc[small, "call_median_s"], mem.loc[large, "call_median_s"]

        from aqbench.scale.model import call_share as share

        values |= {
            "FindMemSmallMB": str(small),
            "FindMemLargeMB": str(large),
            "FindCallAtSmall": f"{a:.2f}",
            "FindCallAtLarge": f"{b:.2f}",
            "FindMemoryRatio": _ratio(b, a),
            # all CPU, a call's time would go as 1 / its share
            "FindMemoryCPURatio": _ratio(share(small), share(large)),
            "FindMemoryWord": _dir(b, a, "shortens", "lengthens", "hardly changes"),
            "FindMemoryRuns": str(int(mem.loc[large, "runs"])),
        }
    opc = lith[lith["experiment"] == "objects_per_call"].set_index("objects_per_call")
    if len(opc) >= 2:
        best = int(opc["wall_s"].idxmin())
        values |= {
            "FindBestObjectsPerCall": str(best),
            "FindBestObjectsWall": f"{opc.loc[best, 'wall_s']:.1f}",
            "FindOneObjectWall": f"{opc.loc[opc.index.min(), 'wall_s']:.1f}",
            "FindMostObjects": str(int(opc.index.max())),
            "FindMostObjectsWall": f"{opc.loc[opc.index.max(), 'wall_s']:.1f}",
            "FindObjectsWord": "stops paying" if best < opc.index.max() else "still pays",
            "FindObjectsRuns": str(int(opc["runs"].min())),
        }
    red = lith[lith["experiment"] == "reducers"].set_index("reducers")
    if len(red) >= 2:
        one, many = red.index.min(), red.index.max()
        rc = calls[(calls["engine"] == "lithops") & (calls["experiment"] == "reducers") & (calls["phase"] == "reduce")]
        peak = rc.groupby("reducers")["peak_rss_mb"].median()
        values |= {
            "FindReducersMany": str(int(many)),
            "FindSingleWall": f"{red.loc[one, 'wall_s']:.1f}",
            "FindHashWall": f"{red.loc[many, 'wall_s']:.1f}",
            "FindReduceWord": _dir(red.loc[many, "wall_s"], red.loc[one, "wall_s"], "faster than", "slower than"),
            "FindSinglePeak": f"{peak.get(one, float('nan')):.0f}",
            "FindHashPeak": f"{peak.get(many, float('nan')):.0f}",
            "FindReduceRuns": str(int(red["runs"].min())),
        }
    ker = lith[lith["experiment"] == "kernels"].set_index("kernel")
    if {"arrow", "seed"} <= set(ker.index):
        values |= {
            "FindSeedWall": f"{ker.loc['seed', 'wall_s']:.1f}",
            "FindArrowWall": f"{ker.loc['arrow', 'wall_s']:.1f}",
            "FindKernelRatio": f"{ker.loc['seed', 'wall_s'] / ker.loc['arrow', 'wall_s']:.1f}",
            "FindKernelRuns": str(int(ker["runs"].min())),
            "FindKernelShare": f"{100 * ker['fraction'].iloc[0]:.0f}\\,\\%",
        }
    loc = lith[lith["experiment"] == "data_locality"].set_index("locality")
    if {"local", "remote"} <= set(loc.index):
        values |= {
            "FindLocalCall": f"{loc.loc['local', 'call_median_s']:.2f}",
            "FindRemoteCall": f"{loc.loc['remote', 'call_median_s']:.2f}",
            "FindLocalityRatio": f"{loc.loc['remote', 'call_median_s'] / loc.loc['local', 'call_median_s']:.1f}",
            "FindLocalityRuns": str(int(loc["runs"].min())),
        }
    whole = ok[ok["fraction"] == 1.0]
    engines = {
        "Lithops": whole[(whole["engine"] == "lithops") & (whole["kernel"] == "arrow")],
        "Dask": whole[(whole["engine"] == "dask") & (whole["kernel"] == "arrow")],
        "DuckDB": whole[whole["engine"] == "duckdb"],
    }
    best = {name: t.sort_values("wall_s").iloc[0] for name, t in engines.items() if len(t)}
    if best:
        order = sorted(best, key=lambda n: best[n]["wall_s"])
        values["FindEngineOrder"] = ", then ".join(f"{n} ({best[n]['wall_s']:.1f}\\,s)" for n in order)
        values["FindFastestEngine"] = order[0]
    return values
