"""A what-if job for any user: one Lithops job on Lambda described in a YAML file, simulated.

``aqbench simulate --job JOB.yaml`` reads the fields below (each optional, with the default and
where it comes from), simulates the job ``seeds`` times with the measured calls' spread, and
prints its wall time (median, 10th-90th percentiles), cold starts, peak concurrency, billed
GB-seconds and cost. The projection and the study's runs are such jobs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

import yaml

from aqbench.cost import Prices
from aqbench.errors import ConfigError
from aqbench.scale.calibration import Calibration
from aqbench.scale.model import SEEDS, JobSpec, percentiles, repeat

JOB_FIELDS: dict[str, tuple[Any, str]] = {
    "objects": (2000, "objects the job reads (the study: 50 GB in 25 MB objects)"),
    "object_mb": (25.0, "MB per object (the study's)"),
    "objects_per_call": (1, "objects one activation (map call) merges"),
    "chunksize": (1, "activations per worker, one Lambda invocation running them in turn (Lithops' chunksize)"),
    "memory_mb": (1769, "Lambda memory, 128-10240 MB (1769 MB = one vCPU)"),
    "architecture": ("x86_64", "x86_64 or arm64 (priced at its rate; arm64 at the facts' arm64_speed)"),
    "kernel": ("arrow", "a kernel by name, at its CPU per MB measured by the calibration (arrow, seed, study)"),
    "cpu_s_per_mb": (None, "or CPU seconds per MB on one full Lambda core, which then overrides kernel"),
    "reducers": (8, "hash-partitioned reducers (0: a map-only job, as the study's warm-up)"),
    "fetch_threads": (64, "partials a reducer fetches at once (Lithops' reducer: 64)"),
    "seeds": (SEEDS, "seeded repetitions; the answer is their median and 10th-90th percentiles"),
    "seed": (0, "the first seed: same seed, same answer"),
    "platform": ({}, "overrides of the published facts (workflow/config/lambda_facts.yaml) by name, e.g. "
                     "s3_read_mb_s, account_concurrency, lithops_poll_s, cold_init_s, cpu_ratio (Lambda CPU s per "
                     "calibrating-host CPU s); "
                     "and warm_envs (environments warm at the start, default 0)"),
}  # fmt: skip
"""Every field of a job file: its default and what it means (``aqbench simulate --help`` prints it)."""


@dataclass(frozen=True)
class JobFile:
    objects: int = 2000
    object_mb: float = 25.0
    objects_per_call: int = 1
    chunksize: int = 1
    memory_mb: int = 1769
    architecture: str = "x86_64"
    kernel: str = "arrow"
    cpu_s_per_mb: float | None = None
    reducers: int = 8
    fetch_threads: int = 64
    seeds: int = SEEDS
    seed: int = 0
    platform: dict[str, Any] | None = None

    @classmethod
    def load(cls, path: Path) -> JobFile:
        try:
            data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
        except (OSError, yaml.YAMLError) as exc:
            raise ConfigError(f"job file {path}: {exc}") from exc
        if not isinstance(data, dict):
            raise ConfigError(f"job file {path}: expected a mapping of fields, got {type(data).__name__}")
        unknown = sorted(set(data) - {f.name for f in fields(cls)})
        if unknown:
            raise ConfigError(f"job file {path}: unknown field(s) {unknown}; known: {sorted(JOB_FIELDS)}")
        job = cls(**data)
        if not 128 <= int(job.memory_mb) <= 10240:
            raise ConfigError(f"job file {path}: memory_mb must be within 128-10240, got {job.memory_mb}")
        if job.architecture not in ("x86_64", "arm64"):
            raise ConfigError(f"job file {path}: architecture must be x86_64 or arm64, got {job.architecture!r}")
        for name in ("objects", "objects_per_call", "chunksize", "fetch_threads", "seeds"):
            if int(getattr(job, name)) < 1:
                raise ConfigError(f"job file {path}: {name} must be at least 1, got {getattr(job, name)}")
        return job

    def spec(self) -> JobSpec:
        return JobSpec(int(self.objects), float(self.object_mb), int(self.objects_per_call), int(self.memory_mb),
                       int(self.reducers), chunksize=int(self.chunksize), fetch_threads=int(self.fetch_threads),
                       architecture=self.architecture)  # fmt: skip


def simulate_job(
    job: JobFile, cal: Calibration, facts: dict[str, Any], ranges: dict[str, tuple[float, float]], prices: Prices
) -> dict[str, Any]:
    """The job's wall time, cold starts, peak concurrency, billed GB-s and cost over its seeds."""
    from aqbench.scale.project import job_cost, lambda_cost, lambda_platform, lambda_variation, with_cpu_ratio

    facts, ranges, _ = with_cpu_ratio(cal, facts, ranges)
    overrides = dict(job.platform or {})
    warm = int(overrides.pop("warm_envs", 0))
    unknown = sorted(set(overrides) - set(facts))
    if unknown:
        raise ConfigError(f"job platform: unknown fact(s) {unknown}; known: {sorted(facts)} and warm_envs")
    f = facts | overrides
    platform = replace(lambda_platform(f, cal), warm_envs=warm)
    cost = lambda_cost(cal, f, job.kernel)
    if job.cpu_s_per_mb is not None:
        cost = replace(cost, map_cpu_s_per_mb=float(job.cpu_s_per_mb))
    elif math.isnan(cost.map_cpu_s_per_mb):
        known = sorted(cal.kernel_cpu_s_per_mb) + (["study"] if cal.study_cpu_s_per_mb else [])
        raise ConfigError(f"job kernel {job.kernel!r} was not measured by the calibration: use one of {known} "
                          "or give cpu_s_per_mb")  # fmt: skip
    r = ranges | {k: (float(v), float(v)) for k, v in overrides.items() if k in ("cold_init_s", "warm_start_s")}
    spec = job.spec()
    results = repeat(spec, platform, cost, lambda_variation(cal, f, r), int(job.seeds), int(job.seed))
    wall = percentiles([x.completed_s for x in results])
    usd = percentiles([job_cost(x, spec, spec.architecture, prices) for x in results])
    statuses = sorted({x.status for x in results})
    return {
        "status": statuses[0] if len(statuses) == 1 else "/".join(statuses),
        "runs": len(results),
        "runs_completed": sum(x.status == "success" for x in results),
        "wall_s": {"p10": wall[0], "median": wall[1], "p90": wall[2]},
        "cold_starts": percentiles([x.cold_starts for x in results])[1],
        "peak_concurrency": percentiles([x.peak_concurrency for x in results])[1],
        "gb_s": percentiles([x.gb_seconds(spec.memory_mb) for x in results])[1],
        "cost_usd": {"p10": usd[0], "median": usd[1], "p90": usd[2]},
        "workers": math.ceil(math.ceil(spec.objects / spec.objects_per_call) / spec.chunksize),
        "map_cpu_s_per_mb_on_lambda": cost.map_cpu_s_per_mb,
        "seeds": [x.seed for x in results],
    }


def report(job: JobFile, r: dict[str, Any]) -> str:
    w, c = r["wall_s"], r["cost_usd"]
    wall = (f"{w['median']:.1f} s (p10-p90 {w['p10']:.1f}-{w['p90']:.1f})" if w["median"] == w["median"]
            else f"none: every run stopped ({r['status']})")  # fmt: skip
    return "\n".join([
        f"job: {job.objects} objects of {job.object_mb:g} MB, {job.objects_per_call} per activation, "
        f"chunksize {job.chunksize} ({r['workers']} workers), {job.memory_mb} MB {job.architecture}, "
        f"kernel {job.kernel if job.cpu_s_per_mb is None else f'{job.cpu_s_per_mb} CPU s/MB'}, "
        f"{job.reducers} reducer(s); {r['runs']} seeded runs from seed {job.seed}",
        f"  status        {r['status']} ({r['runs_completed']} of {r['runs']} completed)",
        f"  wall time     {wall}",
        f"  cold starts   {r['cold_starts']:.0f}    peak concurrency {r['peak_concurrency']:.0f}",
        f"  billed        {r['gb_s']:,.0f} GB-s    cost ${c['median']:.4f} (p10-p90 {c['p10']:.4f}-{c['p90']:.4f})",
    ])  # fmt: skip


def fields_help() -> str:
    lines = ["job file fields (YAML; every one optional):"]
    for name, (default, what) in JOB_FIELDS.items():
        lines.append(f"  {name:17s} {what} (default: {default!r})")
    return "\n".join(lines)
