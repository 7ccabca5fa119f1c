"""The paper's account of what set the study's times, from ``aqbench study-explain``'s record.

Three tables (the decomposition, each preprocess variant's prediction and its re-simulated runs, the
study's job for a user) and the macros the text quotes. Where the profile did not run the study's code
in its own software (no Python 3.8 on the machine, or the profile turns it off), the record is absent
and so are the tables; the macros say so in words, so the paper states which results are missing.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from aqbench import study_facts as study
from aqbench.report.tables import _fmt as _n
from aqbench.study2023.decomposition import NAMES

ABSENT = (
    "not measured in this build: it ran without the study's own software (no Python 3.8 found, "
    "or the profile's study2023 turned off)"
)


def read(path: Path | None) -> dict[str, Any] | None:
    return json.loads(path.read_text()) if path is not None and path.exists() else None


def _span(s: dict[str, float], digits: int = 2) -> str:
    value = "" if math.isnan(s["value"]) else f"{_n(s['value'], digits)} "
    return f"{value}[{_n(s['low'], digits)}--{_n(s['high'], digits)}]"


def _direction(ratio: dict[str, float], above: str, below: str) -> str:
    """A direction only where the whole range lies on one side of 1."""
    if ratio["low"] > 1:
        return f"{above} (the range lies above 1)"
    if ratio["high"] < 1:
        return f"{below} (the range lies below 1)"
    return "the range spans 1: no difference measured"


def _driver_rate(record: dict[str, Any], run: dict[str, Any]) -> str:
    """The link the warm-up's driver would need to download its results in what the simulated warm-up
    leaves of the study's 70 s, over the simulated warm-up's range (MB/s)."""
    gb = record["warmup_results_gb"]
    rates = [gb * 1000 / (study.WARMUP_WALL_S - run[f"warmup_s_{e}"]) for e in ("low", "high")
             if run[f"warmup_s_{e}"] < study.WARMUP_WALL_S]  # fmt: skip
    return f"{_n(min(rates), 0)}--{_n(max(rates), 0)}" if rates else "more than any"


def _software_extreme(dec: dict[str, Any]) -> str:
    """The variant whose time the study's software changes most, and by how much (2023 over today)."""
    by = dec.get("software_by_variant") or {}
    if not by:
        return "--"
    v = max(by, key=lambda k: abs(math.log(by[k]["value"])))
    return f"{NAMES.get(v, v)}: {_span(by[v])}"


def _absent_table() -> str:
    return f"\\begin{{tabular}}{{l}}\n\\toprule\nThe decomposition is {ABSENT}.\\\\\n\\bottomrule\n\\end{{tabular}}\n"


def decomposition_table(record: dict[str, Any] | None) -> str:
    """A row a factor: what, how measured, its own ratio or seconds with its range, and the predicted
    seconds per activation once it is applied: rows 1-2 a configuration measured as such (median
    [min-max]), row 3 the range over the variants measured, then bounds (lows with lows, highs with highs)."""
    if record is None:
        return _absent_table()
    dec = record["decomposition"]
    col = "{\\raggedright\\arraybackslash}"
    lines = [
        f"\\begin{{tabular}}{{>{col}p{{0.29\\linewidth}}>{col}p{{0.22\\linewidth}}>{col}p{{0.2\\linewidth}}l}}",
        "\\toprule",
        "Factor & How measured & Its own (n) & Predicted s \\\\",
        "\\midrule",
    ]
    for f in dec["factors"]:
        own = f["own"]
        if f["kind"] == "ratio" and math.isnan(own["value"]):
            own_text = f"$\\times$ {_n(own['low'])}--{_n(own['high'])}"
        elif f["kind"] in ("ratio",):
            own_text = f"$\\times$ {_span(own)}"
        elif f["kind"] == "seconds":
            own_text = f"+{_span(own)}\\,s" if f["n"] or "download" in f["name"] else "not measured"
        else:
            own_text = f"{_span(own)}\\,s"
        n = f" ({f['n']})" if f["n"] else ""
        name = f["name"].replace("_", "\\_")
        lines.append(f"{name} & {f['how']} & {own_text}{n} & {_span(f['cumulative'])} \\\\")
    lines += ["\\bottomrule", "\\end{tabular}"]
    return "\n".join(lines) + "\n"


def _sorted(a: float, b: float, digits: int = 0) -> str:
    return f"{_n(min(a, b), digits)}--{_n(max(a, b), digits)}"


def variants_table(record: dict[str, Any] | None) -> str:
    """Per preprocess variant: the study's software over today's for it, the predicted activation on the
    study's Lambda, and the study's two runs re-simulated with it, beside what the study reported."""
    if record is None:
        return _absent_table()
    dec = record["decomposition"]
    runs = {r["preprocess"]: r for r in record["study_runs"]}
    software = dec.get("software_by_variant", {})
    lines = [
        "\\begin{tabular}{lllll}",
        "\\toprule",
        "Preprocess & 2023/today & Activation (s) & Warm-up (s) & Timeout run: done \\\\",
        "\\midrule",
    ]
    order = sorted(dec["variants"], key=lambda v: dec["variants"][v]["value"])
    for v in order:
        span, run = dec["variants"][v], runs[v]
        ratio = _span(software[v]) if v in software else "--"
        lines.append(
            f"{NAMES.get(v, v)} & {ratio} & {_span(span, 1)} & "
            f"{_n(run['warmup_s_value'], 0)} [{_sorted(run['warmup_s_low'], run['warmup_s_high'])}] & "
            f"{run['timeout_done_value']} [{_sorted(run['timeout_done_low'], run['timeout_done_high'])}] \\\\"
        )
    reading = record["timeout_reading"]
    low, high = reading.get("per_activation_low_s"), reading.get("per_activation_high_s")
    lines += [
        "\\midrule",
        f"The study & & $\\le${_n(study.activation_s_from_warmup(), 0)}; {_n(low, 1)}--{_n(high, 1)} & "
        f"{study.WARMUP_WALL_S} & {study.TIMEOUT_DONE} \\\\",
        "\\bottomrule",
        "\\end{tabular}",
    ]
    return "\n".join(lines) + "\n"


def macros(record: dict[str, Any] | None) -> dict[str, str]:
    """The numbers and the computed sentence the text quotes (LaTeX)."""
    if record is None:
        return {"StudyExplained": ABSENT, "StudyExplainedSentence": f"the decomposition is {ABSENT}"}
    dec = record["decomposition"]
    software = next(f for f in dec["factors"] if f["name"].startswith("The study's software"))
    preprocess = next(f for f in dec["factors"] if f["name"].startswith("The unshown preprocess"))
    around = next(f for f in dec["factors"] if f["name"].startswith("Lithops"))
    download = next(f for f in dec["factors"] if "download" in f["name"])
    variants = dec["variants"]
    fastest = min(variants, key=lambda v: variants[v]["value"])
    slowest = max(variants, key=lambda v: variants[v]["value"])
    cpu = record.get("cpu_ratio")
    reading = record["timeout_reading"]
    runs = {r["preprocess"]: r for r in record["study_runs"]}
    closest = record["verdict"]["closest"]
    user = {r["choice"]: r for r in record["user"]}
    out = {
        "StudyExplained": "measured",
        "StudyExplainedSentence": record["verdict"]["sentence"],
        "StudyExplainedGap": _n(record["verdict"]["gap"], 1),
        "StudyExplainedClosest": NAMES.get(closest, closest),
        "StudySoftwareRatio": _span(software["own"]),
        "StudySoftwarePairs": str(software["n"]),
        "StudyPreprocessRatios": f"{_n(preprocess['own']['low'])}--{_n(preprocess['own']['high'])}",
        "StudyPreprocessVariants": str(preprocess["n"]),
        "StudyLithopsAroundS": (
            f"{_span(around['own'])}\\,s" if around["n"] else "nothing measured (this run made no Lithops~2.7.1 job)"
        ),
        "StudySoftwareVerdict": _direction(
            software["own"], "the study's software is slower", "the study's software is faster"
        ),
        "StudyDownloadS": _span(download["own"]),
        "StudyFastestVariant": NAMES.get(fastest, fastest),
        "StudySlowestVariant": NAMES.get(slowest, slowest),
        "StudyFastestS": _span(variants[fastest], 1),
        "StudySlowestS": _span(variants[slowest], 1),
        "StudyPeakMB": _n(dec["peak_mb"], 0),
        "StudyGcShare": _n(100 * dec["gc_share"], 0) + "\\,\\%",
        "StudyKilled": str(dec["killed"]),
        "StudyResultMB": _n(dec["result_mb"], 2),
        "StudyWarmupResultsGB": _n(record["warmup_results_gb"], 1),
        "StudyTimeoutReadS": _n(reading["per_activation_s"], 1),
        "StudyResimWarmupS": f"{_n(runs[closest]['warmup_s_value'], 0)} [{_n(runs[closest]['warmup_s_low'], 0)}--"
        f"{_n(runs[closest]['warmup_s_high'], 0)}]",
        "StudyResimTimeoutDone": f"{runs[closest]['timeout_done_value']} "
        f"[{_sorted(runs[closest]['timeout_done_low'], runs[closest]['timeout_done_high'])}]",
        "StudyWarmupLeftS": _sorted(
            study.WARMUP_WALL_S - runs[closest]["warmup_s_low"], study.WARMUP_WALL_S - runs[closest]["warmup_s_high"]
        ),
        "StudyDriverMBs": _driver_rate(record, runs[closest]),
        "StudyTimeoutRangeS": _sorted(reading.get("per_activation_low_s"), reading.get("per_activation_high_s"), 1),
        "StudyObjectMeasuredMB": _n(dec.get("object_mb"), 1),
        "StudyObjectsMeasured": str(dec.get("objects", 0)),
        "StudySoftwareExtreme": _software_extreme(dec),
        "StudyResimWarmupVsReported": _n(runs[closest]["warmup_s_value"] / study.WARMUP_WALL_S, 2),
        "StudyResimTimeoutVsReported": _n(runs[closest]["timeout_done_value"] / study.TIMEOUT_DONE, 1),
        "StudyCpuRatio": _span(cpu) if cpu else "not known for this host",
        "StudyCpuHost": (cpu["host"] if cpu else record["host_cpu"]["cpu_name"]).replace("_", "\\_"),
    }
    for key, choice in (
        ("Explained", "closest variant"),
        ("Vectorized", "vectorized preprocess"),
        ("Arrow", "arrow kernel"),
    ):
        row = user.get(choice)
        if row is None:  # the calibration did not measure the arrow kernel beside the study's code
            out[f"StudyUser{key}S"], out[f"StudyUser{key}Usd"] = "--", "--"
            continue
        walls = sorted(row[f"wall_s_{e}"] for e in ("value", "low", "high"))
        costs = sorted(row[f"cost_usd_{e}"] for e in ("value", "low", "high"))
        out[f"StudyUser{key}S"] = f"{_n(row['wall_s_value'], 0)} [{_n(walls[0], 0)}--{_n(walls[-1], 0)}]"
        out[f"StudyUser{key}Usd"] = f"{_n(row['cost_usd_value'], 2)} [{_n(costs[0], 2)}--{_n(costs[-1], 2)}]"
    out["StudyUserReducers"] = str(user["closest variant"]["reducers"])
    return out
