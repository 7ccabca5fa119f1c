"""The findings paragraph's numbers and direction words, computed from the metrics.

Each finding is a comparison of two medians; its words ("shortens", "lengthens", "faster",
"slower") are chosen here by one rule (:func:`aqbench.metrics.direction`): a direction only where
the two ranges over the repetitions do not overlap, else "no difference measured", so a rerun
that turns a result round turns the sentence round with it. Each median comes with its range
over the repetitions (``median [lo--hi]``, minimum to maximum; a median of fewer than three runs
is printed alone): a job's wall time over its runs, a call's duration over its runs' median
calls. A ratio is of the medians printed beside it. The ranking of the engines is
not here: it comes from the engines bench, under the same terms (:mod:`.engines_compare`).
"""

from __future__ import annotations

import pandas as pd

from aqbench import experiments as ex
from aqbench.metrics import NO_DIFFERENCE, direction
from aqbench.report.engines_compare import in_words, interval


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


def _runs(per_configuration: pd.Series) -> str:
    """How many runs each compared configuration had, in words: "five runs", "2 to 5 runs"."""
    if not len(per_configuration):
        return "--"
    lo, hi = int(per_configuration.min()), int(per_configuration.max())
    return (f"{in_words(lo)} run" + ("" if lo == 1 else "s")) if lo == hi else f"{lo} to {hi} runs"


def _median(values: list[float]) -> float:
    return float(pd.Series(values, dtype=float).median())


KEYS = (
    *("FindMemSmallMB", "FindMemLargeMB", "FindCallAtSmall", "FindCallAtLarge", "FindMemoryRatio"),
    *("FindMemoryCPURatio", "FindMemoryWord", "FindBestObjectsPerCall", "FindBestObjectsWall"),
    *("FindOneObjectWall", "FindMostObjects", "FindMostObjectsWall", "FindObjectsWord", "FindObjectsSentence"),
    *("FindReducersMany", "FindSingleWall", "FindHashWall", "FindReduceWord", "FindSinglePeak", "FindHashPeak"),
    *("FindSeedWall", "FindArrowWall", "FindKernelRatio", "FindKernelShare"),
    *("FindLocalCall", "FindRemoteCall", "FindLocalityRatio", "FindRuns"),
)
"""Every finding's macro: a profile that did not run an experiment prints "--" in its place."""


def findings(summary: pd.DataFrame, calls: pd.DataFrame, runs: pd.DataFrame | None = None) -> dict[str, str]:
    ok = summary[summary["status"] == "ok"]
    lith = ok[ok["engine"] == "lithops"]
    values: dict[str, str] = dict.fromkeys(KEYS, "--")
    compared = (ex.MEMORY, ex.OBJECTS_PER_CALL, ex.REDUCERS, ex.KERNELS, ex.DATA_LOCALITY)
    values["FindRuns"] = _runs(lith[lith["experiment"].isin(compared)]["runs"])

    mem = lith[lith["experiment"] == ex.MEMORY].set_index("memory_mb").sort_index()
    if len(mem) >= 2:
        small, large = int(mem.index[0]), int(mem.index[1])  # the two smallest sizes the profile measured
        a, b = mem.loc[small, "call_median_s"], mem.loc[large, "call_median_s"]

        from aqbench.lambda_facts import call_share as share

        per_run = _call_medians(calls, ex.MEMORY, "memory_mb")
        at_small, at_large = per_run.get(small, [a]), per_run.get(large, [b])
        values |= {
            "FindMemSmallMB": str(small),
            "FindMemLargeMB": str(large),
            "FindCallAtSmall": interval(at_small, 2),
            "FindCallAtLarge": interval(at_large, 2),
            "FindMemoryRatio": _ratio(_median(at_large), _median(at_small)),  # of the two medians printed
            # all CPU, a call's time would go as 1 / its share
            "FindMemoryCPURatio": _ratio(share(small), share(large)),
            "FindMemoryWord": direction(at_large, at_small, "shortens", "lengthens", "does not measurably change"),
        }
    opc = lith[lith["experiment"] == ex.OBJECTS_PER_CALL].set_index("objects_per_call")
    if len(opc) >= 2:
        best = int(opc["wall_s"].idxmin())
        walls = _walls(runs, "lithops", ex.OBJECTS_PER_CALL, "objects_per_call")
        one, most = int(opc.index.min()), int(opc.index.max())
        wall = {n: walls.get(n, [opc.loc[n, "wall_s"]]) for n in (one, best, most)}
        word = direction(wall[best], wall[one], "shorter than", "longer than", NO_DIFFERENCE)
        values |= {
            "FindBestObjectsPerCall": str(best),
            "FindBestObjectsWall": interval(wall[best], 1),
            "FindOneObjectWall": interval(wall[one], 1),
            "FindMostObjects": str(most),
            "FindMostObjectsWall": interval(wall[most], 1),
            "FindObjectsWord": word,
            "FindObjectsSentence": _objects_sentence(one, best, most, wall, word),
        }
    red = lith[lith["experiment"] == ex.REDUCERS].set_index("reducers")
    if len(red) >= 2:
        one, many = red.index.min(), red.index.max()
        rc = calls[(calls["engine"] == "lithops") & (calls["experiment"] == ex.REDUCERS) & (calls["phase"] == "reduce")]
        peak = rc.groupby("reducers")["peak_rss_mb"].median()
        walls = _walls(runs, "lithops", ex.REDUCERS, "reducers")
        single, hashed = walls.get(one, [red.loc[one, "wall_s"]]), walls.get(many, [red.loc[many, "wall_s"]])
        values |= {
            "FindReducersMany": str(int(many)),
            "FindSingleWall": interval(single, 1),
            "FindHashWall": interval(hashed, 1),
            "FindReduceWord": direction(hashed, single, "faster than", "slower than", "no faster or slower than"),
            "FindSinglePeak": f"{peak.get(one, float('nan')):.0f}",
            "FindHashPeak": f"{peak.get(many, float('nan')):.0f}",
        }
    ker = lith[lith["experiment"] == ex.KERNELS].set_index("kernel")
    if {"arrow", "seed"} <= set(ker.index):
        walls = _walls(runs, "lithops", ex.KERNELS, "kernel")
        values |= {
            "FindSeedWall": interval(walls.get("seed", [ker.loc["seed", "wall_s"]]), 1),
            "FindArrowWall": interval(walls.get("arrow", [ker.loc["arrow", "wall_s"]]), 1),
            "FindKernelRatio": f"{_median(walls.get('seed', [ker.loc['seed', 'wall_s']])) / _median(walls.get('arrow', [ker.loc['arrow', 'wall_s']])):.1f}",  # noqa: E501
            "FindKernelShare": f"{100 * ker['fraction'].iloc[0]:.0f}\\,\\%",
        }
    loc = lith[lith["experiment"] == ex.DATA_LOCALITY].set_index("locality")
    if {"local", "remote"} <= set(loc.index):
        per_run = _call_medians(calls, ex.DATA_LOCALITY, "locality")
        local = per_run.get("local", [loc.loc["local", "call_median_s"]])
        remote = per_run.get("remote", [loc.loc["remote", "call_median_s"]])
        values |= {
            "FindLocalCall": interval(local, 2),
            "FindRemoteCall": interval(remote, 2),
            "FindLocalityRatio": f"{_median(remote) / _median(local):.1f}",
        }
    return values


def _objects_sentence(one: int, best: int, most: int, wall: dict[int, list[float]], word: str) -> str:
    """The objects-per-call finding in words: each setting named once, and nothing said of
    settings the profile did not run."""
    runs = f"{interval(wall[one], 1)}\\,s with {one} object a call"
    if best == one:
        return f"the job took {runs}, and no larger grouping was faster"
    against = f"{word} from" if word == NO_DIFFERENCE else word
    text = f"the job took {runs} and {interval(wall[best], 1)}\\,s with {best} ({against} one object a call)"
    if best == most:
        return text + f"; {most} is the most this profile tried, so whether more would pay was not measured"
    return text + f" and {interval(wall[most], 1)}\\,s with {most}, the most this profile tried"
