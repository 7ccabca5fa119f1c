"""The engines compared on equal terms, and the one configuration per engine each sentence names.

Two sets of terms, and nothing ranked across them:

- **The same machine** (``aqbench bench engines``): every engine on the same staged objects,
  this host's cores, no Lambda emulation, the same store, interleaved in one run. The paper's
  ranking of the engines comes from here, and only from here.
- **Lambda's terms**: Lithops on emulated Lambdas beside Dask workers held to the same quotas
  (CPU memory/1769 of a core, memory limit, one shaped link each, as many at once as fit the
  cores; the Dask ``lambda_terms`` experiment), memory size by memory size.

"Best" Lithops is one configuration, named by one rule and used everywhere: of the Lithops
configurations that read the whole dataset (every staged object) with the arrow kernel (warm-up
jobs excluded, whose wall includes the warm-up), the one with the lowest median wall time, its runs pooled over the
experiments that ran the same configuration (so nominally identical rows are one
configuration, never a best of N). Every figure comes with its range over the repetitions
(minimum to maximum, named so: with five runs a 95 % bootstrap interval of the median is that
range), printed only where at least :data:`MIN_INTERVAL_RUNS` runs stand behind it; two figures are
called different only where their ranges do not overlap (:func:`aqbench.metrics.direction`).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from aqbench import experiments as ex
from aqbench.engines.probe import drift
from aqbench.metrics import MIN_ROUNDS, NO_DIFFERENCE, direction, median_range

MIN_INTERVAL_RUNS = 3
"""Runs below which a median is printed without an interval (two points give no interval)."""

POOLED = ["engine", "kernel", "memory_mb", "objects_per_call", "reducers", "workers", "chunksize", "locality",
          "warmup", "fraction", "emulated", "objects"]  # fmt: skip
"""What makes two runs the same configuration, whatever experiment ran them."""

SAME_TERMS = {
    "local": "one machine (the arrow kernel, a process a core)",
    "lithops": "Lithops as users run it (a process a call)",
    "lithops_warm": "Lithops on warm emulated environments",
    "dask_kernel": "Dask (shared kernel)",
}
"""The exact engines of the engines bench, as the paper names them (its ranking). The reference's
own query is the reference, not an engine; the idiomatic ones are not exact."""

IDIOMATIC = {
    "dask_idiomatic": "Dask as users write it",
    "duckdb_idiomatic": "DuckDB as users write it",
    "polars": "Polars as users write it",
}
"""The engines as their users write them, whose answers are counted against the reference."""

MACRO_OF = {"local": "Local", "lithops": "Lithops", "lithops_warm": "LithopsWarm", "dask_kernel": "DaskKernel",
            "dask_idiomatic": "DaskIdiomatic", "duckdb": "DuckDB", "duckdb_idiomatic": "DuckDBIdiomatic",
            "polars": "Polars"}  # fmt: skip

PARTS = ("read", "parse", "partials", "scheduling", "waiting")
"""Where an engine's wall goes in the engines bench (:func:`aqbench.bench.engines.split`)."""


def _num(value: float, digits: int | None = None) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "--"
    if digits is None:
        digits = 0 if abs(value) >= 100 else (1 if abs(value) >= 10 else 2)
    return f"{value:,.{digits}f}".replace(",", "{,}")


def in_words(n: int) -> str:
    """A small count as the paper's sentences write it ("five"); above five, its digits."""
    return {1: "one", 2: "two", 3: "three", 4: "four", 5: "five"}.get(n, str(n))


def interval(values: Any, digits: int | None = None) -> str:
    """``median [lo--hi]``: the median and the range (minimum to maximum) of the values, or the
    median alone below MIN_INTERVAL_RUNS. The text around it names the range as such."""
    values = np.asarray(list(values), dtype=float)
    values = values[~np.isnan(values)]
    if not len(values):
        return "--"
    med, lo, hi = median_range(values)
    if len(values) < MIN_INTERVAL_RUNS:
        return _num(med, digits)
    return f"{_num(med, digits)} [{_num(lo, digits)}--{_num(hi, digits)}]"


def _tex(text: str) -> str:
    """Any text (an error message) as plain TeX: every special character escaped or dropped."""
    out = text.replace("\\", "/")
    for char, repl in (("{", r"\{"), ("}", r"\}"), ("_", r"\_"), ("%", r"\%"), ("&", r"\&"), ("#", r"\#"),
                       ("$", r"\$"), ("^", " "), ("~", " ")):  # fmt: skip
        out = out.replace(char, repl)
    return out


# -- the same machine -------------------------------------------------------------------------


def _differing(diff: dict[str, int] | None) -> str:
    """An idiomatic engine's answer in words: groups of the reference that differ, groups it made
    that the reference has not."""
    if not diff:
        return "--"
    total = sum(v for k, v in diff.items() if k.startswith("groups_") and k != "groups_unexpected")
    wrong = total - diff.get("groups_exact", 0)
    return (f"{wrong:,} of {total:,} reference groups".replace(",", "{,}")
            + f" differ, {diff.get('groups_unexpected', 0)} groups it made are not the reference's")  # fmt: skip


def _split(parts: dict[str, float | None] | None) -> str:
    if not parts:
        return "--"
    return ", ".join(f"{p} " + ("(in the parse)" if parts.get(p) is None else _num(parts[p], 2)) for p in PARTS)


def _ranking(ranked: list[str], rates: dict[str, list[float]], rounds: int) -> tuple[str, str]:
    """The engines in tiers by median (the order sentence, and the fastest): an engine joins the tier
    above only if its range overlaps every range in it (none of them told apart from it); an engine
    of a later tier is named with those it is measurably slower than."""
    tiers: list[list[str]] = []
    for n in ranked:
        if tiers and all(direction(rates[n], rates[m], "", "") == NO_DIFFERENCE for m in tiers[-1]):
            tiers[-1].append(n)
        else:
            tiers.append([n])

    def tier(names: list[str], before: list[str]) -> str:
        text = " and ".join(f"{SAME_TERMS[n]} {interval(rates[n])}\\,MB/s" for n in names)
        text += " (ranges overlap: no difference measured)" if len(names) > 1 else ""
        if before:
            slower = [m for m in before if all(direction(rates[n], rates[m], "slower", "") == "slower" for n in names)]
            text += f", slower than {' and '.join(SAME_TERMS[m] for m in slower)}" if slower else ""
        return text

    done: list[str] = []
    parts = []
    for t in tiers:
        parts.append(tier(t, done))
        done += t
    fastest = (" and ".join(SAME_TERMS[n] for n in tiers[0]) + (", whose ranges overlap"
               if len(tiers[0]) > 1 else "")) if tiers else "--"  # fmt: skip
    return "; then ".join(parts), fastest


def _listing(ranked: list[str], rates: dict[str, list[float]], rounds: int) -> tuple[str, str]:
    """The engines listed by median, not ranked: too few rounds (below MIN_ROUNDS) to rank by."""
    if not ranked:
        return "", "--"
    said = "one round" if rounds == 1 else f"{rounds} rounds"
    listed = "; ".join(f"{SAME_TERMS[n]} {interval(rates[n])}\\,MB/s" for n in ranked)
    order = f"not ranked ({said}, fewer than the {MIN_ROUNDS} the engines bench ranks by), by median: {listed}"
    return order, f"{SAME_TERMS[ranked[0]]}, though {said} {'is' if rounds == 1 else 'are'} too few to rank by"


def same_terms_macros(bench: dict[str, Any] | None) -> dict[str, str]:
    """The engines bench's figures: every rate with its range, the ranking of the exact engines
    (tiers where ranges overlap), the idiomatic engines' rates and answers, where each one's
    time went."""
    names = ["SameTermsMB", "SameTermsObjects", "SameTermsCores", "SameTermsLimitMBs", "SameTermsReadParseMBs",
             "SameTermsOrder", "SameTermsFastest", "SameTermsIdiomaticDiff", "SameTermsExactVsIdiomatic",
             "SameTermsPolarsNote", "SameTermsRuns", "SameTermsIdiomaticVsFastest", "SameTermsDaskIdiomaticDiff",
             "SameTermsSplit", "SameTermsDaskWord", "SameTermsLithopsWord", "SameTermsVerified"]  # fmt: skip
    names += [f"SameTerms{m}MBs" for m in MACRO_OF.values()]
    values = dict.fromkeys(names, "--")
    if not bench:
        return values
    mb = bench["mb"]
    rates = {n: [mb / w for w in bench.get(f"{n}_walls_s") or []] for n in MACRO_OF}
    values |= {
        "SameTermsMB": _num(mb, 0),
        "SameTermsObjects": str(bench.get("objects", "--")),
        "SameTermsCores": str(bench.get("cores", "--")),
        "SameTermsLimitMBs": _num(bench["limit_mb_s"]),
        "SameTermsReadParseMBs": _num(bench["read_parse_mb_s"]),
        "SameTermsRuns": str(max((len(r) for r in rates.values()), default=0)),
    }
    for name, macro in MACRO_OF.items():
        values[f"SameTerms{macro}MBs"] = interval(rates[name])
    ranked = sorted((n for n in SAME_TERMS if rates[n]), key=lambda n: -float(np.median(rates[n])))
    rounds = int(values["SameTermsRuns"])
    ranks = rounds >= MIN_ROUNDS  # the bench's own rule: fewer rounds are too few to rank by
    order = _ranking if ranks else _listing  # below it: listed by median, no engine called faster or slower
    values["SameTermsOrder"], values["SameTermsFastest"] = order(ranked, rates, rounds)
    values["SameTermsIdiomaticDiff"] = _differing(bench.get("duckdb_idiomatic_differences"))
    values["SameTermsDaskIdiomaticDiff"] = _differing(bench.get("dask_idiomatic_differences"))
    if ranked and rates["duckdb_idiomatic"]:
        fastest = float(np.median(rates[ranked[0]]))
        values["SameTermsIdiomaticVsFastest"] = _num(float(np.median(rates["duckdb_idiomatic"])) / fastest, 2)
    if rates["duckdb"] and rates["duckdb_idiomatic"]:
        values["SameTermsExactVsIdiomatic"] = _num(
            float(np.median(rates["duckdb"]) / np.median(rates["duckdb_idiomatic"])), 2
        )
    # the users' way beside this build's: the shared-kernel Dask against idiomatic Dask, cold Lithops against warm
    apart = "not told apart from"
    for macro, a, b in (
        ("SameTermsDaskWord", "dask_idiomatic", "dask_kernel"),
        ("SameTermsLithopsWord", "lithops", "lithops_warm"),
    ):
        values[macro] = direction(rates[a], rates[b], "slower than", "faster than", apart) if ranks else apart
    short = {n: n for n in [*SAME_TERMS, "duckdb"] if rates[n] and bench.get(f"{n}_verified", 0) < rounds}
    values["SameTermsVerified"] = (
        "Every exact engine's answer (and the reference query's) equalled the reference in every round"
        if not short
        else "Not every exact answer equalled the reference: "
        + ", ".join(f"{SAME_TERMS.get(n, n)} in {bench.get(f'{n}_verified', 0)} of {rounds} rounds" for n in short)
    )
    labels = {**SAME_TERMS, **IDIOMATIC, "duckdb": "the reference's query"}
    values["SameTermsSplit"] = "; ".join(
        f"{labels[n]}: {_split(bench.get(f'{n}_split_s'))}" for n in labels if bench.get(f"{n}_split_s") and rates[n]
    )
    error = bench.get("polars_error")
    values["SameTermsPolarsNote"] = (
        f"could not read the data: its reader stopped with ``{_tex(error)}'' (malformed lines stop it even "
        r"with \texttt{ignore\_errors})" if error and not rates["polars"]
        else f"read it at {values['SameTermsPolarsMBs']}\\,MB/s"
    )  # fmt: skip
    return values


# -- one configuration per engine ------------------------------------------------------------


def pooled(runs: pd.DataFrame) -> pd.DataFrame:
    """Completed runs grouped by configuration across experiments: median wall and throughput,
    their runs' ratio to their own probes, the experiments that ran it."""
    ok = runs[runs["status"] == "ok"].copy()
    if not len(ok):
        return pd.DataFrame(columns=[*POOLED, "runs", "wall_s", "throughput_mb_s"])
    for column, value in (("warmup", False), ("locality", "local"), ("chunksize", 1)):
        if column not in ok:
            ok[column] = value
    probe = (ok["probe_before_mb_s"] + ok["probe_after_mb_s"]) / 2
    ok["vs_limit"] = ok["throughput_mb_s"] / probe
    ok["probe_mb_s"] = probe
    ok["probe_drift"] = drift(ok["probe_before_mb_s"], ok["probe_after_mb_s"])
    rows = []
    for key, group in ok.groupby(POOLED, dropna=False):
        rows.append(dict(zip(POOLED, key, strict=True)) | {
            "runs": len(group),
            "experiments": ", ".join(sorted(group["experiment"].unique())),
            "walls": group["wall_s"].tolist(),
            "rates": group["throughput_mb_s"].tolist(),
            "wall_s": float(group["wall_s"].median()),
            "throughput_mb_s": float(group["throughput_mb_s"].median()),
            "vs_limit": float(group["vs_limit"].median()) if group["vs_limit"].notna().any() else np.nan,
            "probe_mb_s": float(group["probe_mb_s"].median()) if group["probe_mb_s"].notna().any() else np.nan,
            "probe_drift": float(group["probe_drift"].max()) if group["probe_drift"].notna().any() else np.nan,
            "ratios": group["vs_limit"].tolist(),
            "drifts": group["probe_drift"].tolist(),
            "probes": group["probe_mb_s"].tolist(),
        })  # fmt: skip
    return pd.DataFrame(rows)


def best(pool: pd.DataFrame, engine: str, kernel: str, emulated: bool | None = None) -> pd.Series | None:
    """The engine's configuration by the paper's rule: whole dataset, no warm-up job, lowest median wall."""
    if not len(pool):
        return None
    rows = pool[(pool["engine"] == engine) & (pool["kernel"] == kernel)]
    # the whole dataset: as many objects as the engine's largest runs read (the study-layout
    # experiments read a few objects at fraction 1, and are not the dataset)
    rows = rows[(rows["objects"] == pool.loc[pool["engine"] == engine, "objects"].max()) & ~rows["warmup"].astype(bool)]
    if emulated is not None:
        rows = rows[rows["emulated"].astype(bool) == emulated]
    return rows.sort_values(["wall_s", "runs"], ascending=[True, False]).iloc[0] if len(rows) else None


# -- Lambda's terms ---------------------------------------------------------------------------


def lambda_terms(summary: pd.DataFrame) -> pd.DataFrame:
    """Per memory size: the Lithops memory experiment beside the Dask workers under the same quotas."""
    ok = summary[summary["status"] == "ok"]
    lith = ok[(ok["engine"] == "lithops") & (ok["experiment"] == ex.MEMORY)].set_index("memory_mb")
    dask = ok[(ok["engine"] == "dask") & (ok["experiment"] == ex.LAMBDA_TERMS)].set_index("memory_mb")
    sizes = sorted(set(lith.index) & set(dask.index))
    rows = [{"memory_mb": int(m), "lithops": lith.loc[m], "dask": dask.loc[m]} for m in sizes]
    # equal terms only: the same objects per call, and both held to Lambda's quotas
    rows = [r for r in rows if r["lithops"]["objects_per_call"] == r["dask"]["objects_per_call"]]
    for r in rows:
        r["emulated"] = bool(r["lithops"]["emulated"]) and bool(r["dask"]["emulated"])
    return pd.DataFrame(rows)


def row_interval(row: pd.Series, col: str, digits: int = 1) -> str:
    """A summary row's ``median [lo--hi]`` of ``col`` (its runs' range); the median alone below
    MIN_INTERVAL_RUNS runs."""
    if row.get("runs_ok", row.get("runs", MIN_INTERVAL_RUNS)) < MIN_INTERVAL_RUNS:
        return _num(row[col], digits)
    return f"{_num(row[col], digits)} [{_num(row[col + '_lo'], digits)}--{_num(row[col + '_hi'], digits)}]"


def lambda_terms_table(summary: pd.DataFrame) -> str:
    from aqbench.lambda_facts import facts

    lines = [
        r"\begin{tabular}{rrrllr}",
        r"\toprule",
        r"memory (MB) & vCPUs each & at once & Lithops wall (s) & Dask wall (s) & Dask/Lithops \\",
        r"\midrule",
    ]
    for r in lambda_terms(summary).itertuples():
        workers = int(r.dask["workers"])
        mark = "" if r.emulated else "$^*$"
        lines.append(
            f"{r.memory_mb}{mark} & {facts().vcpus(r.memory_mb):.2f} & {workers} & "
            f"{row_interval(r.lithops, 'wall_s')} & "
            f"{row_interval(r.dask, 'wall_s')} & {r.dask['wall_s'] / r.lithops['wall_s']:.2f} \\\\"
        )
    if len(lines) == 4:
        lines.append(r"\multicolumn{6}{c}{no memory experiment beside a Dask lambda\_terms experiment} \\")
    lines += [r"\bottomrule", r"\end{tabular}"]
    rows = lambda_terms(summary)
    if len(rows) and not rows["emulated"].all():
        lines.append(r"\\[2pt]{\footnotesize $^*$: not every run held to Lambda's quotas (no cgroups or tc here)}")
    return "\n".join(lines) + "\n"


def lambda_terms_macros(summary: pd.DataFrame) -> dict[str, str]:
    """The smallest memory size of the comparison, in the findings' words."""
    values = dict.fromkeys(("TermsMemoryMB", "TermsWorkers", "TermsLithopsS", "TermsDaskS", "TermsRatio",
                            "TermsWord"), "--")  # fmt: skip
    rows = lambda_terms(summary)
    if not len(rows):
        return values
    r = rows.iloc[0]
    ratio = r["dask"]["wall_s"] / r["lithops"]["wall_s"]
    return {
        "TermsMemoryMB": str(r["memory_mb"]),
        "TermsWorkers": str(int(r["dask"]["workers"])),
        "TermsLithopsS": row_interval(r["lithops"], "wall_s"),
        "TermsDaskS": row_interval(r["dask"], "wall_s"),
        "TermsRatio": f"{ratio:.2f}",
        # from the two configurations' ranges of wall time: a word only where they do not overlap
        "TermsWord": direction(
            [r["dask"]["wall_s_lo"], r["dask"]["wall_s_hi"]],
            [r["lithops"]["wall_s_lo"], r["lithops"]["wall_s_hi"]],
            "faster than",
            "slower than",
            "neither faster nor slower than",
        ),
    }


def steady(row: pd.Series, max_drift: float) -> pd.Series:
    """The configuration's ratio to the machine's limit over the runs whose probe held within
    ``max_drift`` (a run whose machine changed under it says nothing about the ratio): the
    median ratio and probe of those runs, how many they are, and the largest drift among them."""
    kept = [(r, p) for r, p, d in zip(row["ratios"], row["probes"], row["drifts"], strict=True)
            if r == r and d == d and d <= max_drift]  # fmt: skip
    out = row.copy()
    out["steady_runs"] = len(kept)
    out["vs_limit"] = float(np.median([r for r, _ in kept])) if kept else np.nan
    out["probe_mb_s"] = float(np.median([p for _, p in kept])) if kept else np.nan
    out["probe_drift"] = max((d for d in row["drifts"] if d == d and d <= max_drift), default=np.nan)
    return out
