"""What every engine run records, whatever the engine: one tidy row per call, one row per run.

The same columns for every engine (Lithops, Dask, the single machine), in the same units
(``cpu_usage`` in cores), so every metric and figure is computed once. A run
is only counted when its aggregates equal the reference and its line counts reconcile
with the staged manifest; otherwise it fails loudly (:class:`VerificationError`).
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import platform
import subprocess
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from aqbench.aggregates import verify
from aqbench.atomic import atomic_path
from aqbench.errors import VerificationError
from aqbench.openaq import RecordCounts

log = logging.getLogger(__name__)

SETTINGS = (
    "kernel",
    "memory_mb",
    "objects_per_call",
    "chunksize",
    "reducers",
    "fraction",
    "workers",
    "warmup",
    "locality",
)
"""The settings of a configuration that every row records (the grid's keys, but the call timeout);
:class:`RunConfig` has a field for each."""

CALL_COLUMNS = (
    "engine",
    "experiment",
    "run_id",
    "repetition",
    *SETTINGS,
    "emulated",
    "phase",
    "call",
    "invocation",
    "position",
    "status",
    "worker",
    "t_submit",
    "t_start",
    "t_end",
    "duration_s",
    "cold_start",
    "cpu_user_s",
    "cpu_system_s",
    "cpu_usage",
    "peak_rss_mb",
    "net_recv_bytes",
    "net_sent_bytes",
    "result_bytes",
    "objects",
    "bytes_read",
    "bytes_written",
    "retries",
)
"""The tidy per-call columns; engine-specific statistics follow with a prefix (``lithops_``)."""


@dataclass
class RunConfig:
    """One configuration of one experiment (the grid point), as every engine understands it."""

    experiment: str
    kernel: str = "arrow"
    memory_mb: int = 2048
    objects_per_call: int = 1
    """Objects one activation (one map call) reads and merges."""
    reducers: int = 1
    fraction: float = 1.0
    workers: int = 0
    repetition: int = 0
    timeout_s: float = 900.0
    warmup: bool = False
    """Run a warm-up job over the same objects before the measured job, as the study did: one
    object an activation, two activations a worker (``fexec.map(f, objs, chunksize=2)``)."""
    locality: str = "local"
    """Where the data is: ``local`` (the functions' region) or ``remote`` (another region's link)."""
    chunksize: int = 1
    """Activations per worker (one Lambda invocation, which runs them in sequence): Lithops' chunksize.
    Last, so that configurations written positionally before it existed keep their meaning."""

    def label(self) -> str:
        return (
            f"{self.experiment}-{self.kernel}-m{self.memory_mb}-o{self.objects_per_call}"
            f"{f'-c{self.chunksize}' if self.chunksize > 1 else ''}-r{self.reducers}"
            f"-f{self.fraction:g}-w{self.workers}{'-warm' if self.warmup else ''}"
            f"{'-remote' if self.locality == 'remote' else ''}-rep{self.repetition}"
        )

    @property
    def partial_kernel(self) -> str:
        """The kernel whose partials the run's reducers hand back (idiomatic Dask and DuckDB return Arrow's)."""
        return "arrow" if self.kernel in ("idiomatic", "duckdb", "polars") else self.kernel

    def select(self, keys: list[str]) -> list[str]:
        """The first ``fraction`` of the objects (at least one): data-size scaling keeps time order."""
        return keys[: max(1, math.ceil(len(keys) * self.fraction))]

    def chunks(self, keys: list[str]) -> list[list[str]]:
        """The objects of each map call or task, ``objects_per_call`` at a time, in order."""
        return [keys[i : i + self.objects_per_call] for i in range(0, len(keys), self.objects_per_call)]

    def identity(self) -> dict[str, Any]:
        """The grid point's columns, as every call row and run row starts."""
        return {"experiment": self.experiment, "repetition": self.repetition} | {k: getattr(self, k) for k in SETTINGS}


@dataclass
class RunResult:
    """One run of one configuration on one engine: its outcome, its calls' rows, its account."""

    engine: str
    config: RunConfig
    run_id: str
    status: str
    wall_s: float
    objects: int
    bytes: int
    records_read: int
    emulated: bool
    calls: list[dict[str, Any]] = field(default_factory=list)
    note: str = ""
    counts: RecordCounts | None = None
    """The lines' account (read = valid + rejected by reason), once the run is verified."""
    records_staged: int = 0
    started: float = 0.0
    """``time.perf_counter()`` when the engine started the run's clock (wall_s counts from it)."""
    probe_before_mb_s: float | None = None
    probe_after_mb_s: float | None = None
    """The machine's practical limit measured right before and after the run (:mod:`.probe`)."""
    mismatch_by_cause: dict[str, int] | None = None
    """The study kernel's runs: the reference's station-days by what its code made of them."""
    exact: bool = True
    """Whether the engine follows the record specification (False: an idiomatic single-node
    query, whose answer is compared and its differences counted instead of failing the run)."""
    answer_differences: dict[str, int] | None = None
    """A run that is not exact: its answer against the reference (:func:`aqbench.aggregates.answer_differences`)."""

    @classmethod
    def new(cls, engine: str, cfg: RunConfig, keys: list[str], emulated: bool = False) -> RunResult:
        """A run about to start: a unique id (the label and a random suffix), nothing measured yet."""
        run_id = f"{cfg.label()}-{uuid.uuid4().hex[:6]}"
        return cls(engine, cfg, run_id, "ok", 0.0, len(keys), 0, 0, emulated)

    def call_row(self, phase: str, call: int, **columns: Any) -> dict[str, Any]:
        """A per-call row: the run's identity columns, then the call's own (see CALL_COLUMNS)."""
        return {
            "engine": self.engine,
            "run_id": self.run_id,
            **self.config.identity(),
            "emulated": self.emulated,
            "phase": phase,
            "call": call,
            "retries": 0,
            **columns,
        }

    def row(self) -> dict[str, Any]:
        cfg = asdict(self.config)
        return {
            "engine": self.engine,
            "run_id": self.run_id,
            **cfg,
            "status": self.status,
            "wall_s": self.wall_s,
            "objects": self.objects,
            "bytes": self.bytes,
            "records_read": self.records_read,
            "records_staged": self.records_staged,
            "records_valid": self.counts.records_valid if self.counts else None,
            "records_rejected": self.counts.records_rejected if self.counts else None,
            "rejected_by_reason": json.dumps(self.counts.rejected_by_reason, sort_keys=True) if self.counts else None,
            "throughput_mb_s": self.bytes / 1e6 / self.wall_s if self.wall_s > 0 and self.status == "ok" else None,
            "probe_before_mb_s": self.probe_before_mb_s,
            "probe_after_mb_s": self.probe_after_mb_s,
            "calls": len({c.get("call") for c in self.calls if c.get("phase") == "map"}),
            "failed_attempts": sum(1 for c in self.calls if c.get("status") not in ("success", None)),
            "emulated": self.emulated,
            "note": self.note,
            "mismatch_by_cause": json.dumps(self.mismatch_by_cause) if self.mismatch_by_cause else None,
            "exact": self.exact,
            "answer_differences": json.dumps(self.answer_differences) if self.answer_differences else None,
        }


def check(
    engine: str, label: str, expected: pa.Table, staged: RecordCounts, actual: pa.Table, counts: RecordCounts
) -> None:
    """Fail the run unless its aggregates equal the reference and every staged line is accounted
    for: as many read, and as many rejected for each reason, as the staging manifest says."""
    verify(expected, actual, f"{engine} run {label}")
    if counts.records_read != staged.records_read:
        raise VerificationError(
            f"{engine} run {label}: read {counts.records_read} records but the staged objects hold "
            f"{staged.records_read}: {abs(staged.records_read - counts.records_read)} lost or duplicated"
        )
    if counts.rejected_by_reason != staged.rejected_by_reason:
        raise VerificationError(
            f"{engine} run {label}: rejected {counts.rejected_by_reason} but the staged objects' lines "
            f"are {staged.rejected_by_reason}: a kernel departed from the record specification"
        )


def _table(rows: list[dict[str, Any]], first: tuple[str, ...] = ()) -> pa.Table:
    names: list[str] = list(first)
    for row in rows:
        names += [k for k in row if k not in names]
    return pa.Table.from_pylist([{n: r.get(n) for n in names} for r in rows])


def write_results(out_dir: Path, results: list[RunResult], environment: dict[str, Any]) -> None:
    """calls.parquet, runs.parquet and environment.json, each written atomically."""
    out_dir.mkdir(parents=True, exist_ok=True)
    calls = [c for r in results for c in r.calls]
    for name, table in (
        ("calls.parquet", _table(calls, CALL_COLUMNS)),
        ("runs.parquet", _table([r.row() for r in results])),
    ):
        with atomic_path(out_dir / name) as tmp:
            pq.write_table(table, tmp, compression="zstd")
    with atomic_path(out_dir / "environment.json") as tmp:
        tmp.write_text(json.dumps(environment, indent=1) + "\n")


CODE_PATHS = ("src", "workflow", "paper", "runtime", "Snakefile", "Makefile", "pyproject.toml", "requirements.lock")
"""What decides what a run computes: a change outside these (the results a run rewrites) is not
a change of the code."""


def code_version() -> tuple[str, bool]:
    """The checkout's commit, and whether its code differs from it (uncommitted changes under
    :data:`CODE_PATHS`); ("", False) outside a git checkout."""
    root = Path(__file__).resolve().parents[3]
    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, check=False,
                                cwd=root).stdout.strip()  # fmt: skip
        status = subprocess.run(["git", "status", "--porcelain", "--", *CODE_PATHS], capture_output=True,
                                text=True, check=False, cwd=root).stdout.strip()  # fmt: skip
    except OSError:
        return "", False
    return commit, bool(commit and status)


def environment(extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """What the runs ran on: CPU, cores, memory, kernel, Python and packages, commit. No secrets."""
    import importlib.metadata as md
    import os

    import psutil

    cpu = ""
    try:
        cpu = next(
            ln.split(":", 1)[1].strip()
            for ln in Path("/proc/cpuinfo").read_text().splitlines()
            if ln.startswith("model name")
        )
    except (OSError, StopIteration):
        cpu = platform.processor()
    commit, dirty = code_version()
    packages = {}
    for name in ("lithops", "dask", "distributed", "pandas", "pyarrow", "duckdb", "snakemake", "numpy"):
        try:
            packages[name] = md.version(name)
        except md.PackageNotFoundError:
            packages[name] = None
    lock = Path(__file__).resolve().parents[3] / "requirements.lock"
    from aqbench.host_cpu import host

    env = {
        "cpu": cpu,
        **host().as_row(),  # vendor, family, model: what a CPU ratio to another machine is looked up by
        "cores": os.cpu_count(),
        "memory_gb": round(psutil.virtual_memory().total / 2**30, 1),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "packages": packages,
        "commit": commit,
        "dirty": dirty,
        # the exact versions and hashes the environment was installed from (make lock)
        "lock_sha256": hashlib.sha256(lock.read_bytes()).hexdigest() if lock.exists() else None,
    }
    return env | (extra or {})
