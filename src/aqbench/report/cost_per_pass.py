"""One pass over the study's 50 GB, in dollars, for every way of running it the paper prices.

The paper prices the same work in several places (the projection's configurations, the study's job
rebuilt with its own activation, the study's warm-up as it ran, the EC2 alternatives) and quotes the
study's bill, which is not a pass at all: two days of testing. This table sets them side by side in
one unit, each row saying how it is known, so that no figure is compared with one of another kind.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pandas as pd

from aqbench import study_facts as study


def _s(x: float) -> str:
    return f"{x:,.0f}".replace(",", "{,}") if x >= 100 else f"{x:.1f}"


def _usd(x: float) -> str:
    return f"{x:.3f}" if x < 10 else f"{x:.2f}"


def _tex(text: str) -> str:
    return str(text).replace("_", r"\_").replace(" x ", r" $\times$ ")


def _band(mid: float, lo: float, hi: float, fmt=_s) -> str:
    a, b = sorted((lo, hi))
    return fmt(mid) if fmt(a) == fmt(b) else f"{fmt(mid)} [{fmt(a)}--{fmt(b)}]"


def _config(row: pd.Series) -> str:
    arch = "arm64" if row["architecture"] == "arm64" else "x86"
    return f"{int(row['memory_mb'])}\\,MB {arch}, {int(row['objects_per_call'])} obj/call, $R={int(row['reducers'])}$"


def rows(scale: Path, explained: dict[str, Any] | None) -> list[tuple[str, str, str, str, float]]:
    """(group, option, wall, USD text, USD) for every priced way of making one pass."""
    from aqbench.scale.project import IMPLIED, STUDY_KERNEL, picks

    out: list[tuple[str, str, str, str, float]] = []
    projection = scale / "projection.csv"
    if projection.exists():
        table = pd.read_csv(projection)
        said = {"fastest": "lowest median wall on x86", "cheapest": "lowest median cost"}
        for what, row in picks(table).items():
            out.append(("Lambda, modelled (Table~\\ref{tab:projection})", f"{said[what]}: {_config(row)}",
                        _band(row["wall_s"], row["wall_s_p10"], row["wall_s_p90"]),
                        _band(row["cost_usd"], row["cost_usd_p10"], row["cost_usd_p90"], _usd),
                        float(row["cost_usd"])))  # fmt: skip
    names = {
        "closest variant": "its code, the variant nearest its timeout run",
        "vectorized preprocess": "its code, a vectorized preprocess",
        "arrow kernel": "this build's arrow kernel",
    }
    for row in (explained or {}).get("user", []):
        walls = (row["wall_s_value"], row["wall_s_low"], row["wall_s_high"])
        costs = (row["cost_usd_value"], row["cost_usd_low"], row["cost_usd_high"])
        out.append((f"the study's job, modelled ({row['memory_mb']}\\,MB, one object a call, $R={row['reducers']}$;"
                    " Section~\\ref{sec:study-explained})", names.get(row["choice"], row["choice"]),
                    _band(walls[0], min(walls), max(walls)), _band(costs[0], min(costs), max(costs), _usd),
                    float(costs[0])))  # fmt: skip
    study_file = scale / "study.csv"
    if study_file.exists():
        runs = pd.read_csv(study_file)
        warm = runs[runs["scaling"].str.startswith("1000") & runs["case"].str.startswith("warm-up")]
        label = {IMPLIED: "at the cost per activation its timeout run implies",
                 STUDY_KERNEL: "its code as measured here", "seed": "this build's seed kernel",
                 "arrow": "this build's arrow kernel"}  # fmt: skip
        group = (
            f"the study's warm-up as it ran ({study.WARMUP_ACTIVATIONS:,} activations, chunksize "
            f"{study.WARMUP_CHUNKSIZE}, {study.WARMUP_MEMORY_MB}\\,MB, no reduce), modelled"
        ).replace(",", "{,}", 1)
        for r in warm.itertuples():
            out.append((group, label.get(r.kernel, r.kernel), _s(r.simulated_s), _usd(r.cost_usd), float(r.cost_usd)))
        bound = warmup_bound_usd(scale)
        if bound is not None:
            out.append((group, f"at most the cost per activation its warm-up's log allows "
                        f"({study.activation_s_from_warmup():.0f}\\,s)", f"$\\le$ {study.WARMUP_WALL_S} (log)",
                        f"$\\le$ {_usd(bound)}", bound))  # fmt: skip
    alt_file = scale / "alternatives.csv"
    if alt_file.exists() and alt_file.stat().st_size > 1:
        alts = pd.read_csv(alt_file)
        at = alts[alts["data_gb"] == study.DATA_GB]
        for r in at.itertuples():
            wall = _s(r.wall_s) if r.kind == "single" else _band(r.wall_s, r.wall_s_p10, r.wall_s_p90)
            out.append(("EC2, modelled (boot, S3 rate, per-second billing)", _tex(r.option), wall, _usd(r.cost_usd),
                        float(r.cost_usd)))  # fmt: skip
    return out


def _implied_warmup(scale: Path) -> pd.Series | None:
    """The study's warm-up simulated at the per-activation cost its own timeout run implies (study.csv)."""
    from aqbench.scale.project import IMPLIED

    study_file = scale / "study.csv"
    if not study_file.exists():
        return None
    runs = pd.read_csv(study_file)
    found = runs[runs["scaling"].str.startswith("1000") & runs["case"].str.startswith("warm-up")
                 & (runs["kernel"] == IMPLIED)]  # fmt: skip
    return found.iloc[0] if len(found) else None


def implied_pass_usd(scale: Path) -> float | None:
    """What one pass costs at the per-activation cost the study's own timeout run implies."""
    row = _implied_warmup(scale)
    return None if row is None else float(row["cost_usd"])


def warmup_bound_usd(scale: Path) -> float | None:
    """The most one pass can have cost by the warm-up's own log: the timeout run's implied pass scaled
    to the longest activation the warm-up's 70 s allow. Billed time is the cost (requests add
    well under a cent for 1,979 calls), so scaling by the activation's seconds is the bound."""
    row = _implied_warmup(scale)
    if row is None:
        return None
    return float(row["cost_usd"]) * study.activation_s_from_warmup() / float(row["activation_s"])


def table(scale: Path, explained: dict[str, Any] | None) -> str:
    """The LaTeX table: a block per group, the study's bill last, said as what it is."""
    lines = [
        r"\begin{tabular}{>{\raggedright\arraybackslash}p{8.8cm}rr}",
        r"\toprule",
        r"how one pass over 50\,GB is run & wall (s) & USD a pass \\",
        r"\midrule",
    ]
    group = None
    for g, option, wall, usd, _ in rows(scale, explained):
        if g != group:
            if group is not None:
                lines.append(r"\addlinespace")
            lines.append(rf"\multicolumn{{3}}{{l}}{{\emph{{{g}}}}} \\")
            group = g
        lines.append(rf"\quad {option} & {wall} & {usd} \\")
    implied = implied_pass_usd(scale)
    lines.append(r"\midrule")
    bound = warmup_bound_usd(scale)
    passes = (f" (about {study.BILL_USD / implied:.0f} passes at the timeout run's implied cost, at least "
              f"{math.floor(study.BILL_USD / bound)} at the warm-up's)") if implied and bound else ""  # fmt: skip
    lines.append(rf"the study's bill: two days of testing, not one pass{passes} & -- & {study.BILL_USD:.2f} \\")
    lines += [r"\bottomrule", r"\end{tabular}"]
    return "\n".join(lines) + "\n"


def macros(scale: Path) -> dict[str, str]:
    """The implied per-pass cost and what the bill is worth in such passes."""
    implied = implied_pass_usd(scale)
    bound = warmup_bound_usd(scale)
    if implied is None or bound is None:
        return dict.fromkeys(
            ("StudyImpliedPassUSD", "StudyBillPasses", "StudyWarmupPassMaxUSD", "StudyBillPassesMin"), "--"
        )
    return {
        "StudyImpliedPassUSD": f"{implied:.2f}",
        "StudyBillPasses": f"{study.BILL_USD / implied:.0f}",
        "StudyWarmupPassMaxUSD": f"{bound:.2f}",
        "StudyBillPassesMin": str(math.floor(study.BILL_USD / bound)),  # "at least": rounded down
    }


def read_explained(path: Path | None) -> dict[str, Any] | None:
    return json.loads(path.read_text()) if path is not None and path.exists() else None
