"""The findings paragraph's numbers and direction words, computed from the metrics.

Each finding is a comparison of two medians; its words ("shorter", "longer", "pays", "does not
pay") are chosen here from the numbers, so a rerun that turns a result round turns the sentence
round with it. Each median comes with its 95 % bootstrap interval over the repetitions
(``median [lo, hi]``; a median of fewer than three runs is printed alone): a job's wall time
over its runs, a call's duration over its runs' median calls. The ranking of the engines is
not here: it comes from the engines bench, under the same terms (:mod:`.engines_compare`).
"""

from __future__ import annotations

import pandas as pd

from aqbench import experiments as ex
from aqbench.report.engines_compare import interval


def _walls(runs: pd.DataFrame | None, engine: str, experiment: str, by: str) -> dict:
    """Each configuration's run wall times (completed runs), keyed by the setting ``by``."""
    if runs is None:
        return {}
    sel = runs[(runs["engine"] == engine) & (runs["experiment"] == experiment) & (runs["status"] == "ok")]
    return {k: g["wall_s"].tolist() for k, g in sel.groupby(by)}


def _call_medians(calls: pd.DataFrame, experiment: str, by: str) -> dict:
    """Each configuration's per-run median map-call duration, keyed by the setting ``by``."""
    sel = calls[(calls["engine"] == "lithops") & (calls["experiment"] == experiment) & (calls["phase"] == "map")]
    per_run = sel.groupby([by, "run_id"])["duration_s"].median().reset_index()
    return {k: g["duration_s"].tolist() for k, g in per_run.groupby(by)}


def _ratio(a: float, b: float) -> str:
    return f"{a / b:.2f}"


def _dir(a: float, b: float, smaller: str, larger: str, same: str = "about the same as") -> str:
    """``a`` against ``b`` in words (within 5 %: the same)."""
    if abs(a - b) <= 0.05 * abs(b):
        return same
    return smaller if a < b else larger


KEYS = (
    *("FindMemSmallMB", "FindMemLargeMB", "FindCallAtSmall", "FindCallAtLarge", "FindMemoryRatio"),
    *("FindMemoryCPURatio", "FindMemoryWord", "FindBestObjectsPerCall", "FindBestObjectsWall"),
    *("FindOneObjectWall", "FindMostObjects", "FindMostObjectsWall", "FindObjectsWord"),
    *("FindReducersMany", "FindSingleWall", "FindHashWall", "FindReduceWord", "FindSinglePeak", "FindHashPeak"),
    *("FindSeedWall", "FindArrowWall", "FindKernelRatio", "FindKernelShare"),
    *("FindLocalCall", "FindRemoteCall", "FindLocalityRatio"),
)
"""Every finding's macro: a profile that did not run an experiment prints "--" in its place."""


def findings(summary: pd.DataFrame, calls: pd.DataFrame, runs: pd.DataFrame | None = None) -> dict[str, str]:
    ok = summary[summary["status"] == "ok"]
    lith = ok[ok["engine"] == "lithops"]
    values: dict[str, str] = dict.fromkeys(KEYS, "--")

    mem = lith[lith["experiment"] == ex.MEMORY].set_index("memory_mb").sort_index()
    if len(mem) >= 2:
        small, large = int(mem.index[0]), int(mem.index[1])  # the two smallest sizes the profile measured
        a, b = mem.loc[small, "call_median_s"], mem.loc[large, "call_median_s"]

        from aqbench.lambda_facts import call_share as share

        per_run = _call_medians(calls, ex.MEMORY, "memory_mb")
        values |= {
            "FindMemSmallMB": str(small),
            "FindMemLargeMB": str(large),
            "FindCallAtSmall": interval(per_run.get(small, [a]), 2),
            "FindCallAtLarge": interval(per_run.get(large, [b]), 2),
            "FindMemoryRatio": _ratio(b, a),
            # all CPU, a call's time would go as 1 / its share
            "FindMemoryCPURatio": _ratio(share(small), share(large)),
            "FindMemoryWord": _dir(b, a, "shortens", "lengthens", "hardly changes"),
        }
    opc = lith[lith["experiment"] == ex.OBJECTS_PER_CALL].set_index("objects_per_call")
    if len(opc) >= 2:
        best = int(opc["wall_s"].idxmin())
        walls = _walls(runs, "lithops", ex.OBJECTS_PER_CALL, "objects_per_call")
        values |= {
            "FindBestObjectsPerCall": str(best),
            "FindBestObjectsWall": interval(walls.get(best, [opc.loc[best, "wall_s"]]), 1),
            "FindOneObjectWall": interval(walls.get(opc.index.min(), [opc.loc[opc.index.min(), "wall_s"]]), 1),
            "FindMostObjects": str(int(opc.index.max())),
            "FindMostObjectsWall": interval(walls.get(opc.index.max(), [opc.loc[opc.index.max(), "wall_s"]]), 1),
            "FindObjectsWord": "stops paying" if best < opc.index.max() else "still pays",
        }
    red = lith[lith["experiment"] == ex.REDUCERS].set_index("reducers")
    if len(red) >= 2:
        one, many = red.index.min(), red.index.max()
        rc = calls[(calls["engine"] == "lithops") & (calls["experiment"] == ex.REDUCERS) & (calls["phase"] == "reduce")]
        peak = rc.groupby("reducers")["peak_rss_mb"].median()
        walls = _walls(runs, "lithops", ex.REDUCERS, "reducers")
        values |= {
            "FindReducersMany": str(int(many)),
            "FindSingleWall": interval(walls.get(one, [red.loc[one, "wall_s"]]), 1),
            "FindHashWall": interval(walls.get(many, [red.loc[many, "wall_s"]]), 1),
            "FindReduceWord": _dir(red.loc[many, "wall_s"], red.loc[one, "wall_s"], "faster than", "slower than"),
            "FindSinglePeak": f"{peak.get(one, float('nan')):.0f}",
            "FindHashPeak": f"{peak.get(many, float('nan')):.0f}",
        }
    ker = lith[lith["experiment"] == ex.KERNELS].set_index("kernel")
    if {"arrow", "seed"} <= set(ker.index):
        walls = _walls(runs, "lithops", ex.KERNELS, "kernel")
        values |= {
            "FindSeedWall": interval(walls.get("seed", [ker.loc["seed", "wall_s"]]), 1),
            "FindArrowWall": interval(walls.get("arrow", [ker.loc["arrow", "wall_s"]]), 1),
            "FindKernelRatio": f"{ker.loc['seed', 'wall_s'] / ker.loc['arrow', 'wall_s']:.1f}",
            "FindKernelShare": f"{100 * ker['fraction'].iloc[0]:.0f}\\,\\%",
        }
    loc = lith[lith["experiment"] == ex.DATA_LOCALITY].set_index("locality")
    if {"local", "remote"} <= set(loc.index):
        per_run = _call_medians(calls, ex.DATA_LOCALITY, "locality")
        values |= {
            "FindLocalCall": interval(per_run.get("local", [loc.loc["local", "call_median_s"]]), 2),
            "FindRemoteCall": interval(per_run.get("remote", [loc.loc["remote", "call_median_s"]]), 2),
            "FindLocalityRatio": f"{loc.loc['remote', 'call_median_s'] / loc.loc['local', 'call_median_s']:.1f}",
        }
    return values
