"""The study's two runs, and its job for a user, simulated from the measured factors.

Each ``preprocess`` variant's predicted activation (:mod:`.decomposition`) becomes the call cost of
the scale model (:mod:`aqbench.scale.model`): its seconds are what one activation takes, nothing is
solved from the study's own times. The study ran in January 2023, under Lambda's older scaling rule
(a regional burst, then 500 a minute), so its runs are simulated under that rule. The timeout run's
19 of 1099 is read as Lithops 2.7.1 counts it (:func:`aqbench.study_facts.timeout_reading`).
"""

from __future__ import annotations

import math
from typing import Any

from aqbench import study_facts as study
from aqbench.cost import Prices
from aqbench.scale.calibration import Calibration
from aqbench.scale.model import JobSpec, simulate
from aqbench.scale.project import cost_for_activation, job_cost, lambda_cost, lambda_platform
from aqbench.study2023.decomposition import Span

ENDS = ("value", "low", "high")


def study_runs(predicted: dict[str, Span], cal: Calibration, facts: dict[str, Any]) -> list[dict[str, Any]]:
    """Per variant: the warm-up's wall time and the timeout run's activations done in 900 s, each at
    the prediction's value and at the ends of its range, beside what the study reported."""
    platform = lambda_platform(facts, cal, legacy=True)
    base = lambda_cost(cal, facts)
    warmup = JobSpec(
        study.WARMUP_ACTIVATIONS, study.OBJECT_MB, 1, study.WARMUP_MEMORY_MB, 0, chunksize=study.WARMUP_CHUNKSIZE
    )
    start = platform.cold_init_s
    rows = []
    for variant, span in predicted.items():
        row: dict[str, Any] = {"preprocess": variant}
        for end in ENDS:
            seconds = getattr(span, end)
            warm_cost = cost_for_activation(platform, base, seconds, study.OBJECT_MB, study.WARMUP_MEMORY_MB, 0)
            row[f"warmup_s_{end}"] = simulate(warmup, platform, warm_cost).wall_s
            row[f"timeout_done_{end}"] = min(
                study.TIMEOUT_ACTIVATIONS, math.floor((study.TIMEOUT_S - start) / seconds + 1e-9)
            )
        rows.append(row)
    return rows


def user_job(
    choices: dict[str, Span],
    cal: Calibration,
    facts: dict[str, Any],
    prices: Prices,
    memory_mb: int = 1024,
    reducers: int = 8,
) -> list[dict[str, Any]]:
    """The study's job at its scale (50 GB in 25 MB objects, one an activation) on today's Lambda scaling
    rule, per choice of code: wall time and cost of one pass at the ends of each span. The reduce is
    hash-partitioned over ``reducers``: at 1024 MB one reducer of all partials runs out of memory in the
    model."""
    platform = lambda_platform(facts, cal, legacy=False)
    base = lambda_cost(cal, facts)
    objects = math.ceil(study.DATA_GB * 1000 / study.OBJECT_MB)
    job = JobSpec(objects, study.OBJECT_MB, 1, memory_mb, reducers)
    rows = []
    for name, span in choices.items():
        row: dict[str, Any] = {"choice": name, "objects": objects, "memory_mb": memory_mb, "reducers": reducers}
        for end in ENDS:
            cost = cost_for_activation(platform, base, getattr(span, end), study.OBJECT_MB, memory_mb, reducers)
            result = simulate(job, platform, cost)
            row |= {
                f"wall_s_{end}": result.wall_s,
                f"cost_usd_{end}": job_cost(result, job, "x86_64", prices),
                f"status_{end}": result.status,
            }
        rows.append(row)
    return rows


def arrow_activation(cal: Calibration, base: Span, around: Span, cpu: Span, download: Span) -> Span | None:
    """One activation of the arrow kernel on the study's Lambda, built as the study's code's is.

    The calibration's run measured the arrow kernel and the study's code (today's port) on one host:
    their CPU per MB's ratio moves the decomposition's base (the slides' code on today's software,
    measured where the activations were) to the arrow kernel on that same host, so no time measured on
    one CPU is multiplied by another CPU's ratio. Then, as for the study's code: Lithops around it, the
    CPU ratio, the download. None where the calibration lacks either kernel."""
    arrow, port = cal.kernel_cpu_s_per_mb.get("arrow"), cal.study_cpu_s_per_mb
    if not arrow or not port:
        return None
    r = arrow / port
    return (base * Span(r, r, r) + around) * cpu + download


def explain(
    activations: Any, cal: Calibration, facts_path: Any, cpu_facts: dict[str, Any], prices: Prices
) -> dict[str, Any]:
    """Everything the paper says about what set the study's times, as one record: the CPU ratio for the
    host that measured the activations, the decomposition at 1024 MB and the verdict on the study's two
    runs, Lithops' timeout reading, the two runs re-simulated per variant, and the study's job for a user
    (its code as explained, with a vectorized preprocess, with the arrow kernel)."""
    from aqbench import host_cpu, lambda_facts
    from aqbench.host_cpu import HostCpu
    from aqbench.study2023 import cpu, decomposition

    table = lambda_facts.read(facts_path)
    values = table.values
    read_mb_s = float(values["s3_read_mb_s"])  # the published per-function S3 rate, as the scale model's
    link = Span(read_mb_s, *table.ranges.get("s3_read_mb_s", (read_mb_s, read_mb_s)))
    first_byte = float(values["s3_first_byte_s"])
    request_s = Span(first_byte, *table.ranges.get("s3_first_byte_s", (first_byte, first_byte)))
    measured_on = activations[activations["phase"] == "map"].iloc[0]
    host = HostCpu.from_row(measured_on) if "cpu_model" in activations else host_cpu.host()
    ratio = cpu.ratio(host, cpu_facts)
    dec = decomposition.decompose(activations, ratio.span if ratio else None, link, request_s, study.WARMUP_MEMORY_MB)
    reading = study.timeout_reading(study.worker_start_s(values, table.ranges))
    verdict = decomposition.verdict(dec.variants, (reading["per_activation_low_s"], reading["per_activation_high_s"]))
    around = next(f.own for f in dec.factors if f.name.startswith("Lithops"))
    download = next(f.own for f in dec.factors if "download" in f.name)
    cpu_span = ratio.span if ratio else Span(1.0, 1.0, 1.0)
    arrow = arrow_activation(cal, dec.factors[0].own, around, cpu_span, download)
    choices = {
        "closest variant": dec.variants[verdict.closest],
        "vectorized preprocess": dec.variants[decomposition.BASE_PREPROCESS],
        **({"arrow kernel": arrow} if arrow else {}),
    }
    return {
        "host_cpu": host.as_row(),
        "cpu_ratio": None
        if ratio is None
        else {
            "value": ratio.span.value,
            "low": ratio.span.low,
            "high": ratio.span.high,
            "host": ratio.host_name,
            "study": ratio.study_name,
            "sources": ratio.sources,
        },
        "decomposition": dec.to_dict(),
        "verdict": {
            "fits": verdict.fits,
            "gap": verdict.gap,
            "closest": verdict.closest,
            "sentence": verdict.sentence(decomposition.NAMES),
        },
        "timeout_reading": reading,
        "warmup_results_gb": dec.result_mb * study.WARMUP_ACTIVATIONS / 1000,
        "study_runs": study_runs(dec.variants, cal, values),
        "user": user_job(choices, cal, values, prices),
        "user_closest": verdict.closest,
    }
