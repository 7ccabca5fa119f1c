"""The scale simulation in the paper: its macros and tables, from ``results/<profile>/scale``.

Direction words ("faster", "slower") are computed from the numbers, never typed.

One module (longer than most here): every table and macro of the scale section reads the same
few files of the simulation (validation, projection, study runs, sensitivity) and formats them
alike.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pandas as pd

from aqbench import study_facts as study


def _pct(x: float) -> str:
    return f"{100 * x:.1f}\\,\\%"


def _s(x: float) -> str:
    return f"{x:,.0f}".replace(",", "{,}") if x >= 100 else f"{x:.1f}"


def _usd(x: float) -> str:
    return f"{x:.3f}"


def _config(row: pd.Series) -> str:
    arch = "arm64" if row["architecture"] == "arm64" else "x86"
    return (f"{int(row['memory_mb'])}\\,MB, {int(row['objects_per_call'])} object(s) per call, "
            f"$R={int(row['reducers'])}$, {arch}")  # fmt: skip


def _ceil(x: float) -> str:
    return f"{math.ceil(x):.0f}" if x == x else "nan"


def _times(a: float, b: float) -> str:
    """``a`` against ``b`` as words a sentence can take whichever is larger: "2.1 times as long as"."""
    return f"{a / b:.2g} times as long as"


def hash_vs_single(table: pd.DataFrame) -> str:
    """How much longer a single reducer's job takes than eight hash-partitioned ones', over every
    x86 configuration where the single reducer survives: "1.2--1.8 times as long as"."""
    x86 = table[(table["architecture"] == "x86_64") & (table["status"] == "success")]
    wide = x86.pivot_table(index=["memory_mb", "objects_per_call"], columns="reducers", values="wall_s").dropna()
    if 1 not in wide or 8 not in wide or not len(wide):
        return "--"
    r = wide[1] / wide[8]
    return f"{r.min():.1f}--{r.max():.1f} times as long as" if r.max() - r.min() >= 0.05 else _times(r.iloc[0], 1)


def overlapping(table: pd.DataFrame, pick: pd.Series, col: str) -> pd.DataFrame:
    """The rows whose 10th--90th percentile range of ``col`` overlaps the pick's (the pick among them):
    told apart from it by their medians only, so the paper says "lowest median", not "fastest"."""
    lo, hi = f"{col}_p10", f"{col}_p90"
    return table[(table[lo] <= pick[hi]) & (table[hi] >= pick[lo])]


def stopped_walls(held: pd.DataFrame) -> str:
    """The held-out runs stopped by a limit: measured against predicted wall, outside the error
    statistics (a stopped job has no completion time) but stated, never dropped silently."""
    stopped = held[held["error"].isna() & held["predicted_s"].notna() & held["measured_s"].notna()]
    if not len(stopped):
        return "none"
    return "; ".join(
        f"{r.experiment} ({int(r.memory_mb)}\\,MB): measured {_s(r.measured_s)}\\,s to its end, predicted "
        f"{_s(r.predicted_s)}\\,s ({r.predicted_s / r.measured_s - 1:+.0%})".replace("%", "\\,\\%").replace("_", "\\_")
        for r in stopped.itertuples()
    )


def scale_macros(scale: Path) -> dict[str, str]:
    """The simulation's numbers for the paper."""
    from aqbench.scale.project import optimum
    from aqbench.scale.validate import verdict

    values: dict[str, str] = {}
    validation = pd.read_csv(scale / "validation.csv")
    v = verdict(validation)
    held = validation[validation["held_out"]] if "held_out" in validation else validation
    worst = held.loc[held["error"].abs().idxmax()]
    cal_file = json.loads((scale / "calibration.json").read_text())
    calibrated = sorted(cal_file.get("experiments") or (set(validation["experiment"]) - set(held["experiment"])))
    values |= {
        "ScaleConfigurations": str(v.configurations),
        "ScaleCalibratedConfigs": str(int(validation["experiment"].isin(calibrated).sum())),
        "ScaleSameSettings": str(int((~validation["experiment"].isin(calibrated)).sum() - len(held))),
        "ScaleCalibratedOn": ", ".join(f"\\texttt{{{e}}}".replace("_", r"\_") for e in calibrated) or "--",
        "ScaleMedianError": _pct(v.median_abs_error),
        "ScaleWorstError": _pct(v.worst_abs_error),
        "ScaleWorstConfig": (
            f"{worst['experiment']} ({worst['kernel']} kernel, {worst['locality']} data, "
            f"{int(worst['memory_mb'])}\\,MB)"
        ).replace("_", r"\_"),
        "ScaleTimedConfigs": str(int(held["error"].notna().sum())),
        "ScaleTargetMet": "met" if v.meets() else "missed",
        "ScaleTimeoutsAgree": "stops them too" if v.statuses_agree else "does not stop them all",
        "ScaleStoppedWalls": stopped_walls(held),
    }
    cal = json.loads((scale / "calibration.json").read_text())
    per_mb = cal["map_cpu_s_per_mb"]
    values |= {
        "ScaleNetMBs": f"{cal['net_mb_s']:.0f}",
        "ScaleOverheadS": f"{cal['overhead_s']:.2f}",
        "ScaleColdInitS": f"{cal['cold_init_s']:.2f}",
        "ScaleArrowCPUsPerMB": f"{1000 * cal['map_cpu_s_per_mb']['arrow']:.1f}",
        "ScaleSeedCPUsPerMB": f"{1000 * cal['map_cpu_s_per_mb'].get('seed', float('nan')):.0f}",
        "ScaleSeedVsArrowCPU": f"{per_mb.get('seed', float('nan')) / per_mb['arrow']:.1f}",
    }
    table = pd.read_csv(scale / "projection.csv")
    ok = table[(table["status"] == "success") & table["wall_s"].notna()]
    from aqbench.scale.project import picks

    chosen = picks(table)
    fastest, cheapest = chosen["fastest"], chosen["cheapest"]

    def spread(row: pd.Series, col: str, fmt) -> str:
        lo, hi = row.get(f"{col}_p10"), row.get(f"{col}_p90")
        return f"{fmt(lo)}--{fmt(hi)}" if lo is not None and pd.notna(lo) else "--"

    values |= {
        "ProjectionConfigs": str(len(table) // 2),
        "ScaleSeeds": str(int(table["runs"].max())) if "runs" in table else "1",
        "ScaleFastestS": _s(fastest["wall_s"]),
        "ScaleFastestSpread": spread(fastest, "wall_s", _s),
        "ScaleFastestUSD": _usd(fastest["cost_usd"]),
        "ScaleFastestConfig": _config(fastest),
        "ScaleCheapestS": _s(cheapest["wall_s"]),
        "ScaleCheapestSpread": spread(cheapest, "wall_s", _s),
        "ScaleCheapestUSD": _usd(cheapest["cost_usd"]),
        "ScaleCheapestUSDSpread": spread(cheapest, "cost_usd", _usd),
        "ScaleCheapestConfig": _config(cheapest),
        "ScaleFrontier": str(len(optimum(ok))),
        "ScaleFastestTies": str(len(overlapping(ok[ok["architecture"] == "x86_64"], fastest, "wall_s")) - 1),
        "ScaleCheapestTies": str(len(overlapping(ok, cheapest, "cost_usd")) - 1),
        "ScaleKilled": str(int((table["status"] == "oom").sum() // 2)),
    }
    floor_file = scale / "floor.json"
    floor = json.loads(floor_file.read_text()) if floor_file.exists() else {}
    values["ScaleCpuRatio"] = _tex(floor.get("cpu_ratio", "not recorded"))
    from aqbench.lambda_facts import facts

    values["FactReadTailMax"] = f"{max(facts().values['s3_read_time_factors'][1]):.1f}"
    values |= published_macros(scale)
    values["ScaleFloorS"] = _s(floor["floor_s"]) if floor else "--"
    values["ScaleFastestVsFloor"] = f"{floor['fastest_vs_floor']:.2f}" if floor else "--"
    sens_file = scale / "sensitivity.csv"
    sens = pd.read_csv(sens_file) if sens_file.exists() else pd.DataFrame()
    for target, name in (("fastest", "Fastest"), ("cheapest", "Cheapest")):
        rows = sens[sens["target"] == target] if len(sens) else sens
        for col, fmt, key in (("wall_s", _s, "S"), ("cost_usd", _usd, "USD")):
            vals = pd.concat([rows[col], rows[f"base_{col}"]]).dropna() if len(rows) else pd.Series(dtype=float)
            values[f"Scale{name}Inputs{key}"] = f"{fmt(vals.min())}--{fmt(vals.max())}" if len(vals) else "--"
        if len(rows):  # the fastest job's sentence is about its time, the cheapest's about its cost
            col = "wall_s" if target == "fastest" else "cost_usd"
            swing = (rows.groupby("label")[col].agg(lambda x: x.max() - x.min())).sort_values()
            values[f"Scale{name}Driver"] = str(swing.index[-1]).split(" (")[0]
        else:
            values[f"Scale{name}Driver"] = "--"
    by = table.set_index(["architecture", "memory_mb", "objects_per_call", "reducers"])

    def wall(arch: str, memory: int, opc: int, reducers: int) -> float | None:
        row = by.loc[(arch, memory, opc, reducers)]
        return float(row["wall_s"]) if row["status"] == "success" else None

    def ratio(a: float | None, b: float | None) -> str:
        return _times(a, b) if a and b else "--"

    # where a single reducer survives (its memory grows with the whole data's partials)
    survives = table[(table["architecture"] == "x86_64") & (table["reducers"] == 1) & (table["status"] == "success")]
    mem_ref = int(survives["memory_mb"].min()) if len(survives) else None
    one, eight = wall("x86_64", 1769, 1, 8), wall("x86_64", 1769, 8, 8)
    cal_mem = (cal.get("reduce_base_mb", 0.0), cal.get("reduce_mb_per_input_mb", 0.0))
    whole_partials = study.DATA_GB * 1000 * cal["partial_mb_per_input_mb"]
    values |= {
        "HashVsSingle": hash_vs_single(table),
        "StudyReducerFate": "would have been killed" if mem_ref is None or mem_ref > 1024 else "would have survived",
        "SingleReducerMemoryMB": str(mem_ref) if mem_ref else "--",
        "SingleReducerPeakMB": f"{cal_mem[0] + cal_mem[1] * whole_partials:,.0f}".replace(",", "{,}")
        if cal_mem[1]
        else "--",
        "OneObjectS": _s(one) if one else "--",
        "EightObjectsS": _s(eight) if eight else "--",
        "EightVsOne": ratio(one, eight),
    }
    # arm64 against x86 on every configuration that completes on both (the same job, priced twice)
    both = ok.pivot_table(index=["memory_mb", "objects_per_call", "reducers"], columns="architecture",
                          values="cost_usd").dropna()  # fmt: skip
    saving = (1 - both["arm64"] / both["x86_64"]) if {"arm64", "x86_64"} <= set(both.columns) else pd.Series()
    values["ArmSaving"] = f"{_pct(saving.min())[:-4]}--{_pct(saving.max())}" if len(saving) else "--"

    values |= alternatives_macros(scale)
    return values | study_macros(scale) | {"ProjectionMarks": projection_marks(scale)}


def alternatives_macros(scale: Path) -> dict[str, str]:
    """The EC2 alternatives at the study's size and where each platform wins (alternatives.csv,
    crossover.json of simulate --project)."""
    alt_file, cross_file = scale / "alternatives.csv", scale / "crossover.json"
    keys = (
        "BigInstanceVCPUs",
        "BigInstanceS",
        "BigInstanceUSD",
        "BigInstanceBound",
        "BigInstanceBootS",
        "DaskClusters",
        "WinnersBySize",
        "KeptUpPasses",
        "KeptUpMaxPasses",
        "StudyFastest",
        "StudyCheapest",
    )
    if not alt_file.exists() or alt_file.stat().st_size <= 1 or not cross_file.exists():
        return dict.fromkeys(keys, "--")
    alts = pd.read_csv(alt_file)
    cross = json.loads(cross_file.read_text())["by_size"]
    study_gb = study.DATA_GB if study.DATA_GB in set(alts["data_gb"]) else float(alts["data_gb"].median())
    at = alts[alts["data_gb"] == study_gb]
    big = at[at["kind"] == "single"].iloc[0]
    dask = at[at["kind"] == "dask"]
    here = next(c for c in cross if c["data_gb"] == study_gb)

    def name(option: str) -> str:
        return _tex(option).replace(" x ", r" $\times$ ")

    clusters = "; ".join(
        f"{int(r.instances)} instance{'s' if r.instances > 1 else ''}: {_s(r.wall_s)}\\,s for \\${_usd(r.cost_usd)}"
        for r in dask.itertuples()
    )

    def told_apart(c: dict[str, Any]) -> str:
        """The cheapest alternative's cost over its seeded walls' 10th--90th percentiles (billed time is
        its cost): where the runner-up's cost falls inside, the two are not told apart."""
        row = alts[(alts["data_gb"] == c["data_gb"]) & (alts["option"] == c["cheapest"])]
        if not len(row) or pd.isna(row.iloc[0].get("wall_s_p90")):
            return ""
        r = row.iloc[0]
        high = r["cost_usd"] * r["wall_s_p90"] / r["wall_s"]
        other = c["cheapest_usd"] * c["cheapest_by"]
        if other > high:
            return ""
        return f", not told apart from {name(c['cheapest_other'])} (\\${_usd(other)})"

    def winners(c: dict[str, Any]) -> str:
        return (f"at {c['data_gb']:g}\\,GB the fastest is {name(c['fastest'])} ({_s(c['fastest_s'])}\\,s) and the "
                f"cheapest {name(c['cheapest'])} (\\${_usd(c['cheapest_usd'])}{told_apart(c)})")  # fmt: skip

    return {
        "BigInstanceVCPUs": str(int(big["vcpus"])),
        "BigInstanceS": _s(big["wall_s"]),
        "BigInstanceUSD": _usd(big["cost_usd"]),
        "BigInstanceBound": str(big["bound"]),
        "BigInstanceBootS": _s(big["boot_s"]),
        "DaskClusters": clusters or "--",
        "WinnersBySize": "; ".join(winners(c) for c in cross),
        # "from N passes an hour": the break-even rounded up, so N is past it
        "KeptUpPasses": _ceil(here.get("kept_up_passes_per_hour", math.nan)),
        "KeptUpMaxPasses": f"{here.get('kept_up_max_passes_per_hour', math.nan):.0f}",
        "StudyFastest": (
            f"{name(here['fastest'])} ({_s(here['fastest_s'])}\\,s, {here['fastest_by']:.1f} times "
            f"faster than the best of another platform, {name(here['fastest_other'])})"
        ),
        "StudyCheapest": (
            f"{name(here['cheapest'])} (\\${_usd(here['cheapest_usd'])} in "
            f"{_s(here['cheapest_s'])}\\,s, {here['cheapest_by']:.1f} times cheaper than the best "
            f"of another platform, {name(here['cheapest_other'])})"
        ),
    }


def explanation(log_s: float, simulated: dict[str, float]) -> str:
    """Which cost per activation reproduces the warm-up's logged time, and by how much the others
    miss it: ``simulated`` maps each reading (a phrase) to the warm-up's simulated seconds with it."""
    off = {name: abs(math.log(sim / log_s)) for name, sim in simulated.items()}
    best = min(off, key=off.get)

    def ratio(sim: float) -> str:
        return f"{log_s / sim:.2g} times"

    others = "; ".join(f"with {name} its log is {ratio(sim)} the simulation's {_s(sim)}\\,s"
                       for name, sim in simulated.items() if name != best)  # fmt: skip
    return (f"the warm-up's {_s(log_s)}\\,s is nearest the simulation with {best} ({_s(simulated[best])}\\,s, "
            f"its log {ratio(simulated[best])} that); {others}")  # fmt: skip


def set_by(implied_s: float, code_s: float) -> str:
    """What the study's per-activation time says, computed: its activation (as its timeout run
    implies) against its own code's in the model, at Lambda's core speed."""
    if implied_s >= 2 * code_s:
        return (f"a cost per activation on Lambda {implied_s / code_s:.0f} times what its code costs in this "
                "build's model of Lambda")  # fmt: skip
    if implied_s * 2 <= code_s:
        return f"a cost per activation {code_s / implied_s:.0f} times below what its code costs in this build's model"
    return "a cost per activation within a factor of two of what its code costs in this build's model"


READING_MACROS = (
    ("StudyTimeoutErrorS", "error_after_s"),
    ("StudyMonitorTimeoutS", "monitor_timeout_s"),
    ("StudyTwentiethSeenS", "twentieth_seen_s"),
    ("StudyPollS", "poll_s"),
)
"""The macros of Lithops' reading of the timeout run (:func:`aqbench.study_facts.timeout_reading`)."""


def study_macros(scale: Path) -> dict[str, str]:
    """The study's two runs as they ran, reported beside simulated (scale/study.csv)."""
    from aqbench.report.study_code import times
    from aqbench.scale.project import IMPLIED, STUDY_KERNEL

    runs = pd.read_csv(scale / "study.csv")
    now = runs[runs["scaling"].str.startswith("1000")]

    def sim(case_prefix: str, kernel: str) -> pd.Series | None:
        found = now[now["case"].str.startswith(case_prefix) & (now["kernel"] == kernel)]
        return found.iloc[0] if len(found) else None

    warm = {k: sim("warm-up", k) for k in ("arrow", "seed", STUDY_KERNEL, IMPLIED)}
    timeout = {k: sim("timeout run", k) for k in ("arrow", "seed", STUDY_KERNEL, IMPLIED)}
    low, high = study.activation_s_from_timeout()
    reading = study.timeout_reading()
    log_s = study.WARMUP_WALL_S
    code, code_t = warm[STUDY_KERNEL], timeout[STUDY_KERNEL]

    def span(row: pd.Series | None, col: str, fmt=_s) -> str:  # slow core .. fast core
        if row is None or f"{col}_slow" not in row or pd.isna(row[f"{col}_slow"]):
            return "--"
        ends = [float(row[f"{col}_fast"]), float(row[f"{col}_slow"]), float(row[col])]
        return f"{fmt(min(ends))}--{fmt(max(ends))}"

    values = {
        "StudyMemoryMB": str(study.WARMUP_MEMORY_MB),
        "StudyLithops": study.LITHOPS_VERSION,
        "StudyRunsDiffer": f"{low / study.activation_s_from_warmup():.1f}",
        "StudyWarmupS": str(log_s),
        "StudyWarmupLogStart": study.WARMUP_LOG[0],
        "StudyWarmupLogEnd": study.WARMUP_LOG[1],
        "StudyWarmupActivations": f"{study.WARMUP_ACTIVATIONS:,}".replace(",", "{,}"),
        "StudyWarmupChunksize": str(study.WARMUP_CHUNKSIZE),
        "StudyWarmupWorkers": str(study.WARMUP_WORKERS),
        "StudyWarmupGB": f"{study.WARMUP_ACTIVATIONS * study.OBJECT_MB / 1000:.1f}",
        "StudyTimeoutActivations": f"{study.TIMEOUT_ACTIVATIONS:,}".replace(",", "{,}"),
        "StudyTimeoutDone": str(study.TIMEOUT_DONE),
        "StudyTimeoutS": str(study.TIMEOUT_S),
        "StudyActivationLowS": f"{low:.1f}",
        "StudyActivationHighS": f"{high:.1f}",
        # how Lithops 2.7.1's timeout error gives that reading: facts of its log and code, no run needed
        **{name: f"{reading[key]:,.0f}".replace(",", "{,}") for name, key in READING_MACROS},
        "StudyWarmupActivationMaxS": f"{study.activation_s_from_warmup():.0f}",
        "StudyBillUSD": f"{study.BILL_USD:.2f}",
        "StudyCreditUSD": str(study.CREDIT_USD),
        "SimSeedActivationS": _s(warm["seed"]["activation_s"]),
        "SimArrowActivationS": _s(warm["arrow"]["activation_s"]),
        "StudyVsSeedActivation": times(high, warm["seed"]["activation_s"]),
        "SimWarmupImpliedS": _s(warm[IMPLIED]["simulated_s"]),
        "SimWarmupSeedS": _s(warm["seed"]["simulated_s"]),
        "SimWarmupArrowS": _s(warm["arrow"]["simulated_s"]),
        "WarmupLogVsImplied": f"{log_s / warm[IMPLIED]['simulated_s']:.2f}",
        "WarmupLogVsSeed": f"{log_s / warm['seed']['simulated_s']:.1f}",
        "SimTimeoutStatusSeed": timeout["seed"]["status"],
        "SimTimeoutStatusArrow": timeout["arrow"]["status"],
        "SimTimeoutDoneSeed": str(int(timeout["seed"]["done_at_limit"])),
        "SimTimeoutDoneArrow": str(int(timeout["arrow"]["done_at_limit"])),
        "ScalingRuleMatters": "does not change"
        if (runs.groupby(["case", "kernel"])["simulated_s"].agg(lambda x: x.max() - x.min()) < 0.5).all()
        else "changes",
    }
    values |= dict.fromkeys(("SimStudyCodeActivationS", "SimStudyCodeActivationRange", "SimWarmupStudyCodeS",
                             "SimWarmupStudyCodeRange", "WarmupLogVsStudyCode", "SimTimeoutDoneStudyCode",
                             "SimTimeoutDoneStudyCodeRange", "SimTimeoutStatusStudyCode", "WarmupExplanation",
                             "StudyCodeVsTimeoutRun", "StudyTimesSetBy"), "--")  # fmt: skip
    if code is not None and code_t is not None:
        values |= {
            "SimStudyCodeActivationS": _s(code["activation_s"]),
            "SimStudyCodeActivationRange": span(code, "activation_s"),
            "SimWarmupStudyCodeS": _s(code["simulated_s"]),
            "SimWarmupStudyCodeRange": span(code, "simulated_s"),
            "WarmupLogVsStudyCode": f"{log_s / code['simulated_s']:.2f}",
            "SimTimeoutDoneStudyCode": str(int(code_t["done_at_limit"])),
            "SimTimeoutDoneStudyCodeRange": span(code_t, "done_at_limit", lambda x: f"{x:.0f}"),
            "SimTimeoutStatusStudyCode": str(code_t["status"]),
            "WarmupExplanation": explanation(
                log_s,
                {
                    "the cost per activation its timeout run implies": warm[IMPLIED]["simulated_s"],
                    "the study's code as measured here": code["simulated_s"],
                    "this build's seed kernel": warm["seed"]["simulated_s"],
                },
            ),
            "StudyCodeVsTimeoutRun": times(high, code["activation_s"], "as long as", "less than"),
            "StudyTimesSetBy": set_by(high, code["activation_s"]),
        }
    return values


def _tex(text: str) -> str:
    return str(text).replace("_", r"\_").replace("%", r"\%").replace("&", r"\&")


def published_macros(scale: Path) -> dict[str, str]:
    """The held-out published jobs' verdict (scale/published.csv, written by simulate --validate)."""
    from aqbench.scale.published import TARGET

    path = scale / "published.csv"
    if not path.exists():
        return {"PublishedJobs": "0", "PublishedWithin": "0", "PublishedSources": "0", "PublishedTarget": _pct(TARGET),
                "PublishedErrorRange": "--", "PublishedMedianError": "--", "PublishedCallErrors": "--",
                "PublishedBatchDirection": "--"}  # fmt: skip
    t = pd.read_csv(path)
    calls = t[t["measure"] != "wall"]
    walls = t[t["measure"] == "wall"]

    def direction(errors: pd.Series) -> str:  # computed: a direction only where every job agrees
        if not len(errors):
            return "--"
        span = f"({errors.min():+.0%} to {errors.max():+.0%})".replace("%", r"\,\%")
        if (errors < 0).all():
            return f"too fast in every one {span}"
        if (errors > 0).all():
            return f"too slow in every one {span}"
        return f"in both directions {span}"

    return {
        "PublishedCallErrors": ", ".join(f"{e:+.0%}" for e in calls["error"]).replace("%", r"\,\%") or "--",
        "PublishedBatchDirection": direction(walls["error"]),
        "PublishedJobs": str(len(t)),
        "PublishedWithin": str(int(t["within_target"].sum())),
        "PublishedSources": str(t["source_id"].nunique()),
        "PublishedTarget": f"{TARGET:.0%}".replace("%", r"\,\%"),
        "PublishedErrorRange": f"{t['error'].min():+.0%}--{t['error'].max():+.0%}".replace("%", r"\,\%"),
        "PublishedMedianError": _pct(float(t["error"].abs().median())),
    }


def published_table(scale: Path) -> str:
    """Each held-out published job: its size, the published figure and the prediction."""
    path = scale / "published.csv"
    if not path.exists():
        return "no held-out published jobs were simulated\n"
    t = pd.read_csv(path)
    what = {"wall": "job wall", "call_mean": "call mean", "call_p90": "call p90", "call_p99": "call p99"}
    lines = [
        r"\setlength{\tabcolsep}{3pt}",
        r"\begin{tabular}{lrrrlrrr}",
        r"\toprule",
        r"job (source) & calls & MB each & MB & what & published (s) & predicted (p10--p90) & error \\",
        r"\midrule",
    ]
    for r in t.itertuples():
        band = f"{_s(r.predicted_s)} ({_s(r.predicted_s_p10)}--{_s(r.predicted_s_p90)})"
        lines.append(f"{_tex(r.job)} & {r.functions} & {r.mb_per_function:.0f} & {r.memory_mb} & "
                     f"{what.get(r.measure, r.measure)} & {_s(r.published_s)} & {band} & "
                     f"{r.error:+.0%} \\\\".replace("%", r"\,\%"))  # fmt: skip
    lines += [r"\bottomrule", r"\end{tabular}"]
    cites = ", ".join(f"\\cite{{held-{sid}}}" for sid in sorted(t["source_id"].unique()))
    lines.append(f"\\par\\smallskip Sources (held out: they set no input): {cites}.")
    return "\n".join(lines) + "\n"


def projection_table(scale: Path) -> str:
    """Wall time and cost of one job per memory size and objects per call (x86 and arm64 prices)."""
    table = pd.read_csv(scale / "projection.csv")
    idx = table.set_index(["memory_mb", "objects_per_call", "reducers", "architecture"])
    lines = [
        r"\begin{tabular}{rrrrrrrrr}",
        r"\toprule",
        r"memory & obj/call & calls & \multicolumn{2}{c}{wall time (s)} & \multicolumn{4}{c}{cost (USD)} \\",
        r"(MB) & & & $R=1$ & $R=8$ & x86, $R=1$ & arm64, $R=1$ & x86, $R=8$ & arm64, $R=8$ \\",
        r"\midrule",
    ]

    def wall(row: pd.Series) -> str:  # a stopped job has no completion time: only how it ended
        if row["status"] != "success" or pd.isna(row["wall_s"]):
            return {"timeout": r"timeout$^\dagger$", "oom": r"killed$^\ddagger$"}.get(row["status"], "?")
        return _s(row["wall_s"])

    def usd(row: pd.Series) -> str:  # what a stopped job was billed until it stopped, marked
        return _usd(row["cost_usd"]) + ("" if row["status"] == "success" else r"$^\ddagger$")

    for (memory, opc), _ in table.groupby(["memory_mb", "objects_per_call"]):
        cells = {(r, a): idx.loc[(memory, opc, r, a)] for r in (1, 8) for a in ("x86_64", "arm64")}
        one, eight = cells[(1, "x86_64")], cells[(8, "x86_64")]
        costs = " & ".join(usd(cells[k]) for k in ((1, "x86_64"), (1, "arm64"), (8, "x86_64"), (8, "arm64")))
        lines.append(f"{memory} & {opc} & {int(one['calls'])} & {wall(one)} & {wall(eight)} & {costs} \\\\")
    lines += [r"\bottomrule", r"\end{tabular}"]
    return "\n".join(lines) + "\n"


def projection_marks(scale: Path) -> str:
    """The projection table's legend, only for the marks it uses."""
    statuses = set(pd.read_csv(scale / "projection.csv")["status"])
    marks = []
    if "timeout" in statuses:
        marks.append(r"$^\dagger$: a call hit Lambda's 900\,s limit")
    if statuses - {"success"}:
        why = (
            "a reducer needed more than its function's memory, by the kernel bench's merges (killed: the job "
            "has no completion time)"
            if "oom" in statuses
            else "the job stopped: its cost is what it was billed until then"
        )
        marks.append(r"$^\ddagger$: " + why)
    return "; ".join(marks) if marks else "every job completed"


def study_table(scale: Path) -> str:
    """The study's two runs as they ran: what it reported beside what the simulation gives with
    each cost per activation (the study's own code and this build's kernels as measured, each at
    Lambda's core speed and over its range; and the one the study's timeout run implies)."""
    from aqbench.scale.project import IMPLIED, STUDY_KERNEL

    runs = pd.read_csv(scale / "study.csv")
    now = runs[runs["scaling"].str.startswith("1000")]
    lines = [
        r"\begin{tabular}{>{\raggedright\arraybackslash}p{2.6cm}r>{\raggedright\arraybackslash}p{1.7cm}"
        r">{\raggedright\arraybackslash}p{3.1cm}rrrr}",
        r"\toprule",
        r"run (1024\,MB) & Lambdas & reported & an activation's cost & s each & simulated (s)"
        r" & USD & done in 900\,s \\",
        r"\midrule",
    ]
    reported = {
        "warm-up": f"{study.WARMUP_WALL_S}\\,s (log)",
        "timeout run": f"timeout, {study.TIMEOUT_DONE} done",
    }
    names = {STUDY_KERNEL: "the study's code, measured here", IMPLIED: "as its timeout run implies"}

    def cell(r: pd.Series, col: str, fmt=_s) -> str:
        main = fmt(r[col])
        if f"{col}_slow" in r and pd.notna(r[f"{col}_slow"]):
            ends = [float(r[f"{col}_fast"]), float(r[f"{col}_slow"]), float(r[col])]
            lo, hi = fmt(min(ends)), fmt(max(ends))
            return main if lo == hi else f"{main} ({lo}--{hi})"
        return main

    for case, rows in now.groupby("case", sort=False):
        for i, (_, r) in enumerate(rows.iterrows()):
            head = (case, str(int(r["calls"])), next(v for k, v in reported.items() if case.startswith(k)))
            cells = head if i == 0 else ("", "", "")
            wall = cell(r, "simulated_s") + ("" if r["status"] == "success" else f" ({r['status']})")
            kernel = names.get(r["kernel"], f"{r['kernel']} kernel, measured here")
            done = cell(r, "done_at_limit", lambda x: f"{x:.0f}") if case.startswith("timeout") else "--"
            row = (*cells, kernel, cell(r, "activation_s"), wall, _usd(r["cost_usd"]), done)
            lines.append(" & ".join(row) + r" \\")
        lines.append(r"\addlinespace")
    lines[-1:] = [r"\bottomrule", r"\end{tabular}"]
    return "\n".join(lines) + "\n"


def _fact_sources(data: dict[str, Any]) -> dict[str, str]:
    """Each distinct source page of the facts: its bibliography key (``fact1``, ``fact2``, ...)."""
    keys: dict[str, str] = {}
    for fact in data["facts"].values():
        url = fact.get("url") or ""
        if url and url not in keys:
            keys[url] = f"fact{len(keys) + 1}"
    return keys


def facts_table(path: Path) -> str:
    """The published facts of the simulation, each with its unit and source, cited by its page."""
    import yaml

    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    keys = _fact_sources(data)

    def tex(text: str) -> str:
        return str(text).replace("_", r"\_").replace("%", r"\%").replace("&", r"\&").replace("#", r"\#")

    lines = [r"\setlength{\tabcolsep}{3pt}",
             r"\begin{tabular}{@{}lr>{\raggedright\arraybackslash}p{1.9cm}>{\raggedright\arraybackslash}p{8.4cm}@{}}",
             r"\toprule", r"fact & value & unit & source \\", r"\midrule"]  # fmt: skip
    for name, fact in data["facts"].items():
        url = fact.get("url") or ""
        cite = f"~\\cite{{{keys[url]}}}" if url else " (no public page)"
        value = fact["value"]
        if isinstance(value, list):  # a distribution: its ends and how many quantiles
            value = f"{min(value):g}--{max(value):g} ({len(value)} quantiles)"
        lines.append(f"{tex(name)} & {tex(value)} & {tex(fact['unit'])} & {tex(fact['source'])}{cite} \\\\")
    lines += [r"\bottomrule", r"\end{tabular}"]
    return "\n".join(lines) + "\n"


def facts_bibliography(path: Path) -> str:
    """One ``\\bibitem`` per source page of the facts table: its URL and the date it was read."""
    import yaml

    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    read: dict[str, set[str]] = {}
    names: dict[str, list[str]] = {}
    for name, fact in data["facts"].items():
        if url := fact.get("url") or "":
            read.setdefault(url, set()).add(str(fact.get("read", data.get("checked", "--"))))
            names.setdefault(url, []).append(name.replace("_", r"\_"))
    items = []
    for url, key in _fact_sources(data).items():
        items.append(f"\\bibitem{{{key}}} \\url{{{url}}} (read {', '.join(sorted(read[url]))}; for "
                     f"{', '.join(names[url])}).")  # fmt: skip
    from aqbench.scale.published import JOBS_FILE, read_jobs

    for sid, src in read_jobs(JOBS_FILE).sources.items():  # the held-out jobs' sources: validate, set nothing
        items.append(f"\\bibitem{{held-{sid}}} {_tex(src['title'])}, measured {_tex(src['measured'])}: "
                     f"\\url{{{src['url']}}} (read {src['read']}; held out: validates the simulation).")  # fmt: skip
    return "\n".join(items) + "\n"


def build_scale(scale: Path, out_dir: Path, write: Any) -> dict[str, str]:
    """Write the scale tables; the macros to add to the paper's."""
    from aqbench.lambda_facts import FACTS_FILE as FACTS

    write(out_dir / "tables" / "lambda_facts.tex", facts_table(FACTS))
    write(out_dir / "tables" / "facts_bibliography.tex", facts_bibliography(FACTS))
    write(out_dir / "tables" / "projection.tex", projection_table(scale))
    write(out_dir / "tables" / "study_scale.tex", study_table(scale))
    write(out_dir / "tables" / "published_validation.tex", published_table(scale))
    return scale_macros(scale)
