"""The study's own code as this build ran it (kernel ``study``, experiment ``study_code``): its
time per activation at each memory size, beside this build's kernels and the study's own
implied times, and what it made of the data, by cause. Numbers for the paper, from the metrics.
"""

from __future__ import annotations

import json

import pandas as pd

from aqbench import experiments as ex
from aqbench import study_facts as study
from aqbench.kernels.study import summary

OBJECT_MB = study.OBJECT_MB
"""Times are quoted per activation of a 25 MB document, the study's object size."""


def _per_object(maps: pd.DataFrame) -> pd.Series:
    """Each activation's duration scaled to a 25 MB object (its own object's size measured)."""
    return maps["duration_s"] / (maps["bytes_read"] / 1e6) * OBJECT_MB


def _maps(calls: pd.DataFrame, kernel: str, experiment: str | None = ex.STUDY_CODE) -> pd.DataFrame:
    ok = calls[(calls["engine"] == "lithops") & (calls["phase"] == "map") & (calls["status"] == "success")]
    ok = ok[(ok["kernel"] == kernel) & (ok["bytes_read"] > 0) & ok["duration_s"].notna()]
    return ok[ok["experiment"] == experiment] if experiment else ok


def same_records(calls: pd.DataFrame) -> pd.DataFrame:
    """Seconds per activation, scaled to a 25 MB document in the study's layout, of the study's
    code (``study_code``) and of this build's kernels on the very objects its copies were made from
    (``study_objects``): one row per kernel and memory size with median, min, max and count.

    Activation ``i`` of either experiment reads the same records (one object an activation, the
    same order), so each time is scaled by the size of the study-layout copy of object ``i``: the
    comparison is per record, not per byte of two different encodings."""
    study = _maps(calls, "study")
    if not len(study):
        return pd.DataFrame()
    doc_bytes = study.groupby("call")["bytes_read"].first()
    rows = []
    for kernel, experiment in (("study", ex.STUDY_CODE), ("seed", ex.STUDY_OBJECTS), ("arrow", ex.STUDY_OBJECTS)):
        maps = _maps(calls, kernel, experiment)
        maps = maps[maps["call"].isin(doc_bytes.index)]
        per = maps["duration_s"] / (maps["call"].map(doc_bytes) / 1e6) * OBJECT_MB
        for memory, values in per.groupby(maps["memory_mb"]):
            rows.append({"kernel": kernel, "memory_mb": int(memory), "median_s": values.median(),
                         "min_s": values.min(), "max_s": values.max(), "n": len(values)})  # fmt: skip
    return pd.DataFrame(rows)


def table(calls: pd.DataFrame | None) -> str:
    """The table of :func:`same_records`: per memory size, the study's code beside the seed and
    arrow kernels on the same records, and the study's code's time as a multiple of each."""
    per = same_records(calls) if calls is not None and "study" in set(calls["kernel"].dropna()) else pd.DataFrame()
    head = (
        "\\begin{tabular}{rllll}\n\\toprule\n"
        "Memory & study's code & seed kernel & arrow kernel & study's code $\\div$ seed; $\\div$ arrow \\\\\n"
        "(MB) & s per activation & s per activation & s per activation & (medians) \\\\\n\\midrule\n"
    )
    if per.empty:
        return head + "\\multicolumn{5}{l}{no study\\_code runs} \\\\\n\\bottomrule\n\\end{tabular}\n"
    body = []
    by = per.set_index(["kernel", "memory_mb"])
    for memory in sorted(per["memory_mb"].unique()):
        cells, medians = [], {}
        for kernel in ("study", "seed", "arrow"):
            if (kernel, memory) in by.index:
                r = by.loc[(kernel, memory)]
                medians[kernel] = r["median_s"]
                cells.append(f"{r['median_s']:.2f} ({r['min_s']:.2f}--{r['max_s']:.2f}, {int(r['n'])})")
            else:
                cells.append("--")
        ratios = [f"{medians['study'] / medians[k]:.1f}" if k in medians and "study" in medians else "--"
                  for k in ("seed", "arrow")]  # fmt: skip
        body.append(f"{memory} & " + " & ".join(cells) + f" & {ratios[0]}; {ratios[1]} \\\\\n")
    return head + "".join(body) + "\\bottomrule\n\\end{tabular}\n"


def timeout_outcome(calls: pd.DataFrame | None, runs: pd.DataFrame | None) -> dict | None:
    """The ``timeout`` experiment as the study's timeout run ran: every object an activation in
    one worker, the timeout the invocation's. Median over its runs of the activations done when the
    limit struck; None if it did not run."""
    if calls is None or runs is None or "timeout_s" not in runs:
        return None
    mine = runs[(runs["engine"] == "lithops") & (runs["experiment"] == ex.TIMEOUT)]
    maps = calls[(calls["experiment"] == ex.TIMEOUT) & (calls["phase"] == "map") & (calls["engine"] == "lithops")]
    if not len(mine) or not len(maps):
        return None
    if "attempt" in maps:  # each call's last attempt is its outcome
        maps = maps.sort_values("attempt")
    last = maps.groupby(["run_id", "call"]).last().reset_index()
    if "invocation" not in last:
        last["invocation"] = last["call"]
    per = last.groupby("run_id").agg(done=("status", lambda x: int((x == "success").sum())),
                                     activations=("call", "size"), workers=("invocation", "nunique"))  # fmt: skip
    return {"limit_s": float(mine["timeout_s"].median()), "done": int(per["done"].median()),
            "activations": int(per["activations"].median()), "workers": int(per["workers"].median()),
            "status": ",".join(sorted(set(mine["status"]))), "runs": len(mine)}  # fmt: skip


def times(a: float, b: float, more: str = "", less: str = "less than") -> str:
    """``a`` against ``b`` in words whichever is larger: "3.1 times as slow as", "2.0 times less than"."""
    return f"{a / b:.1f} times {more}".rstrip() if a >= b else f"{b / a:.1f} times {less}"


def macros(calls: pd.DataFrame | None, runs: pd.DataFrame | None, bench: dict | None = None) -> dict[str, str]:
    names = ("StudyCodeActivations", "StudyCodeAtStudyMemoryS", "StudyCodeLambdaSlower", "SeedCodeMBs",
             "StudyCodeMBs", "StudyCodeVsSeed", "StudyCodeWrong", "StudyCodeStationDays", "StudyCodeCauses",
             "StudyCodeObjects", "StudyCodeExtraGroups", "StudyCodeVsSeedEngine")  # fmt: skip
    out = dict.fromkeys(names, "--")
    if bench and bench.get("study_mb_s"):  # one core, one run, the same records: the kernel bench
        out["SeedCodeMBs"], out["StudyCodeMBs"] = f"{bench['seed_mb_s']:.1f}", f"{bench['study_mb_s']:.1f}"
        out["StudyCodeVsSeed"] = times(bench["seed_mb_s"], bench["study_mb_s"], "as slow as", "as fast as")
    if calls is None or "study" not in set(calls["kernel"].dropna()):
        return out
    study_maps = _maps(calls, "study")
    if not len(study_maps):
        return out
    per = _per_object(study_maps).groupby(study_maps["memory_mb"])
    cells = []
    for memory, values in per:
        cells.append(
            f"{int(memory)}\\,MB: {values.median():.1f}\\,s ({values.min():.1f}--{values.max():.1f}, {len(values)})"
        )
    out["StudyCodeActivations"] = "; ".join(cells)
    out["StudyCodeObjects"] = str(study_maps["call"].nunique())
    same = same_records(calls)
    if len(same):
        at = same[same["memory_mb"] == study.WARMUP_MEMORY_MB].set_index("kernel")["median_s"]
        if {"study", "seed"} <= set(at.index):
            out["StudyCodeVsSeedEngine"] = times(at["study"], at["seed"], "as slow as", "as fast as")
    at_study = per.median().get(study.WARMUP_MEMORY_MB)
    if at_study is not None:
        out["StudyCodeAtStudyMemoryS"] = f"{at_study:.1f}"
        implied = study.activation_s_from_timeout()[1]  # the upper end of Lithops' reading of it
        out["StudyCodeLambdaSlower"] = times(implied, at_study)
    if runs is not None and "mismatch_by_cause" in runs:
        found = runs[(runs["experiment"] == ex.STUDY_CODE) & runs["mismatch_by_cause"].notna()]
        if len(found):
            by_cause = json.loads(found["mismatch_by_cause"].iloc[-1])  # every run reads the same objects
            total, wrong, causes, extra = summary(by_cause)
            out["StudyCodeStationDays"] = f"{total:,}".replace(",", "{,}")
            out["StudyCodeWrong"] = f"{wrong:,}".replace(",", "{,}")
            listed = [f"{k} {v:,}".replace(",", "{,}") for k, v in causes.items()]
            out["StudyCodeCauses"] = "; ".join(listed) if listed else "none"
            out["StudyCodeExtraGroups"] = f"{extra:,}".replace(",", "{,}")
    return out
