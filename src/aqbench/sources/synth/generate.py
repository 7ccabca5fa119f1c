"""Generate the synthetic dataset: time-ordered fetch batches of about ``object_size`` bytes.

Why it looks the way it does:

- Each object is a *fetch batch*: the measurements reported during a window of hours,
  across all stations, as OpenAQ's fetcher wrote them. A measurement is reported up to a
  few hours late, so one station-day is spread over several objects, as in the original
  bucket, and a map over one object never sees whole groups.
- Values follow diurnal and weekly cycles, a heating season, city levels, and multi-day
  winter smog episodes over southern Poland, so maps differ by place and time window.
- Everything random is drawn from generators seeded by (seed, hour) and (seed, "episodes"),
  never by object, so the same seed and size give byte-identical objects whatever the
  number of parallel jobs.

Speed: lines are assembled column-wise with Arrow string kernels (one join per object),
not formatted one by one; the file body is the joined array's data buffer.

One module (longer than most here): the plan, the column-wise line assembly and the
parallel writer share the one seeding scheme that makes output independent of ``jobs``.
"""

from __future__ import annotations

import json
import logging
import math
import os
import re
import shutil
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from tqdm import tqdm

from aqbench.batching import object_name
from aqbench.errors import ConfigError
from aqbench.sources.synth.catalogue import PARAMETERS, UG_PER_PPM, build_series

log = logging.getLogger(__name__)

START = datetime(2018, 1, 1, tzinfo=UTC)
MAX_LAG_HOURS = 24
PROMPT_LAG_HOURS = 3
DELAYED_SHARE = 0.25
"""A quarter of the sources upload late (up to a day), as some national networks did."""
SIZE_UNITS = {
    "": 1,
    "B": 1,
    "KB": 10**3,
    "MB": 10**6,
    "GB": 10**9,
    "TB": 10**12,
    "KIB": 2**10,
    "MIB": 2**20,
    "GIB": 2**30,
    "TIB": 2**40,
}
META_NAME = "generation.json"


def parse_size(text: str | int) -> int:
    """'25MB', '1GB', '512KiB' or a byte count, as bytes."""
    if isinstance(text, int):
        return text
    match = re.fullmatch(r"\s*([0-9]*\.?[0-9]+)\s*([A-Za-z]*)\s*", str(text))
    unit = match.group(2).upper() if match else None
    if not match or unit not in SIZE_UNITS:
        raise ConfigError(f"size {text!r} not understood: write a number with KB, MB, GB, TB (or KiB, MiB, GiB)")
    value = int(float(match.group(1)) * SIZE_UNITS[unit])
    if value <= 0:
        raise ConfigError(f"size {text!r} must be positive")
    return value


@dataclass(frozen=True)
class Plan:
    """The shape of a dataset, fixed by its parameters before anything is generated."""

    seed: int
    size: int
    object_size: int
    days: int
    stations: int
    series: int
    hours_per_object: int
    objects: int
    hours: int
    bad_fraction: float
    sentinel_fraction: float
    start: str = START.isoformat()


# Relative shapes of the day (local hour), by parameter.
def _diurnal(parameter: str, local_hour: np.ndarray) -> np.ndarray:
    h = local_hour.astype(np.float64)

    def bump(centre: float, width: float) -> np.ndarray:
        d = np.minimum(np.abs(h - centre), 24 - np.abs(h - centre))
        return np.exp(-0.5 * (d / width) ** 2)

    if parameter == "o3":
        return 0.45 + 1.1 * bump(15, 3.5)
    if parameter in ("no2", "co", "bc"):
        return 0.7 + 0.6 * bump(8, 1.8) + 0.7 * bump(18.5, 2.2)
    if parameter in ("pm25", "pm10"):
        return 0.8 + 0.5 * bump(20, 3.0) + 0.2 * bump(8, 2.0)
    return 0.9 + 0.2 * bump(11, 4.0)


class Generator:
    """Everything needed to write any object of a plan, independently of the others."""

    def __init__(self, plan: Plan):
        self.plan = plan
        self.series = build_series(plan.stations)
        s = self.series
        self.n = len(s)
        self.base = np.array([PARAMETERS[x.parameter] * x.level for x in s])
        self.ppm = np.array([x.unit == "ppm" for x in s])
        self.per_ppm = np.array([UG_PER_PPM.get(x.parameter, 1.0) for x in s])
        self.scale = np.array([10.0**x.decimals for x in s])
        self.offset = np.array([x.utc_offset for x in s])
        self.smog = np.array([x.smog for x in s]) & np.isin([x.parameter for x in s], ["pm10", "pm25", "so2", "bc"])
        self.traffic = np.isin([x.parameter for x in s], ["no2", "co", "bc", "pm10", "pm25"])
        self.heating = np.isin([x.parameter for x in s], ["pm10", "pm25", "so2", "bc", "co"])
        self.params = sorted({x.parameter for x in s})
        self.param_index = np.array([self.params.index(x.parameter) for x in s])
        self.head = pa.array([f'"}},"parameter":"{x.parameter}","value":' for x in s])
        self.tail = pa.array([x.tail() for x in s])
        self.offsets = sorted(set(self.offset.tolist()))
        self.offset_index = np.array([self.offsets.index(o) for o in self.offset])
        self.episodes = self._episodes()
        self.delayed = np.array([hash_unit(x.station) < DELAYED_SHARE for x in s])

    def _episodes(self) -> np.ndarray:
        """Multiplier per day for smog-region series: winter episodes of 2-6 days, 2-5 times the level."""
        rng = np.random.default_rng([self.plan.seed, 0x5E0])
        days = self.plan.hours // 24 + 2
        factor = np.ones(days)
        day = int(rng.integers(0, 6))
        while day < days:
            length = int(rng.integers(2, 7))
            month = (START + timedelta(days=day)).month
            if month in (10, 11, 12, 1, 2, 3):
                peak = rng.uniform(2.0, 5.0)
                ramp = np.sin(np.linspace(0.3, math.pi - 0.3, length))
                end = min(days, day + length)
                factor[day:end] = np.maximum(factor[day:end], 1 + (peak - 1) * ramp[: end - day])
            day += length + int(rng.integers(4, 14))
        return factor

    def _hour(self, hour: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Values (as text-ready doubles), lags, and the malformed/sentinel masks of one hour."""
        rng = np.random.default_rng([self.plan.seed, hour])
        noise = rng.lognormal(0.0, 0.35, self.n)
        prompt = np.minimum(rng.geometric(0.55, self.n) - 1, PROMPT_LAG_HOURS)
        lag = np.where(self.delayed, rng.integers(0, MAX_LAG_HOURS + 1, self.n), prompt)
        bad = rng.random(self.n) < self.plan.bad_fraction
        sentinel = rng.random(self.n) < self.plan.sentinel_fraction
        when = START + timedelta(hours=hour)
        local_hour = (when.hour + self.offset) % 24
        weekday = when.weekday()
        week = np.where(self.traffic, (1.0, 1.0, 1.0, 1.0, 1.05, 0.85, 0.75)[weekday], 1.0)
        doy = when.timetuple().tm_yday
        season = np.where(self.heating, 1.0 + 0.45 * math.cos(2 * math.pi * (doy - 15) / 365), 1.0)
        episode = np.where(self.smog, self.episodes[hour // 24], 1.0)
        diurnal = np.empty(self.n)
        for i, p in enumerate(self.params):
            mask = self.param_index == i
            diurnal[mask] = _diurnal(p, local_hour[mask])
        value = self.base * noise * week * season * episode * diurnal
        value = np.where(self.ppm, value / self.per_ppm, value)
        value = np.round(value * self.scale) / self.scale
        return value, lag, bad, sentinel

    def object_rows(self, index: int) -> dict[str, np.ndarray]:
        """Rows reported in object ``index``'s window, in report order."""
        w = self.plan.hours_per_object
        first, last = index * w, (index + 1) * w
        hours = range(max(0, first - MAX_LAG_HOURS), min(last, self.plan.hours))
        parts: dict[str, list[np.ndarray]] = {k: [] for k in ("hour", "series", "value", "bad", "sentinel", "report")}
        for hour in hours:
            value, lag, bad, sentinel = self._hour(hour)
            report = hour + lag  # reports due after the last fetch are simply not in the dataset
            keep = (report >= first) & (report < last)
            parts["hour"].append(np.full(int(keep.sum()), hour))
            parts["series"].append(np.flatnonzero(keep))
            for name, arr in (("value", value), ("bad", bad), ("sentinel", sentinel), ("report", report)):
                parts[name].append(arr[keep])
        rows = {k: np.concatenate(v) for k, v in parts.items()}
        order = np.argsort(rows["report"], kind="stable")
        return {k: v[order] for k, v in rows.items()}

    def object_bytes(self, index: int) -> tuple[bytes, int, int]:
        """The object's content, its line count, and how many lines are deliberately malformed."""
        rows = self.object_rows(index)
        hours = rows["hour"]
        span = np.arange(hours.min(), hours.max() + 1) if len(hours) else np.arange(0)
        utc_text = pa.array([(START + timedelta(hours=int(h))).strftime("%Y-%m-%dT%H:00:00.000Z") for h in span])
        local_text = pa.array(
            [
                (START + timedelta(hours=int(h) + o)).strftime("%Y-%m-%dT%H:00:00")
                + f"{'+' if o >= 0 else '-'}{abs(o):02d}:00"
                for h in span
                for o in self.offsets
            ]
        )
        rel = hours - (span[0] if len(span) else 0)
        series = rows["series"]
        values = pc.cast(pa.array(rows["value"]), pa.string())
        if rows["sentinel"].any():
            values = pc.replace_with_mask(
                values, pa.array(rows["sentinel"]), pa.array(["-999"] * int(rows["sentinel"].sum()))
            )
        lines = pc.binary_join_element_wise(
            '{"date":{"utc":"',
            utc_text.take(pa.array(rel)),
            '","local":"',
            local_text.take(pa.array(rel * len(self.offsets) + self.offset_index[series])),
            self.head.take(pa.array(series)),
            values,
            self.tail.take(pa.array(series)),
            "",
        )
        bad = int(rows["bad"].sum())
        if bad:
            lines = pc.replace_with_mask(lines, pa.array(rows["bad"]), pa.array(self._malformed(lines, rows)))
        _, offsets, data = lines.buffers()
        ends = np.frombuffer(offsets, dtype=np.int32)[lines.offset : lines.offset + len(lines) + 1]
        body = data.to_pybytes()[ends[0] : ends[-1]]
        return body, len(lines), bad

    def _malformed(self, lines: pa.Array, rows: dict[str, np.ndarray]) -> list[str]:
        """The ways fetches were damaged: cut off mid-line, or the value lost."""
        picked = np.flatnonzero(rows["bad"])
        rng = np.random.default_rng([self.plan.seed, 0xBAD, int(rows["hour"][picked[0]])])
        out = []
        for i in picked:
            text = lines[int(i)].as_py()
            if rng.random() < 0.7:
                out.append(text[: int(rng.integers(1, len(text) - 2))] + "\n")
            else:
                out.append(re.sub(r'"value":[^,]*,', '"value":null,', text, count=1))
        return out


def hash_unit(n: int) -> float:
    """A fixed pseudo-random number in [0, 1) for an integer (stable across runs and platforms)."""
    return ((n * 2654435761 + 40503) % 2**32) / 2**32


def plan_dataset(
    size: int | str,
    seed: int = 0,
    object_size: int | str = "25MB",
    days: int = 60,
    stations: int | None = None,
    bad_fraction: float = 0.001,
    sentinel_fraction: float = 0.002,
) -> Plan:
    """Fix the dataset's shape: how many stations, hours per object and objects give ``size``.

    The size is met in whole objects of about ``object_size`` (within half an object); a
    size below one object is refused rather than silently written as one whole object.
    """
    size, object_size = parse_size(size), parse_size(object_size)
    if size < object_size:
        raise ConfigError(
            f"a dataset of {size} bytes is smaller than one object ({object_size} bytes): "
            "give a larger size or a smaller object size (--object-size / data.object_size)"
        )
    if days < 1:
        raise ConfigError("days must be at least 1")
    for name, f in (("bad_fraction", bad_fraction), ("sentinel_fraction", sentinel_fraction)):
        if not 0.0 <= f < 0.5:
            raise ConfigError(f"{name} must be in [0, 0.5), got {f}")
    window = MAX_LAG_HOURS + 1  # the second window of this length sees every lag: steady state
    probe = Generator(Plan(seed, size, object_size, days, stations or 121, 0, window, 2, 2 * window, 0.0, 0.0))
    bytes_per_series_hour = len(probe.object_bytes(1)[0]) / probe.n / window
    if stations is None:  # as many stations as cover `days` with `size` bytes
        per_station = bytes_per_series_hour * probe.n / probe.plan.stations
        stations = max(20, round(size / (days * 24 * per_station)))
    series = len(build_series(stations))
    per_hour = bytes_per_series_hour * series
    hours_per_object = max(1, round(object_size / per_hour))
    objects = max(1, round(size / (hours_per_object * per_hour)))
    return Plan(
        seed,
        size,
        object_size,
        days,
        stations,
        series,
        hours_per_object,
        objects,
        objects * hours_per_object,
        bad_fraction,
        sentinel_fraction,
    )


_GENERATOR: Generator | None = None


def _write_object(plan: Plan, index: int, folder: str) -> tuple[int, int, int]:
    global _GENERATOR
    if _GENERATOR is None or _GENERATOR.plan != plan:
        _GENERATOR = Generator(plan)
    body, lines, bad = _GENERATOR.object_bytes(index)
    Path(folder, object_name(index)).write_bytes(body)
    return len(body), lines, bad


def generate(plan: Plan, out: str | Path, jobs: int = 1, progress: bool = True) -> dict:
    """Write every object of ``plan`` under ``out`` (atomically: a temporary folder, then rename)."""
    out = Path(out)
    if out.exists() and any(out.iterdir()):
        raise ConfigError(f"{out} exists and is not empty: remove it or choose another --out")
    tmp = out.with_name(f".{out.name}.tmp-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    started = time.perf_counter()
    totals = np.zeros(3, dtype=np.int64)
    try:
        bar = tqdm(total=plan.objects, unit="obj", desc="generate", disable=not progress)
        if jobs <= 1:
            for i in range(plan.objects):
                totals += _write_object(plan, i, str(tmp))
                bar.update()
        else:
            with ProcessPoolExecutor(max_workers=jobs) as pool:
                for result in pool.map(
                    _write_object, [plan] * plan.objects, range(plan.objects), [str(tmp)] * plan.objects
                ):
                    totals += result
                    bar.update()
        bar.close()
        seconds = time.perf_counter() - started
        meta = asdict(plan) | {
            "bytes": int(totals[0]),
            "lines": int(totals[1]),
            "malformed_lines": int(totals[2]),
            "seconds": round(seconds, 3),
            "jobs": jobs,
        }
        (tmp / META_NAME).write_text(json.dumps(meta, indent=2) + "\n")
        if out.exists():
            out.rmdir()
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp.rename(out)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    log.info(
        "generated %d objects, %.1f MB in %.1f s (%.1f MB/s)",
        plan.objects,
        totals[0] / 1e6,
        seconds,
        totals[0] / 1e6 / seconds,
    )
    return meta
