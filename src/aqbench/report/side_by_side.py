"""The study side by side: each fact it reports, what this build measured, what the simulation projects.

Every cell of the last two columns is computed from the metrics and the simulation's tables;
"agrees" is decided by a stated rule per row, never typed.
"""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd

from aqbench.engines.lambda_emulation import MB_PER_VCPU
from aqbench.report import study


def _tex(text: str) -> str:
    return text.replace("%", r"\%").replace("_", r"\_")


def rows(summary: pd.DataFrame, calls: pd.DataFrame, scale: Path, unit_split: int) -> list[tuple[str, ...]]:
    """(fact, the study, this build, simulated at 50 GB, agrees) per fact."""
    ok = summary[summary["status"] == "ok"]
    lith = summary[summary["engine"] == "lithops"]
    sim = pd.read_csv(scale / "study.csv")
    sim = sim[sim["scaling"].str.startswith("1000")]
    projection = pd.read_csv(scale / "projection.csv")
    out: list[tuple[str, ...]] = []

    # the warm-up: this build's warm-up jobs (their calls' span) beside the simulated study's
    warm = calls[(calls["engine"] == "lithops") & (calls["phase"] == "warmup")]
    warm = warm[warm["memory_mb"] == study.WARMUP_MEMORY_MB]
    if len(warm):
        spans = warm.groupby("run_id").agg(t0=("t_submit", "min"), t1=("t_end", "max"), n=("call", "size"))
        built = f"{int(spans['n'].median())} calls in {(spans['t1'] - spans['t0']).median():.0f} s (this build's data)"
    else:
        built = "not run"
    seed = sim[sim["case"].str.startswith("warm-up, 1979") & (sim["kernel"] == "seed")]
    simulated = f"{seed['simulated_s'].iloc[0]:.0f} s (seed kernel)" if len(seed) else "--"
    ratio = study.WARMUP_WALL_S / seed["simulated_s"].iloc[0] if len(seed) else math.nan
    out.append((
        "warm-up: 1979 calls, 2 objects each, 1024 MB",
        f"about {study.WARMUP_WALL_S} s", built, simulated,
        "within 2x" if 0.5 <= ratio <= 2 else (f"no: {ratio:.1f}x" if ratio == ratio else "--"),
    ))  # fmt: skip

    # CPU at 2048 MB: the share the emulation gives and the simulation uses
    share = 2048 / MB_PER_VCPU
    out.append((
        "CPU at 2048 MB",
        f"{study.VISIBLE_CORES_2048} cores visible, scaled to {study.SCALED_CORES_2048}",
        f"cgroup quota {share:.2f} of a core", f"share {share:.2f}",
        "yes" if abs(share - study.SCALED_CORES_2048) < 0.01 else "no",
    ))  # fmt: skip

    # the memory sizes
    measured = sorted(int(m) for m in lith[lith["experiment"] == "memory"]["memory_mb"].unique())
    projected = sorted(int(m) for m in projection["memory_mb"].unique())
    out.append((
        "memory sizes", "/".join(map(str, study.MEMORY_SIZES_MB)) + " MB",
        "/".join(map(str, measured)) + " MB" if measured else "--",
        f"{projected[0]}--{projected[-1]} MB" if projected else "--",
        "yes" if set(study.MEMORY_SIZES_MB) <= set(measured) else "no",
    ))  # fmt: skip

    # all objects in one call
    timeout = lith[lith["experiment"] == "timeout"]
    everything = sim[sim["case"].str.startswith("all objects") & (sim["kernel"] == "arrow")]
    built_t = f"{', '.join(sorted(set(timeout['status'])))} at its limit" if len(timeout) else "not run"
    sim_t = f"{everything['status'].iloc[0]} at {everything['simulated_s'].iloc[0]:.0f} s" if len(everything) else "--"
    agree = len(everything) and everything["status"].iloc[0] == "timeout" and set(timeout["status"]) == {"timeout"}
    out.append(("all objects in one call", f"timed out ({study.TIMEOUT_S} s)", built_t, sim_t,
                "yes" if agree else "no"))  # fmt: skip

    # the scaled utilisation
    util = ok[(ok["engine"] == "lithops") & (ok["experiment"] == "memory")].set_index("memory_mb")
    cell = ", ".join(f"{int(m)}: {u:.2f}" for m, u in util["scaled_utilisation"].items()) if len(util) else "--"
    out.append(("scaled CPU utilisation", "utilisation x visible cores / vCPUs", f"same formula; {cell}", "--",
                "same formula"))  # fmt: skip

    # the grouping
    out.append(("grouping", "station, day, parameter (no unit)", f"with the unit: {unit_split:,} station-days "
                "report a parameter in two units", "--", "differs on purpose"))  # fmt: skip

    # the reduce
    red = ok[(ok["engine"] == "lithops") & (ok["experiment"] == "reducers")].set_index("reducers")
    if {1, 8} <= set(red.index):
        built_r = f"R=1 {red.loc[1, 'wall_s']:.1f} s, R=8 {red.loc[8, 'wall_s']:.1f} s"
    else:
        built_r = "--"
    x86 = projection[(projection["architecture"] == "x86_64") & (projection["memory_mb"] == 1769)]
    x86 = x86[x86["objects_per_call"] == 8].set_index("reducers")

    def sim_wall(r: int) -> str:
        row = x86.loc[r]
        return f"{row['wall_s']:.0f} s" if row["status"] == "success" else str(row["status"])

    sim_r = f"R=1 {sim_wall(1)}, R=8 {sim_wall(8)} (1769 MB)" if {1, 8} <= set(x86.index) else "--"
    out.append(("reduce", "one reducer", built_r, sim_r, "both measured"))

    # the bill
    spent = summary[summary["engine"] == "lithops"]
    bill = float((spent["cost_usd"] * spent["runs"]).sum())
    cheapest = projection[projection["status"] == "success"]["cost_usd"].min()
    out.append(("the bill", "ran out of credits mid-study", f"\\${bill:.3f} as if on AWS (all Lithops runs)",
                f"\\${cheapest:.3f} for the cheapest 50 GB job", "--"))  # fmt: skip
    return out


def table(summary: pd.DataFrame, calls: pd.DataFrame, scale: Path, unit_split: int) -> str:
    lines = [
        r"\begin{tabular}{p{2.6cm}p{3cm}p{3.6cm}p{2.8cm}p{1.6cm}}",
        r"\toprule",
        r"fact & the study & this build (emulated) & simulated at 50\,GB & agrees \\",
        r"\midrule",
    ]
    for fact, theirs, ours, simulated, agrees in rows(summary, calls, scale, unit_split):
        cells = [_tex(c) if "\\$" not in c else c.replace("%", r"\%") for c in (fact, theirs, ours, simulated, agrees)]
        lines.append(" & ".join(cells).replace(" x ", r" $\times$ ") + r" \\")
    lines += [r"\bottomrule", r"\end{tabular}"]
    return "\n".join(lines) + "\n"
