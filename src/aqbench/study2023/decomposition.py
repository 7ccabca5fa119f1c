"""What set the study's times: one activation of its code rebuilt factor by factor from measurements.

The study's two runs bound one activation of its code (one ~25 MB object, 1024 MB Lambda): at
most 35 s in its warm-up, 46.9-47.2 s in its timeout run as Lithops reads it (:mod:`aqbench.study_facts`). This module
starts from what this host measures for the slides' code on today's software and multiplies or adds
one factor at a time, each measured on its own in the same interleaved run (study-2023) or taken
from a cited source: the study's software, its unshown ``preprocess`` (a family of variants, none
chosen), Lithops 2.7.1's work around an activation, Lambda's CPU against this host's, and the
object's download at Lambda's link. Each factor is a :class:`Span` (a median and the range of its
repetitions, or a published range), and so is each cumulative prediction: the product or sum of
the ranges, named as such, never a confidence interval.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

import pandas as pd

from aqbench import study_facts as study

BASE_PREPROCESS = "str_accessors"
"""The vectorized ``preprocess`` every other variant is divided by."""

NAMES = {
    "str_accessors": "vectorized \\texttt{.str} accessors",
    "series_apply": "element-wise \\texttt{Series.apply}",
    "row_apply": "row-wise \\texttt{DataFrame.apply}",
    "json_normalize": "\\texttt{pd.json\\_normalize}",
    "to_datetime_element": "\\texttt{pd.to\\_datetime} per element",
    "to_datetime_column": "\\texttt{pd.to\\_datetime} per column",
}
"""The variants as the paper names them (LaTeX)."""


@dataclass(frozen=True)
class Span:
    """A value with its range: the median of repetitions and their min-max, or a published value and
    its stated range."""

    value: float
    low: float
    high: float

    def __mul__(self, other: Span) -> Span:
        return Span(self.value * other.value, self.low * other.low, self.high * other.high)

    def __add__(self, other: Span) -> Span:
        return Span(self.value + other.value, self.low + other.low, self.high + other.high)

    def overlaps(self, low: float, high: float) -> bool:
        return self.low <= high and self.high >= low

    @classmethod
    def of(cls, values: pd.Series | list[float]) -> Span:
        s = pd.Series(values, dtype=float).dropna()
        return cls(float(s.median()), float(s.min()), float(s.max())) if len(s) else cls(math.nan, math.nan, math.nan)


@dataclass(frozen=True)
class Factor:
    """One row of the decomposition: what it is, how it was measured, its own span (a ratio, or
    seconds added), and the predicted seconds per activation once it is applied."""

    name: str
    how: str
    kind: str  # "base", "ratio" or "seconds"
    own: Span
    cumulative: Span
    n: int = 0


def _maps(activations: pd.DataFrame, memory_mb: int) -> pd.DataFrame:
    ok = activations[(activations["status"] == "success") & (activations["phase"] == "map")]
    ok = ok[(ok["memory_mb"] == memory_mb) & (ok["job"] == "average")].copy()
    ok["per_object_s"] = ok["seconds"] / (ok["object_bytes"] / 1e6) * study.OBJECT_MB
    return ok


def paired_ratio(maps: pd.DataFrame, top: dict[str, str], bottom: dict[str, str]) -> tuple[Span, int]:
    """The ratio of two configurations measured side by side: per repetition and object, ``top``'s
    seconds over ``bottom``'s (the run interleaves them, so each pair shares the machine's moment);
    the median of those ratios and their range."""
    keys = ["repetition", "object"]

    def pick(where: dict[str, str]) -> pd.Series:
        sel = maps
        for column, value in where.items():
            sel = sel[sel[column] == value]
        return sel.set_index(keys)["per_object_s"]

    pairs = pd.concat([pick(top).rename("top"), pick(bottom).rename("bottom")], axis=1).dropna()
    return Span.of(pairs["top"] / pairs["bottom"]), len(pairs)


@dataclass(frozen=True)
class Decomposition:
    memory_mb: int
    factors: list[Factor]
    variants: dict[str, Span]
    """Per ``preprocess`` variant: the predicted seconds per activation on the study's Lambda."""
    peak_mb: float
    gc_share: float
    killed: int
    result_mb: float = math.nan
    """The map's result (``to_json()`` of its merged frame) per activation, scaled to a 25 MB object:
    what each activation uploads and the driver downloads."""
    software_by_variant: dict[str, Span] = field(default_factory=dict)
    """Per variant: the study's software over today's, paired (today's pandas is much slower at some)."""
    object_mb: float = math.nan
    """The measured object's own size (its times are scaled to the study's 25 MB)."""
    objects: int = 0
    """How many objects were measured (the ranges are repetitions' noise on them, not objects' variation)."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "memory_mb": self.memory_mb,
            "factors": [asdict(f) for f in self.factors],
            "variants": {k: asdict(v) for k, v in self.variants.items()},
            "peak_mb": self.peak_mb,
            "gc_share": self.gc_share,
            "killed": self.killed,
            "result_mb": self.result_mb,
            "software_by_variant": {k: asdict(v) for k, v in self.software_by_variant.items()},
            "object_mb": self.object_mb,
            "objects": self.objects,
        }


def decompose(
    activations: pd.DataFrame,
    cpu_ratio: Span | None,
    link_mb_s: Span,
    request_s: float | Span,
    memory_mb: int = 1024,
) -> Decomposition:
    """The factors at ``memory_mb`` (the study's runs were at 1024 MB).

    ``cpu_ratio``: this host's single-thread speed over the study's Lambda CPU (published
    benchmarks, :mod:`.cpu`); None where this host's CPU has no sourced figure: the chain then
    stops before the CPU and the prediction is this host's. ``link_mb_s``: one Lambda's link to S3
    (a stated range, ``lambda_facts.yaml``), over which the object is read once per activation, after
    ``request_s`` (the first byte's latency, a value or a range).

    Rows 1-3's cumulative figures are configurations measured as such (median [min-max] of their
    repetitions); from row 4 on they are bounds: lows added to or multiplied with lows, highs with highs."""
    request = request_s if isinstance(request_s, Span) else Span(request_s, request_s, request_s)
    maps = _maps(activations, memory_mb)
    if maps.empty:
        raise ValueError(f"no successful activation at {memory_mb} MB in the study-2023 rows")
    base_rows = maps[(maps["software"] == "today") & (maps["preprocess"] == BASE_PREPROCESS)]
    base = Span.of(base_rows["per_object_s"])
    factors = [
        Factor(
            "The slides' code on today's software, vectorized preprocess, this host",
            f"emulated {memory_mb} MB Lambda, this host's CPU",
            "base",
            base,
            base,
            len(base_rows),
        )
    ]
    measured = {v: Span.of(g["per_object_s"]) for v, g in maps[maps["software"] == "2023"].groupby("preprocess")}
    ratios, software_by_variant, pairs = {}, {}, {}
    for variant in measured:
        ratios[variant], _ = paired_ratio(
            maps, {"software": "2023", "preprocess": variant}, {"software": "2023", "preprocess": BASE_PREPROCESS}
        )
        software_by_variant[variant], pairs[variant] = paired_ratio(
            maps, {"software": "2023", "preprocess": variant}, {"software": "today", "preprocess": variant}
        )
    # each cumulative is the configuration's own measured seconds (median, range), not a product of
    # the ratios' ranges, which would count the machine's noise twice
    at = measured[BASE_PREPROCESS]
    factors.append(
        Factor(
            "The study's software (Python 3.8, pandas 1.5.2, numpy 1.24.1)",
            "same code and object, 2023 over today, paired",
            "ratio",
            software_by_variant[BASE_PREPROCESS],
            at,
            pairs[BASE_PREPROCESS],
        )
    )
    others = [r.value for v, r in ratios.items() if v != BASE_PREPROCESS] or [1.0]
    family = Span(math.nan, min(others), max(others))
    spread = Span(math.nan, min(m.low for m in measured.values()), max(m.high for m in measured.values()))
    factors.append(
        Factor(
            f"The unshown preprocess ({len(ratios)} variants)",
            "each other variant's median over the vectorized one's, paired",
            "ratio",
            family,
            spread,
            len(ratios) - 1,
        )
    )
    lithops_rows = activations[(activations["phase"] == "lithops") & (activations["status"] == "success")]
    lithops_rows = lithops_rows[lithops_rows["memory_mb"] == memory_mb]
    if "t_lithops" not in lithops_rows:  # the run made no Lithops 2.7.1 job: n = 0 says so
        lithops_rows = lithops_rows.iloc[0:0].assign(t_lithops=[])
    around = Span.of(lithops_rows["t_lithops"]) if len(lithops_rows) else Span(0.0, 0.0, 0.0)
    factors.append(
        Factor(
            "Lithops 2.7.1 around an activation",
            "its own statistics, chunksize 2, local S3 server",
            "seconds",
            around,
            Span(math.nan, spread.low + around.low, spread.high + around.high),
            len(lithops_rows),
        )
    )
    cpu = cpu_ratio or Span(1.0, 1.0, 1.0)
    if cpu_ratio is not None:
        last = factors[-1].cumulative
        factors.append(
            Factor(
                "Lambda's CPU of 2023 (Haswell) against this host's",
                "published single-thread benchmarks (PassMark, gzip)",
                "ratio",
                cpu,
                Span(math.nan, last.low * cpu.low, last.high * cpu.high),
            )
        )
    download = Span(
        request.value + study.OBJECT_MB / link_mb_s.value,
        request.low + study.OBJECT_MB / link_mb_s.high,
        request.high + study.OBJECT_MB / link_mb_s.low,
    )
    last = factors[-1].cumulative
    factors.append(
        Factor(
            f"The object's download ({study.OBJECT_MB} MB) at Lambda's link",
            "stated link rate and first byte",
            "seconds",
            download,
            Span(math.nan, last.low + download.low, last.high + download.high),
        )
    )
    predicted = {v: (m + around) * cpu + download for v, m in measured.items()}
    study_rows = maps[maps["software"] == "2023"]
    gc = (study_rows["gc_s"] / study_rows["seconds"]).median() if len(study_rows) else math.nan
    killed = int(((activations["status"] == "oom") & (activations["memory_mb"] == memory_mb)).sum())
    result = (study_rows["result_bytes"] / study_rows["object_bytes"]).median() * study.OBJECT_MB
    return Decomposition(
        memory_mb,
        factors,
        predicted,
        float(study_rows["peak_rss_mb"].max()),
        float(gc),
        killed,
        float(result),
        software_by_variant,
        float(maps["object_bytes"].median() / 1e6),
        int(maps["object"].nunique()),
    )


@dataclass(frozen=True)
class Verdict:
    """Which variants' predicted activation fits which of the study's two runs."""

    warmup_max_s: float
    timeout_s: tuple[float, float]
    fits: dict[str, tuple[bool, bool]]
    """variant: (fits the warm-up's bound, fits the timeout run's range)."""
    gap: float
    """The smallest factor by which a prediction misses the timeout run's range (1 when one fits)."""
    closest: str

    def sentence(self, names: dict[str, str]) -> str:
        """One sentence saying which variants are consistent with which run, computed from the fits."""
        both = [v for v, (w, t) in self.fits.items() if w and t]
        warm = [v for v, (w, t) in self.fits.items() if w and not t]
        timeout = [v for v, (w, t) in self.fits.items() if t and not w]
        label = ", ".join
        parts = []
        if both:
            parts.append(f"{label(names[v] for v in both)} fit both of the study's runs")
        if timeout:
            parts.append(
                f"{label(names[v] for v in timeout)} fit{'s' if len(timeout) == 1 else ''} its timeout run"
                f" ({self.timeout_s[0]:.1f}--{self.timeout_s[1]:.1f}\\,s) but not its warm-up"
            )
        if warm and len(warm) == len(self.fits):  # then none fits the timeout run
            parts.append(
                f"every variant fits the warm-up's bound ({self.warmup_max_s:.0f}\\,s) and none the timeout "
                f"run's {self.timeout_s[0]:.1f}--{self.timeout_s[1]:.1f}\\,s: the closest, "
                f"{names[self.closest]}, falls short by a factor of {self.gap:.1f}"
            )
        elif warm:
            parts.append(f"{label(names[v] for v in warm)} fit the warm-up's bound only")
        if not parts:
            parts.append(
                f"no variant fits either run; the closest, {names[self.closest]}, misses the timeout run "
                f"by a factor of {self.gap:.1f}"
            )
        return "; ".join(parts)


def verdict(predicted: dict[str, Span], timeout: tuple[float, float] | None = None) -> Verdict:
    """Each variant's predicted activation (its range) against the warm-up's bound (at most two
    activations in its 70 s) and the timeout run's range: ``timeout`` (Lithops' own reading of it,
    :func:`aqbench.study_facts.timeout_reading` with the facts table's cold start), else that reading
    with the repository's table (:func:`aqbench.study_facts.activation_s_from_timeout`)."""
    warm = study.activation_s_from_warmup()
    low, high = timeout or study.activation_s_from_timeout()
    fits = {v: (s.low <= warm, s.overlaps(low, high)) for v, s in predicted.items()}

    def miss(s: Span) -> float:
        if s.overlaps(low, high):
            return 1.0
        return low / s.high if s.high < low else s.low / high

    closest = min(predicted, key=lambda v: miss(predicted[v]))
    return Verdict(warm, (low, high), fits, miss(predicted[closest]), closest)
