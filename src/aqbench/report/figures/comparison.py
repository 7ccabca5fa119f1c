"""The engines side by side under each set of terms, and the kernels against the machine's limit
(the benchmarks' figures)."""

from __future__ import annotations

import json
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from aqbench.report.figures.common import ENGINE_COLOURS, Inputs, no_data


def engines(inp: Inputs):
    """The engines on equal terms, never across them: (a) the same machine (the engines bench: same
    cores, no emulation, same store, interleaved), (b) Lambda's terms (Lithops on emulated Lambdas
    beside Dask workers under the same quotas), per memory size. Medians, and the range of the
    runs (minimum to maximum) as error bars."""
    from aqbench.metrics import median_range
    from aqbench.report.engines_compare import IDIOMATIC, MIN_INTERVAL_RUNS, SAME_TERMS, lambda_terms

    fig, (left, right) = plt.subplots(1, 2, figsize=(7.2, 3.2), gridspec_kw={"width_ratios": [1.3, 1]})
    bench = json.loads(inp.engines_bench.read_text()) if inp.engines_bench and inp.engines_bench.exists() else None
    if bench:
        short = {"local": "one machine, arrow kernel", "lithops": "Lithops, a process a call",
                 "lithops_warm": "Lithops, warm environments", "dask_kernel": "Dask, shared kernel",
                 "dask_idiomatic": "Dask as users write it*", "duckdb_idiomatic": "DuckDB as users write it*",
                 "polars": "Polars as users write it*", "duckdb": "the reference's query"}  # fmt: skip
        names = [*SAME_TERMS, *IDIOMATIC, "duckdb"]
        engine_of = {"lithops": "lithops", "lithops_warm": "lithops", "dask_kernel": "dask", "dask_idiomatic": "dask",
                     "duckdb_idiomatic": "duckdb", "polars": "polars", "duckdb": "duckdb"}  # fmt: skip
        colours = {n: ENGINE_COLOURS[e] for n, e in engine_of.items()} | {"local": "0.4"}
        for i, name in enumerate(names):
            rates = [bench["mb"] / w for w in bench.get(f"{name}_walls_s") or []]
            if not rates:  # a reader that cannot read the data: said in a note under the axis, whole
                left.text(0.02 * bench["limit_mb_s"], i, "could not read the data (see text)", va="center",
                          fontsize=6, color="0.3")  # fmt: skip
                continue
            med, lo, hi = median_range(np.array(rates))
            err = [[med - lo], [hi - med]] if len(rates) >= MIN_INTERVAL_RUNS else None
            hatch = "//" if name in IDIOMATIC else ("..") if name == "duckdb" else None
            left.barh(i, med, xerr=err, color=colours[name], hatch=hatch, edgecolor="white",
                      height=0.65)  # fmt: skip
        left.set_yticks(range(len(names)), [short[n] for n in names], fontsize=6.5)
        left.invert_yaxis()
        for x, text, style in ((bench["limit_mb_s"], "bare Arrow parse + group-by", "--"),
                               (bench["read_parse_mb_s"], "read from the store + bare parse", ":")):  # fmt: skip
            left.axvline(x, color="0.3", ls=style, lw=0.8, label=text)
        left.legend(fontsize=5.5, loc="lower right", framealpha=0.9, edgecolor="none")
        left.set_xlabel(f"MB/s (median, bars: range of {bench.get('rounds', MIN_INTERVAL_RUNS)} rounds)\n"
                        "* hatched: answer counted against the reference, not exact", fontsize=7)  # fmt: skip
        left.set_title(f"(a) same machine: {bench['mb']:.0f} MB, {bench.get('cores', '?')} cores, no emulation",
                       fontsize=7.5, loc="left")  # fmt: skip
    else:
        no_data(left, "no engines bench")
    rows = lambda_terms(inp.table("summary"))
    if len(rows):
        x = np.arange(len(rows))
        for offset, engine in ((-0.18, "lithops"), (0.18, "dask")):
            med = np.array([r[engine]["wall_s"] for r in rows.to_dict("records")])
            lo = np.array([r[engine]["wall_s_lo"] for r in rows.to_dict("records")])
            hi = np.array([r[engine]["wall_s_hi"] for r in rows.to_dict("records")])
            enough = np.array([r[engine]["runs_ok"] >= MIN_INTERVAL_RUNS for r in rows.to_dict("records")])
            err = np.where(enough, [med - lo, hi - med], 0)  # the range of the runs
            right.bar(x + offset, med, width=0.36, yerr=err, color=ENGINE_COLOURS[engine],
                      label="Lithops" if engine == "lithops" else "Dask, same quotas")  # fmt: skip
        right.set_xticks(x, [f"{m} MB\n({int(d['workers'])} at once)" for m, d in zip(rows["memory_mb"], rows["dask"],
                                                                                 strict=True)])  # fmt: skip
        right.set_ylabel("job wall time (s)")
        right.set_ylim(0, right.get_ylim()[1] * 1.25)  # room for the legend above the bars
        right.legend(fontsize=6.5, frameon=False, ncol=2, loc="upper left")
    else:
        no_data(right, "no lambda_terms experiment")
    right.set_title("(b) Lambda's terms: memory/1769 of a core, one link each", fontsize=7.5, loc="left")
    fig.tight_layout()
    return fig


def kernel_throughput(inp: Inputs):
    """Kernel throughput on one object against the fastest reader and the bare Arrow parse."""
    bench = json.loads(Path(inp.bench).read_text()) if inp.bench and Path(inp.bench).exists() else {}
    fig, ax = plt.subplots(figsize=(4.8, 3.0))
    names = [
        ("DuckDB, idiomatic (not exact)", "duckdb_idiomatic"),
        ("bare Arrow parse + group-by", "bare"),
        ("ndjson kernel map (exact)", "ndjson"),
        ("arrow kernel map (exact)", "arrow"),
    ]
    y = np.arange(len(names) + 1)
    for offset, (suffix, label, colour) in enumerate(
        (("_mb_s", "all cores", "0.3"), ("_1core_mb_s", "one core", "0.7"))  # greys: engines own the colours
    ):
        # the seed kernel is pandas, single-threaded: all cores give what one core does
        keys = [k + suffix for _, k in names] + ["seed_mb_s"]
        values = np.array([bench.get(k, np.nan) for k in keys], dtype=float)
        # the range over the bench's repeats, where the bench kept it
        ranges = [bench.get(f"{k}_range") or [v, v] for k, v in zip(keys, values, strict=True)]
        err = np.array([[v - r[0] for v, r in zip(values, ranges, strict=True)],
                        [r[1] - v for v, r in zip(values, ranges, strict=True)]])  # fmt: skip
        ax.barh(y + 0.2 - 0.4 * offset, values, height=0.38, color=colour, label=label, xerr=err,
                error_kw={"lw": 0.8, "ecolor": "black"})  # fmt: skip
    seed = bench.get("seed_mb_s", np.nan)
    if seed == seed:
        ax.text(seed, len(names), f"  {seed:.1f} MB/s (single-threaded)", va="center", fontsize=6)
    fastest = bench.get("fastest_1core_mb_s", np.nan)
    for i, (_, key) in enumerate(names[1:], start=1):  # one core against the fastest reader's one core
        rate = bench.get(f"{key}_1core_mb_s", np.nan)
        if rate == rate and fastest == fastest:  # past its bar's range, so the error bar does not cross it
            end = max(rate, (bench.get(f"{key}_1core_mb_s_range") or [rate, rate])[1])
            ax.text(end, i - 0.2, f" {rate / fastest:.2f}", va="center", fontsize=6)
    ax.set_yticks(y, [n for n, _ in names] + ["seed kernel map (the study's)"])
    ax.invert_yaxis()
    ax.legend(fontsize=7, loc="lower right")
    size = f"{bench['object_mb']:.1f} MB" if "object_mb" in bench else "benchmark"
    ax.set(xlabel=f"MB/s on one {size} object, median (bars: range of the repeats;\n"
                  "labels: one core, share of the fastest)",
           title="Kernels against the fastest reader")  # fmt: skip
    return fig
