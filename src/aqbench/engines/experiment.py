"""An experiment: a grid of configurations, each run N times, interleaved (A B C A B C ...).

Interleaving spreads the drift of a shared machine evenly over the configurations. Every
run is verified against the reference of exactly the objects it read, and its line count
reconciled with the manifest; a run that fails verification stops the experiment.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from tqdm import tqdm

from aqbench.aggregates import read_csv
from aqbench.atomic import atomic_path
from aqbench.engines.runs import RunConfig, RunResult, check, environment, write_results
from aqbench.errors import ConfigError, RunFailed
from aqbench.inputs import FetchedObject
from aqbench.kernels import get_kernel
from aqbench.kernels.reference import aggregate_files
from aqbench.storage.stage import Manifest

log = logging.getLogger(__name__)

GRID_KEYS = {"kernel", "memory_mb", "objects_per_call", "reducers", "fraction", "workers", "timeout_s"}
"""Settings a grid may vary; kernel is arrow, seed, or (Dask only) idiomatic."""

RunOnce = Callable[[RunConfig, list[str]], tuple[RunResult, bytes | None]]


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
    engine: str,
    experiment: str,
    configs: list[RunConfig],
    run_once: RunOnce,
    manifest: Manifest,
    references: References,
    out_dir: Path,
    env_extra: dict[str, Any],
) -> list[RunResult]:
    from aqbench.engines.lithops_engine import select_keys

    keys_all = [o.key for o in manifest.objects]
    results: list[RunResult] = []
    (out_dir / "aggregates").mkdir(parents=True, exist_ok=True)
    for cfg in tqdm(configs, desc=f"{engine} {experiment}", unit="run"):
        keys = select_keys(keys_all, cfg.fraction)
        result, merged = run_once(cfg, keys)
        if merged is not None:
            # the idiomatic Dask baseline hands back its result as an Arrow partial
            table, counts = get_kernel("arrow" if cfg.kernel == "idiomatic" else cfg.kernel).finalize(merged)
            result.records_read, result.counts = counts.records_read, counts
            result.records_staged = references.records(keys)
            check(engine, result.run_id, references.table(keys), table, counts, result.records_staged)
            with atomic_path(out_dir / "aggregates" / f"{result.run_id}.parquet") as tmp:
                pq.write_table(table, tmp, compression="zstd")
        log.info("%s %s: %s in %.2f s (%s)", engine, result.run_id, result.status, result.wall_s, result.note)
        results.append(result)
    failed = [r for r in results if r.status == "failed"]
    if failed:  # a timeout is a data point; a failed call is not, and no partial result is kept
        raise RunFailed(
            f"{engine} {experiment}: {len(failed)} of {len(results)} runs failed: "
            + " | ".join(f"{r.run_id}: {r.note}" for r in failed)
        )
    write_results(out_dir, results, environment(env_extra))
    return results
