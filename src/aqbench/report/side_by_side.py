"""The study side by side: each fact it reports, what this build measured, what the simulation projects.

Every cell of the last two columns is computed from the metrics and the simulation's tables;
"agrees" is decided by a stated rule per row, never typed.
"""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd

from aqbench import experiments as ex
from aqbench import study_facts as study
from aqbench.lambda_facts import facts


def _tex(text: str) -> str:
    return text.replace("%", r"\%").replace("_", r"\_")


def rows(
    summary: pd.DataFrame, calls: pd.DataFrame, scale: Path, unit_split: int, runs: pd.DataFrame | None = None
) -> list[tuple[str, ...]]:
    """(fact, the study, this build, simulated at 50 GB, agrees) per fact."""
    ok = summary[summary["status"] == "ok"]
    lith = summary[summary["engine"] == "lithops"]
    sim_all = pd.read_csv(scale / "study.csv")
    sim_all = sim_all[sim_all["scaling"].str.startswith("1000")]
    projection = pd.read_csv(scale / "projection.csv")
    out: list[tuple[str, ...]] = []

    # the study's two runs as they ran (Lithops' activations and workers), simulated with the
    # per-activation cost of this build's seed kernel and with the one its timeout run implies
    def sim(case: str, kernel: str) -> pd.Series | None:
        found = sim_all[sim_all["case"].str.startswith(case) & (sim_all["kernel"] == kernel)]
        return found.iloc[0] if len(found) else None

    warm = calls[(calls["engine"] == "lithops") & (calls["phase"] == "warmup")]
    warm = warm[warm["memory_mb"] == study.WARMUP_MEMORY_MB]
    if len(warm):
        spans = warm.groupby("run_id").agg(t0=("t_submit", "min"), t1=("t_end", "max"), n=("call", "size"))
        what = f"{int(spans['n'].median())} activations"
        if "invocation" in warm and warm["invocation"].notna().any():
            what += f" on {int(warm.groupby('run_id')['invocation'].nunique().median())} workers"
        built = f"{what} in {(spans['t1'] - spans['t0']).median():.0f} s (this build's data)"
    else:
        built = "not run"
    w_implied, w_code, w_seed = sim("warm-up", "implied"), sim("warm-up", "study"), sim("warm-up", "seed")
    if w_implied is not None and w_seed is not None:
        code = f"; {w_code['simulated_s']:.0f} s its code as measured" if w_code is not None else ""
        simulated = (f"{w_implied['simulated_s']:.0f} s at the cost its timeout run implies{code}; "
                     f"{w_seed['simulated_s']:.0f} s (seed)")  # fmt: skip
        # the implied cost comes from the study's own timeout run: agreement at it is no test of the
        # model, so the verdict is the one with the study's code as measured (both ratios shown)
        ratio = study.WARMUP_WALL_S / w_implied["simulated_s"]
        if w_code is not None:
            own = study.WARMUP_WALL_S / w_code["simulated_s"]
            agrees = (f"{'within 2x' if 0.5 <= own <= 2 else 'no'}: log {own:.2f}x the model with its code as "
                      f"measured ({ratio:.2f}x at the cost the study's own timeout run implies)")  # fmt: skip
        else:
            agrees = f"not tested: only the study's own implied cost (log {ratio:.2f}x)"
    else:
        simulated, agrees = "--", "--"
    out.append((
        f"warm-up: {study.WARMUP_ACTIVATIONS} activations of one object, chunksize {study.WARMUP_CHUNKSIZE}, "
        f"{study.WARMUP_WORKERS} Lambdas, {study.WARMUP_MEMORY_MB} MB",
        f"{study.WARMUP_WALL_S} s by its log ({study.WARMUP_LOG[0]} to {study.WARMUP_LOG[1]})",
        built, simulated, agrees,
    ))  # fmt: skip

    from aqbench.report.study_code import timeout_outcome

    ran = timeout_outcome(calls, runs)
    t_seed, t_study = sim("timeout run", "seed"), sim("timeout run", "study")  # the study's code, measured
    built_t = (
        f"{ran['status']} ({ran['limit_s']:g} s): {ran['done']} of {ran['activations']} done, "
        f"{ran['workers']} worker (this build's data)"
        if ran
        else "not run"
    )
    sim_t = (
        f"{t_seed['status']}; {int(t_study['done_at_limit'])} done with its code as measured, "
        f"{int(t_seed['done_at_limit'])} (seed)"
        if t_seed is not None and t_study is not None
        else "--"
    )
    # (the simulation at the study's own cost is fitted to this run: only the outcome is compared)
    same = ran is not None and ran["status"] == "timeout"
    out.append((
        f"timeout run: {study.TIMEOUT_ACTIVATIONS} activations in one Lambda",
        f"timed out ({study.TIMEOUT_S} s), {study.TIMEOUT_DONE} done",
        built_t, sim_t,
        "same outcome: timed out, a worker's activations in turn" if same else "no",
    ))  # fmt: skip

    low, high = study.activation_s_from_timeout()
    seed_cpu = calls[(calls["engine"] == "lithops") & (calls["phase"] == "map") & (calls["kernel"] == "seed")]
    seed_cpu = seed_cpu[(seed_cpu["status"] == "success") & (seed_cpu["objects"] > 0)]
    mem = int(seed_cpu["memory_mb"].mode().iloc[0]) if len(seed_cpu) else 0
    seed_cpu = seed_cpu[seed_cpu["memory_mb"] == mem]
    per_obj = (seed_cpu["duration_s"] / seed_cpu["objects"]).median() if len(seed_cpu) else math.nan
    out.append((
        f"one activation (a {study.OBJECT_MB} MB object, {study.WARMUP_MEMORY_MB} MB)",
        f"{low:.1f}--{high:.1f} s (timeout run, read from Lithops' error); at most "
        f"{study.activation_s_from_warmup():.0f} s (warm-up)",
        f"seed kernel {per_obj:.1f} s per object at {mem} MB" if per_obj == per_obj else "--",
        f"seed {w_seed['activation_s']:.1f} s at {study.WARMUP_MEMORY_MB} MB" if w_seed is not None else "--",
        (f"{high / w_seed['activation_s']:.1f}x the seed's" if high >= w_seed["activation_s"]
         else f"{w_seed['activation_s'] / high:.1f}x less") if w_seed is not None else "--",
    ))  # fmt: skip

    # CPU at 2048 MB: the quota the emulation gives (compared with what the study states), and the
    # share the simulation lets one single-threaded call use (below two vCPUs, one core at most)
    from aqbench.lambda_facts import call_share

    share = facts().vcpus(2048)
    used = call_share(2048)
    out.append((
        "CPU at 2048 MB",
        f"{study.VISIBLE_CORES_2048} cores visible, scaled to {study.SCALED_CORES_2048}",
        f"cgroup quota {share:.2f} of a core",
        f"one call uses {used:.2f} (single-threaded below two vCPUs)",
        ("yes: the emulation's quota" if abs(share - study.SCALED_CORES_2048) < 0.01 else "no")
        + " (the study's figure is a quota, not what one thread uses)",
    ))  # fmt: skip

    # the memory sizes
    measured = sorted(int(m) for m in lith[lith["experiment"] == ex.MEMORY]["memory_mb"].unique())
    projected = sorted(int(m) for m in projection["memory_mb"].unique())
    out.append((
        "memory sizes", "/".join(map(str, study.MEMORY_SIZES_MB)) + " MB",
        "/".join(map(str, measured)) + " MB" if measured else "--",
        f"{projected[0]}--{projected[-1]} MB" if projected else "--",
        "yes" if set(study.MEMORY_SIZES_MB) <= set(measured) else "no",
    ))  # fmt: skip

    # the scaled utilisation
    util = ok[(ok["engine"] == "lithops") & (ok["experiment"] == ex.MEMORY)].set_index("memory_mb")
    cell = ", ".join(f"{int(m)}: {u:.2f}" for m, u in util["scaled_utilisation"].items()) if len(util) else "--"
    out.append(("scaled CPU utilisation", "utilisation x visible cores / vCPUs", f"same formula; {cell}", "--",
                "same formula"))  # fmt: skip

    # the grouping
    out.append(("grouping", "station, day, parameter (no unit)", f"with the unit: {unit_split:,} station-days "
                "report a parameter in two units", "--", "differs on purpose"))  # fmt: skip

    # the reduce
    red = ok[(ok["engine"] == "lithops") & (ok["experiment"] == ex.REDUCERS)].set_index("reducers")
    if {1, 8} <= set(red.index):
        built_r = f"R=1 {red.loc[1, 'wall_s']:.1f} s, R=8 {red.loc[8, 'wall_s']:.1f} s"
    else:
        built_r = "--"
    x86 = projection[(projection["architecture"] == "x86_64") & (projection["memory_mb"] == 1769)]
    x86 = x86[x86["objects_per_call"] == 8].set_index("reducers")

    def sim_wall(r: int) -> str:
        row = x86.loc[r]
        return f"{row['wall_s']:.0f} s" if row["status"] == "success" else str(row["status"])

    sim_r = f"R=1 {sim_wall(1)}, R=8 {sim_wall(8)} (1769 MB, 8 objects a call)" if {1, 8} <= set(x86.index) else "--"
    out.append(("reduce", "one reducer", built_r, sim_r, "both measured"))

    # the bill
    spent = summary[summary["engine"] == "lithops"]
    bill = float((spent["cost_usd"] * spent["runs"]).sum())
    cheapest = projection[projection["status"] == "success"]["cost_usd"].min()
    theirs = (
        f"\\${study.BILL_USD:.2f} over two days of testing; a lab notice of a \\${study.CREDIT_USD} "
        f"credit exhausted (the notice expires {study.CREDIT_NOTICE_EXPIRES}, before the runs)"
    )
    from aqbench.report.cost_per_pass import implied_pass_usd

    implied = implied_pass_usd(scale)
    per_pass = f"; \\${implied:.2f} a pass at the cost its timeout run implies" if implied is not None else ""
    simulated = f"\\${cheapest:.3f} for the cheapest 50 GB job{per_pass}"
    out.append(("the bill", theirs, f"\\${bill:.3f} as if on AWS (all Lithops runs)", simulated,
                "not comparable: a bill is not a pass"))  # fmt: skip
    return out


def table(
    summary: pd.DataFrame, calls: pd.DataFrame, scale: Path, unit_split: int, runs: pd.DataFrame | None = None
) -> str:
    lines = [
        r"\begin{tabular}{*{5}{>{\raggedright\arraybackslash}p{2.6cm}}}",
        r"\toprule",
        r"fact & the study & this build (emulated) & simulated at 50\,GB & agrees \\",
        r"\midrule",
    ]
    for fact, theirs, ours, simulated, agrees in rows(summary, calls, scale, unit_split, runs):
        cells = [_tex(c) if "\\$" not in c else c.replace("%", r"\%") for c in (fact, theirs, ours, simulated, agrees)]
        lines.append(" & ".join(cells).replace(" x ", r" $\times$ ") + r" \\")
    lines += [r"\bottomrule", r"\end{tabular}"]
    return "\n".join(lines) + "\n"
