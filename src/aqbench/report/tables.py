"""LaTeX tables (booktabs) and the macros file: every number the paper prints, generated here.

Longer than most modules: the macros are one namespace the paper reads, built here from the
summaries; the scale, engines and study sections' numbers have their own modules
(:mod:`.scale_tables`, :mod:`.engines_compare`, :mod:`.study_code`).
"""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from aqbench import experiments as ex
from aqbench import study_facts as study
from aqbench.aggregates import SUM_RTOL
from aqbench.atomic import atomic_path
from aqbench.lambda_facts import facts
from aqbench.metrics import start_calls, start_latency


def _fmt(value: Any, digits: int = 2) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "--"
    if isinstance(value, float):
        return f"{value:,.{digits}f}".replace(",", "{,}")
    return str(value)


def _count(n: int) -> str:
    return f"{int(n):,}".replace(",", "{,}")


def _sig(value: Any) -> str:
    """Three significant figures, so small and large throughputs both read well."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "--"
    value = float(value)
    digits = 0 if abs(value) >= 100 else (1 if abs(value) >= 10 else 2)
    return _fmt(value, digits)


def _ci(row: pd.Series, col: str, digits: int = 1) -> str:
    """``median [lo--hi]`` (the runs' range); the median alone where fewer than three runs stand behind it."""
    from aqbench.report.engines_compare import row_interval

    return row_interval(row, col, digits)


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


def summary_table(summary: pd.DataFrame) -> str:
    """Every configuration: median wall time and throughput with their runs' range, calls, cost."""
    s = summary.sort_values(["engine", "experiment", "kernel", "memory_mb", "objects_per_call", "reducers", "fraction"])
    lines = [
        r"\begin{tabular}{llllrrrlll}",
        r"\toprule",
        r"engine & experiment & kernel & memory & obj/call & $R$ & runs & wall time (s) & MB/s & cost (m\$) \\",
        r"\midrule",
    ]
    for _, r in s.iterrows():
        if r.engine == "lithops":
            mem = f"{int(r.memory_mb)}"
        elif r.engine in ("duckdb", "polars"):
            mem = f"{int(r.workers)} threads" if r.workers else "1 process"
        else:
            mem = f"{int(r.workers)}$\\times${int(r.memory_mb)}"
        cost = "--" if r.status != "ok" else _fmt(r.cost_usd * 1e3, 2)
        wall = _ci(r, "wall_s") if r.status == "ok" else r.status
        mbs = _ci(r, "throughput_mb_s", 1) if r.status == "ok" else "--"
        exp = r.experiment.replace("_", r"\_") + ("" if r.fraction == 1 else f" ({r.fraction:g})")
        exp += " (remote)" if getattr(r, "locality", "local") == "remote" else ""
        kernel = r.kernel + ("$^*$" if r.engine in ("duckdb", "polars") and r.kernel != "duckdb" else "")
        chunk = int(getattr(r, "chunksize", 1) or 1)
        opc = f"{int(r.objects_per_call)}" + ("" if chunk == 1 else f", {chunk if chunk < 1000 else 'all'}/worker")
        lines.append(
            f"{r.engine} & {exp} & {kernel} & {mem} & {opc} & {int(r.reducers)} & {int(r.runs)} & "
            f"{wall} & {mbs} & {cost} \\\\"
        )
    lines += [r"\bottomrule", r"\end{tabular}", ""]
    return "\n".join(lines)


SUMMARY_COLUMNS = [
    *("engine", "experiment", "kernel", "memory_mb", "objects_per_call", "reducers", "fraction", "workers"),
    *("locality", "warmup", "status", "runs", "wall_s", "wall_s_lo", "wall_s_hi", "throughput_mb_s"),
    *("throughput_mb_s_lo", "throughput_mb_s_hi", "cold_starts", "cost_usd"),
]
"""The summary's columns a reader of the Snakemake report sees."""


def summary_csv(summary: pd.DataFrame) -> str:
    """The per-configuration summary as CSV (the Snakemake report shows it as a table)."""
    cols = [c for c in SUMMARY_COLUMNS if c in summary.columns]
    return summary[cols].sort_values(cols[:8]).to_csv(index=False, float_format="%.6g")


def rejections_table(summary_json: dict[str, Any]) -> str:
    lines = [r"\begin{tabular}{lr}", r"\toprule", r"reason & lines \\", r"\midrule"]
    for reason, n in sorted(summary_json["rejected_by_reason"].items(), key=lambda kv: -kv[1]):
        lines.append(f"{reason.replace('_', chr(92) + '_')} & {n:,} \\\\".replace(",", "{,}"))
    lines += [
        r"\midrule",
        f"kept & {summary_json['records_valid']:,} \\\\".replace(",", "{,}"),
        f"read & {summary_json['records_read']:,} \\\\".replace(",", "{,}"),
        r"\bottomrule",
        r"\end{tabular}",
        "",
    ]
    return "\n".join(lines)


def _unit_split_groups(reference_csv: Path) -> int:
    """Station-days whose parameter was reported in two units (the original study averaged them together)."""
    from aqbench.aggregates import read_csv

    table = read_csv(reference_csv).select(["country", "city", "latitude", "longitude", "day", "parameter", "unit"])
    keys = ["country", "city", "latitude", "longitude", "day", "parameter"]
    units = table.to_pandas().groupby(keys, dropna=False)["unit"].nunique()
    return int((units > 1).sum())


def _warm_cold(calls: pd.DataFrame | None) -> dict[str, str]:
    """Cold starts of the warm-up job and of the measured job, and their start latencies."""
    out = dict.fromkeys(
        (
            "WarmupColdStarts",
            "MeasuredColdStarts",
            "WarmupCalls",
            "ColdLatency",
            "WarmLatency",
            "InitSeconds",
            "ColdLatencyN",
            "WarmLatencyN",
        ),
        "--",
    ) | {"WarmupShape": "--"}
    if calls is None or ex.WARMUP not in set(calls["experiment"]):
        return out
    runs = calls[(calls["engine"] == "lithops") & (calls["experiment"] == ex.WARMUP)]
    cold = runs["cold_start"].fillna(False).astype(bool)
    warmup, measured = runs[runs["phase"] == "warmup"], runs[runs["phase"] == "map"]
    # the calls Fig. cold_warm draws, so the medians and their n in the text are the figure's
    latency = start_latency(start_calls(runs)).reindex(runs.index)
    out["WarmupCalls"] = _count(len(warmup))
    # how the warm-up's calls ran: as the study's (activations, two to a worker) or, in runs made
    # before chunksize was a setting, one invocation of two objects each
    if "position" in warmup and warmup["position"].notna().any():
        per = warmup.groupby(["run_id", "invocation"])["call"].size().median()
        objects = warmup["objects"].median()
        out["WarmupShape"] = f"{objects:.0f} object(s) an activation, {per:.0f} activations a worker in sequence"
    else:
        out["WarmupShape"] = f"{warmup['objects'].median():.0f} objects a call"
    out["WarmupColdStarts"] = _count(int(cold[warmup.index].sum()))
    out["MeasuredColdStarts"] = _count(int(cold[measured.index].sum()))
    out["ColdLatency"] = _fmt(latency[cold].median(), 2) if cold.any() else "--"
    out["WarmLatency"] = _fmt(latency[~cold].median(), 2) if (~cold).any() else "--"
    out["ColdLatencyN"] = _count(int(latency[cold].notna().sum()))  # the medians' sample sizes, said beside them
    out["WarmLatencyN"] = _count(int(latency[~cold].notna().sum()))
    out["InitSeconds"] = _fmt(runs.loc[cold, "init_s"].median(), 2) if cold.any() and "init_s" in runs else "--"
    return out


def _quoted_ratio(row: pd.Series, max_drift: float | None = None) -> str:
    """A configuration's throughput over its own runs' probes, refused when it cannot be right."""
    from aqbench.defaults import schema_default
    from aqbench.errors import UnreliableRatio

    max_drift = schema_default("report.max_probe_drift") if max_drift is None else max_drift
    if pd.isna(row["vs_limit"]):
        return "--"
    what = f"{row['engine']} {row.get('experiment', row.get('experiments'))} {row['kernel']} {int(row['memory_mb'])} MB"
    if row["vs_limit"] > 1:
        raise UnreliableRatio(
            f"{what}: {row['throughput_mb_s']:.1f} MB/s is {row['vs_limit']:.2f} of its own probe "
            f"({row['probe_mb_s']:.1f} MB/s): above the machine's limit, so one of the two is wrong; rerun it"
        )
    if row["probe_drift"] > max_drift:
        raise UnreliableRatio(
            f"{what}: the machine's probe moved {row['probe_drift']:.0%} within a run (at most {max_drift:.0%}, "
            "report.max_probe_drift): the machine changed under the run; rerun it on a quiet machine"
        )
    return _fmt(row["vs_limit"], 2)


def reducer_macros(bench: dict[str, Any] | None) -> dict[str, str]:
    """The reducer bench (aqbench bench reducer): serial against concurrent fetches, one run."""
    names = ("ReducerFanIn", "ReducerSerialS", "ReducerConcurrentS", "ReducerRatio", "ReducerThreads",
             "ReducerDelayMs", "ReducerFanInDelayed", "ReducerDelayedSerialS", "ReducerDelayedConcurrentS",
             "ReducerDelayedRatio")  # fmt: skip
    if not bench:
        return dict.fromkeys(names, "--")
    return dict(zip(names, (
        str(int(bench["fan_in"])), f"{bench['serial_s']:.1f}", f"{bench['concurrent_s']:.1f}",
        f"{bench['concurrent_vs_serial']:.2f}", str(int(bench["threads"])), f"{bench['delay_ms']:g}",
        str(int(bench["fan_in_delayed"])), f"{bench['serial_delayed_s']:.1f}", f"{bench['concurrent_delayed_s']:.2f}",
        f"{bench['concurrent_vs_serial_delayed']:.3f}",
    ), strict=True))  # fmt: skip


def macros(inputs: dict[str, Any]) -> str:
    """The paper's numbers as \\newcommand lines."""
    summary: pd.DataFrame = inputs["summary"]
    values: dict[str, str] = {}
    ref = inputs["reference_summary"]
    manifest = inputs["manifest"]
    gen = inputs.get("generation") or {}
    env = inputs["environment"]
    profile = inputs.get("profile") or "default"
    values["ResultsProfile"] = profile
    values["ProfileCommand"] = {"default": "make reproduce", "paper": "make reproduce-paper"}.get(
        profile, f"snakemake --configfile workflow/config/{profile}.yaml"
    )
    values["ProfileFile"] = f"workflow/config/{profile}.yaml"
    values["DataSizeMB"] = _fmt(manifest["bytes"] / 1e6, 0)
    values["DataObjects"] = str(manifest["objects_count"])
    values["ObjectSizeMB"] = _fmt(manifest["bytes"] / 1e6 / max(1, manifest["objects_count"]), 1)
    values["RecordsRead"] = _count(ref["records_read"])
    values["RecordsRejected"] = _count(ref["records_rejected"])
    values["Groups"] = _count(ref["groups"])
    values["Stations"] = str(gen.get("stations", "--"))
    values["Days"] = str(gen.get("hours", 0) // 24) if gen else "--"
    # what the maps and the split-unit counts show: the generator's planted structure, or real data
    values["DataNature"] = "synthetic" if gen else "OpenAQ"
    values["UnitSplitNote"] = (
        "as many as the generator planted: a property of the data, not a finding"
        if gen
        else ("as the source reported them")
    )
    values["MapNote"] = ("synthetic data: the episodes are the generator's, not Poland's air" if gen
                         else "OpenAQ measurements")  # fmt: skip
    values["UnitSplitGroups"] = _count(_unit_split_groups(inputs["reference_csv"]))
    # one configuration per engine, by the rule of engines_compare (lowest median wall, runs of
    # the same configuration pooled over experiments), quoted with its interval everywhere
    from aqbench.report import engines_compare as ec

    pool = ec.pooled(inputs["runs"]) if inputs.get("runs") is not None else ec.pooled(pd.DataFrame(
        columns=["status"]))  # fmt: skip
    best = ec.best(pool, "lithops", "arrow")
    dask_k, dask_i = ec.best(pool, "dask", "arrow", emulated=False), ec.best(pool, "dask", "idiomatic", emulated=False)
    single = ec.best(pool, "duckdb", "duckdb")
    raw_engines: dict[str, str] = {}
    for name, row in (("BestLithops", best), ("DaskKernel", dask_k), ("DaskIdiomatic", dask_i), ("DuckDB", single)):
        raw_engines[f"{name}MBs"] = ec.interval(row["rates"]) if row is not None else "--"
        raw_engines[f"{name}WallS"] = ec.interval(row["walls"]) if row is not None else "--"
        raw_engines[f"{name}Runs"] = str(int(row["runs"])) if row is not None else "--"
    if best is not None:
        opc = int(best["objects_per_call"])
        values["BestLithopsConfig"] = (
            f"{int(best['memory_mb'])}\\,MB, {opc} {'object' if opc == 1 else 'objects'} per call, "
            f"$R={int(best['reducers'])}$"
        )
    else:
        values["BestLithopsConfig"] = "--"
    bench = inputs.get("bench") or {}
    # each throughput against the limit probed right before and after its own runs, over the runs
    # whose probe held steady (a run whose machine changed under it says nothing of the ratio)
    from aqbench.defaults import schema_default

    drift = (
        schema_default("report.max_probe_drift") if inputs.get("max_probe_drift") is None else inputs["max_probe_drift"]
    )
    picked = {"BestLithops": best, "DaskKernel": dask_k, "DaskIdiomatic": dask_i}
    values["MaxProbeDrift"] = f"{100 * drift:.0f}"
    from aqbench.engines.probe import MIN_REPEATS, MIN_SECONDS

    values["ProbeRepeats"], values["ProbeSeconds"] = str(MIN_REPEATS), f"{MIN_SECONDS:g}"
    steady = {n: ec.steady(r, drift) if r is not None else None for n, r in picked.items()}
    values["LimitMBs"] = _sig(steady["BestLithops"]["probe_mb_s"]) if best is not None else "--"
    for name, row in steady.items():
        if row is not None and row["steady_runs"] == 0:
            row = picked[name]  # no run held steady: its own drift refuses the ratio, naming the run
        values[f"{name}VsLimit"] = _quoted_ratio(row, drift) if row is not None else "--"
        values[f"{name}SteadyRuns"] = (f"{int(row['steady_runs'])} of {int(row['runs'])}" if row is not None
                                       else "--")  # fmt: skip
    raw_engines |= ec.same_terms_macros(inputs.get("engines_bench"))
    raw_engines |= ec.lambda_terms_macros(summary)
    values["ArrowVsLimit"] = _fmt(bench.get("arrow_vs_bare"), 2) if bench else "--"
    values["ArrowVsLimitOneCore"] = _fmt(bench.get("arrow_vs_bare_1core"), 2) if bench else "--"
    # one core against one core: the seed kernel is single-threaded (pandas)
    one_core = bench.get("arrow_1core_mb_s", np.nan) / bench.get("seed_mb_s", np.nan) if bench else np.nan
    values["ArrowVsSeed"] = _fmt(float(one_core), 1)
    # the ratio's extremes over the repeats (slowest arrow over fastest seed, and the other way round)
    arrow_range, seed_range = bench.get("arrow_1core_mb_s_range"), bench.get("seed_mb_s_range")
    values["ArrowVsSeedRange"] = (
        f"{_fmt(arrow_range[0] / seed_range[1], 1)}--{_fmt(arrow_range[1] / seed_range[0], 1)}"
        if arrow_range and seed_range
        else "--"
    )
    merge = bench.get("merge_r1_peak_rss_mb_range")
    values["MergeOneRSSRange"] = f"{_fmt(merge[0], 0)}--{_fmt(merge[1], 0)}" if merge else "--"
    # the kernel bench's fresh processes per peak and merge (results from before it kept the count ran five)
    n = int(bench.get("processes", 5)) if bench else 0
    word = ec.in_words(n)
    values["RSSProcesses"] = "--" if not n else "one process" if n == 1 else f"median of {word} processes"
    merges = f"medians of {word} merges, each in a fresh process"
    values["MergeProcesses"] = "--" if not n else "one merge, in a fresh process" if n == 1 else merges
    values["ArrowMapRSS"] = _fmt(bench.get("arrow_map_peak_rss_mb"), 0) if bench else "--"
    values["NdjsonMapRSS"] = _fmt(bench.get("ndjson_map_peak_rss_mb"), 0) if bench else "--"
    # one core against the fastest reader's one core (idiomatic DuckDB, not exact), the same run
    for macro, key in (("Arrow", "arrow"), ("Ndjson", "ndjson"), ("ExactQuery", "exact_query")):
        values[f"{macro}VsFastestOneCore"] = _fmt(bench.get(f"{key}_vs_fastest_1core"), 2) if bench else "--"
    values["FastestOneCoreMBs"] = _fmt(bench.get("fastest_1core_mb_s"), 0) if bench else "--"
    values["MergeRRSS"] = _fmt(bench.get("merge_r8_peak_rss_mb"), 0) if bench else "--"
    values["MergeOneRSS"] = _fmt(bench.get("merge_r1_peak_rss_mb"), 0) if bench else "--"
    values["MergeFanIn"] = _count(bench["fan_in"]) if bench else "--"
    values["MergeReducers"] = str(bench.get("reducers", "--")) if bench else "--"
    values["BenchObjectMB"] = _fmt(bench.get("object_mb"), 1) if bench else "--"
    values["StudyDataGB"] = str(study.DATA_GB)
    values["StudyObjectMB"] = str(study.OBJECT_MB)
    values["MBPerVCPU"] = f"{facts().mb_per_vcpu:g}"
    values["SumTolerance"] = f"$10^{{{round(math.log10(SUM_RTOL))}}}$"
    timeout = summary[(summary["engine"] == "lithops") & (summary["experiment"] == ex.TIMEOUT)]
    values["TimeoutOutcome"] = ",".join(timeout["status"]) if len(timeout) else "--"
    from aqbench.report.study_code import timeout_outcome

    ran = timeout_outcome(inputs.get("calls"), inputs.get("runs"))
    values["TimeoutLimitS"] = f"{ran['limit_s']:g}" if ran else "--"
    values["TimeoutDone"] = str(ran["done"]) if ran else "--"
    values["TimeoutActivations"] = str(ran["activations"]) if ran else "--"
    values["TimeoutWorkers"] = str(ran["workers"]) if ran else "--"
    emulated = bool(summary[summary["engine"] == "lithops"]["emulated"].all())
    values["Emulated"] = "on" if emulated else "off"
    values["EmulationSentence"] = (
        "All Lithops results below ran so emulated."
        if emulated
        else "Emulation was off for some Lithops results below (this host refused the cgroups or tc): those "
        "calls ran without Lambda's quotas."
    )
    # every Lithops call of every phase (warm-up, map, reduce), as calls.parquet holds them
    calls_all = inputs.get("calls")
    lith_calls = calls_all[calls_all["engine"] == "lithops"] if calls_all is not None else pd.DataFrame()
    cold_all = lith_calls["cold_start"].fillna(False).astype(bool) if len(lith_calls) else pd.Series(dtype=bool)
    values["ColdStarts"] = _count(int(cold_all.sum())) if len(lith_calls) else "--"
    values["LithopsCalls"] = _count(len(lith_calls)) if len(lith_calls) else "--"
    values |= _warm_cold(inputs.get("calls"))
    values |= reducer_macros(inputs.get("reducer_bench"))
    from aqbench.report import study_code

    values |= study_code.macros(inputs.get("calls"), inputs.get("runs"), inputs.get("bench"))
    # completed configurations only: a timed-out run's calls are cut short, and its "median call" is that
    completed = summary[(summary["status"] == "ok") & summary["straggler_ratio"].notna()]
    if len(completed):
        worst = completed.loc[completed["straggler_ratio"].idxmax()]
        values["StragglerMax"] = _fmt(worst["straggler_ratio"], 1)
        values["StragglerConfig"] = (f"{worst['engine'].capitalize()}'s {worst['experiment'].replace('_', ' ')} "
                                     f"experiment, median call {_fmt(worst['call_median_s'], 2)}\\,s")  # fmt: skip
    else:
        values["StragglerMax"] = values["StragglerConfig"] = "--"
    values["Runs"] = str(int(summary["runs"].sum()))
    values["CPU"] = env.get("cpu", "--").replace("(R)", "").replace("(TM)", "")
    values["Cores"] = str(env.get("cores", "--"))
    from aqbench.emulated.cgroups import max_concurrency

    cores = int(env.get("cores") or 0) or None
    values["ConcurrencyAtSmall"] = str(max_concurrency(1024, cores))
    values["ConcurrencyAtLarge"] = str(max_concurrency(2048, cores))
    values["MemoryGB"] = str(env.get("memory_gb", "--"))
    values["Kernel"] = env.get("kernel", "--")
    values["Python"] = env.get("python", "--")
    for pkg, version in (env.get("packages") or {}).items():
        values["Version" + pkg.capitalize()] = str(version)
    # the code that measured (recorded by the experiments) and the code that built this report
    versions = env.get("commits") or [(env.get("commit") or "--") + ("+dirty" if env.get("dirty") else "")]
    values["Commit"] = ", ".join(
        v[:12] + (" (with uncommitted changes)" if v.endswith("+dirty") else "") for v in versions
    )
    from aqbench.engines.runs import code_version

    built, dirty = code_version()
    values["ReportCommit"] = (built or "--")[:12] + (" (with uncommitted changes)" if dirty else "")
    values["LockHash"] = (env.get("lock_sha256") or "--")[:16]
    values["WorkflowMinutes"] = _fmt(inputs.get("workflow_seconds", 0) / 60, 1)
    values["TimedJobs"] = str(inputs.get("timed_jobs", 0))
    prices = inputs["prices"]
    values["PriceDate"] = prices["date"]
    values["PriceGBs"] = f"{prices['lambda_gb_s_x86']:.10f}".rstrip("0")
    values["EcInstance"] = prices["ec2_instance"]
    lines = ["% generated by aqbench report: do not edit"]
    raw = dict(inputs.get("latex_macros") or {})  # already LaTeX (the scale simulation's, the findings')
    raw |= raw_engines
    if inputs.get("calls") is not None:
        from aqbench.report.findings import findings

        raw |= findings(summary, inputs["calls"], inputs.get("runs"))
    for name, value in values.items():
        safe = str(value).replace("%", r"\%").replace("_", r"\_").replace("#", r"\#")
        if name in ("BestLithopsConfig", "SumTolerance"):
            safe = str(value)
        lines.append(f"\\newcommand{{\\aq{name}}}{{{safe}}}")
    lines += [f"\\newcommand{{\\aq{name}}}{{{value}}}" for name, value in raw.items()]
    return "\n".join(lines) + "\n"


def build(
    metrics_dir: Path,
    reference_csv: Path,
    reference_summary: Path,
    manifest: Path,
    generation: Path | None,
    bench: Path | None,
    benchmarks: list[Path],
    prices: dict[str, Any],
    out_dir: Path,
    scale: Path | None = None,
    max_probe_drift: float | None = None,
    reducer_bench: Path | None = None,
    engines_bench: Path | None = None,
    explained: Path | None = None,
) -> None:
    summary = pd.read_parquet(metrics_dir / "summary.parquet")
    env_file = Path(metrics_dir) / "environment.json"
    environment = json.loads(env_file.read_text()) if env_file.exists() else {}
    seconds = 0.0
    for tsv in benchmarks:  # every one must exist: a missing one would understate the total
        rows = list(csv.DictReader(tsv.read_text().splitlines(), delimiter="\t"))
        seconds += sum(float(r["s"]) for r in rows)
    calls = pd.read_parquet(metrics_dir / "calls.parquet") if (metrics_dir / "calls.parquet").exists() else None
    runs_file = metrics_dir / "runs.parquet"
    inputs = {
        "summary": summary,
        "calls": calls,
        "runs": pd.read_parquet(runs_file) if runs_file.exists() else None,
        "reference_csv": reference_csv,
        "reference_summary": json.loads(reference_summary.read_text()),
        "manifest": json.loads(manifest.read_text()),
        "generation": json.loads(generation.read_text()) if generation and generation.exists() else None,
        "bench": json.loads(bench.read_text()) if bench and bench.exists() else None,
        "reducer_bench": json.loads(reducer_bench.read_text()) if reducer_bench and reducer_bench.exists() else None,
        "engines_bench": json.loads(engines_bench.read_text()) if engines_bench and engines_bench.exists() else None,
        "environment": environment,
        "workflow_seconds": seconds,
        "timed_jobs": len(benchmarks),
        "prices": prices,
        "max_probe_drift": max_probe_drift,
        "profile": Path(metrics_dir).resolve().parent.name,
    }
    if scale is not None:
        from aqbench.report import side_by_side
        from aqbench.report.scale_tables import build_scale

        inputs["latex_macros"] = build_scale(scale, out_dir, _write)
        unit_split = _unit_split_groups(reference_csv)
        _write(
            out_dir / "tables" / "side_by_side.tex",
            side_by_side.table(summary, calls, scale, unit_split, inputs["runs"]),
        )
    from aqbench.report import study_explained

    record = study_explained.read(explained)
    inputs["latex_macros"] = dict(inputs.get("latex_macros") or {}) | study_explained.macros(record)
    _write(out_dir / "tables" / "study_decomposition.tex", study_explained.decomposition_table(record))
    _write(out_dir / "tables" / "study_variants.tex", study_explained.variants_table(record))
    if scale is not None:
        from aqbench.report import cost_per_pass

        raw = cost_per_pass.read_explained(explained)
        _write(out_dir / "tables" / "cost_per_pass.tex", cost_per_pass.table(scale, raw))
        inputs["latex_macros"] |= cost_per_pass.macros(scale)
    _write(out_dir / "macros.tex", macros(inputs))
    _write(out_dir / "tables" / "summary.tex", summary_table(summary))
    from aqbench.report.engines_compare import lambda_terms_table

    _write(out_dir / "tables" / "lambda_terms.tex", lambda_terms_table(summary))
    _write(out_dir / "summary.csv", summary_csv(summary))
    _write(out_dir / "tables" / "rejections.tex", rejections_table(inputs["reference_summary"]))
    from aqbench.report import study_code

    _write(out_dir / "tables" / "study_code.tex", study_code.table(calls))
