"""The one run scaffold every engine plugs into, and experiments: grids of runs, interleaved.

What a run is lives here, once: its id and configuration, the objects it reads and how
they are cut into calls, its rows, its notes, the final merge, and the verification of
its aggregates and line count. An :class:`Engine` says only how its calls execute.

Configurations run interleaved (A B C A B C ...), which spreads a shared machine's drift
evenly over them. A run that fails verification stops the experiment.
"""

from __future__ import annotations

import itertools
import logging
import time
from pathlib import Path
from typing import Any, Protocol

import pyarrow as pa
import pyarrow.parquet as pq
from tqdm import tqdm

from aqbench.aggregates import read_csv
from aqbench.atomic import atomic_path
from aqbench.engines.faults import Faults, drain_events
from aqbench.engines.runs import RunConfig, RunResult, check, environment, write_results
from aqbench.errors import ConfigError, RunFailed
from aqbench.inputs import FetchedObject
from aqbench.kernels import get_kernel
from aqbench.kernels.reference import aggregate_files
from aqbench.storage.stage import Manifest

log = logging.getLogger(__name__)

GRID_KEYS = {"kernel", "memory_mb", "objects_per_call", "reducers", "fraction", "workers", "timeout_s"}
"""Settings a grid may vary; kernel is arrow, seed, or (Dask only) idiomatic."""


class Engine(Protocol):
    """How one engine executes a run's calls; everything else about a run is the scaffold's."""

    name: str
    store: Any
    """The object store its calls read (the staged objects)."""

    def emulates(self, cfg: RunConfig) -> bool:
        """Whether this run's calls run in emulated Lambdas (recorded in every row)."""
        ...

    def execute(self, run: RunResult, chunks: list[list[str]], faults: Faults) -> list[bytes] | None:
        """Map every chunk of objects and reduce; return the reducers' partials.

        Sets ``run.started`` (``time.perf_counter()`` when the clock starts), appends a row per
        call to ``run.calls`` (:meth:`RunResult.call_row`) and ``run.bytes``. Returns None when
        the run did not complete, with ``run.status`` (``failed`` or ``timeout``),
        ``run.wall_s`` and ``run.note`` naming the calls.
        """
        ...

    def provenance(self) -> dict[str, Any]:
        """What the environment record should say about this engine's setup (no secrets)."""
        ...


def run_one(engine: Engine, cfg: RunConfig, keys: list[str], faults: Faults) -> tuple[RunResult, bytes | None]:
    """One run of ``cfg`` on the engine; its merged partial (None unless it completed)."""
    run = RunResult.new(engine.name, cfg, keys, engine.emulates(cfg))
    merged = None
    try:
        parts = engine.execute(run, cfg.chunks(keys), faults)
        if parts is not None:
            merged = get_kernel(cfg.partial_kernel).reduce(parts)
            run.wall_s = time.perf_counter() - run.started
    finally:
        run.note = "; ".join(n for n in (run.note, *drain_events()) if n)
    return run, merged


def expand(experiment: str, grid: dict[str, Any], repetitions: int) -> list[RunConfig]:
    """All configurations of the grid, repetition-major: rep 0 of every point, then rep 1, ..."""
    unknown = set(grid) - GRID_KEYS
    if unknown:
        raise ConfigError(f"experiment {experiment}: unknown settings {sorted(unknown)}; allowed: {sorted(GRID_KEYS)}")
    names = sorted(grid)
    values = [grid[n] if isinstance(grid[n], list) else [grid[n]] for n in names]
    points = [dict(zip(names, combo, strict=True)) for combo in itertools.product(*values)]
    return [RunConfig(experiment=experiment, repetition=rep, **point) for rep in range(repetitions) for point in points]


class References:
    """The reference aggregate of the objects a run read: the staged one, or computed for a subset."""

    def __init__(self, full: Path, manifest: Manifest, store: Any):
        self.full, self.manifest, self.store = full, manifest, store
        self._cache: dict[int, pa.Table] = {}

    def records(self, keys: list[str]) -> int:
        wanted = set(keys)
        return sum(o.records for o in self.manifest.objects if o.key in wanted)

    def table(self, keys: list[str]) -> pa.Table:
        n = len(keys)
        if n not in self._cache:
            if n == len(self.manifest.objects):
                self._cache[n] = read_csv(self.full)
            else:
                sources = [FetchedObject(k, lambda k=k: self.store.get(k)) for k in keys]
                self._cache[n] = aggregate_files(sources).aggregates
        return self._cache[n]


def run_experiment(
    engine: Engine,
    experiment: str,
    configs: list[RunConfig],
    faults: Faults,
    manifest: Manifest,
    references: References,
    out_dir: Path,
    env_extra: dict[str, Any],
) -> list[RunResult]:
    """Every configuration in turn, each verified; rows and provenance written only if all completed."""
    keys_all = [o.key for o in manifest.objects]
    results: list[RunResult] = []
    (out_dir / "aggregates").mkdir(parents=True, exist_ok=True)
    for index, cfg in enumerate(tqdm(configs, desc=f"{engine.name} {experiment}", unit="run")):
        keys = cfg.select(keys_all)
        result, merged = run_one(engine, cfg, keys, faults.for_run(index))
        if merged is not None:
            table, counts = get_kernel(cfg.partial_kernel).finalize(merged)
            result.records_read, result.counts = counts.records_read, counts
            result.records_staged = references.records(keys)
            check(engine.name, result.run_id, references.table(keys), table, counts, result.records_staged)
            with atomic_path(out_dir / "aggregates" / f"{result.run_id}.parquet") as tmp:
                pq.write_table(table, tmp, compression="zstd")
        log.info("%s %s: %s in %.2f s (%s)", engine.name, result.run_id, result.status, result.wall_s, result.note)
        results.append(result)
    failed = [r for r in results if r.status == "failed"]
    if failed:  # a timeout is a data point; a failed call is not, and no partial result is kept
        raise RunFailed(
            f"{engine.name} {experiment}: {len(failed)} of {len(results)} runs failed: "
            + " | ".join(f"{r.run_id}: {r.note}" for r in failed)
        )
    write_results(out_dir, results, environment({"engine": engine.name, **engine.provenance(), **env_extra}))
    return results
