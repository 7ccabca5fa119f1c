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
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any, Protocol

import pyarrow as pa
import pyarrow.parquet as pq
from tqdm import tqdm

from aqbench.engines.faults import Faults, drain_events
from aqbench.engines.runs import SETTINGS, RunConfig, RunResult, check, environment, write_results
from aqbench.errors import ConfigError, RunFailed
from aqbench.kernels import VERIFIED, get_kernel
from aqbench.openaq import RecordCounts
from aqbench.storage.stage import Manifest, subset_reference

log = logging.getLogger(__name__)

PARTIAL_PREFIX = ".aggregates-partial-"
"""An experiment's aggregates while it runs: renamed to aggregates/ when every run completed."""

GRID_KEYS = {*SETTINGS, "timeout_s"}
"""Settings a grid may vary; kernel is arrow, seed, or (Dask only) idiomatic."""


class Engine(Protocol):
    """How one engine executes a run's calls; everything else about a run is the scaffold's."""

    name: str

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

    def close(self) -> None:
        """Release what the engine keeps between runs (warm environments): nothing outlives it."""
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
    """The reference of the objects a run read: the merge of their partials.

    The partials were computed at staging from the *source* files, before upload (see
    :mod:`aqbench.storage.stage`): no run is ever checked against the store it read, so a
    damaged object fails every run that reads it, whatever fraction of the data it reads.
    """

    def __init__(self, partials: Path, manifest: Manifest):
        self.partials, self.manifest = pq.read_table(partials), manifest
        self._cache: dict[tuple[str, ...], pa.Table] = {}

    def counts(self, keys: list[str]) -> RecordCounts:
        return self.manifest.counts(keys)

    def table(self, keys: list[str]) -> pa.Table:
        wanted = tuple(keys)
        if wanted not in self._cache:
            self._cache[wanted] = subset_reference(self.partials, keys)
        return self._cache[wanted]


def _probe(manifest: Manifest, store: Any) -> Any:
    """The probe on the largest staged object (read once, checked like every read), or None."""
    if store is None or not manifest.objects:
        return None
    from aqbench.engines.probe import Probe

    biggest = max(manifest.objects, key=lambda o: o.bytes)
    if biggest.key.endswith(".json"):  # the study's layout: no lines for the probe's parse, no ratio quoted
        return None
    return Probe(store.get(biggest.key, biggest.expected))


def _mismatch_note(by_cause: dict[str, int]) -> str:
    from aqbench.kernels.study import EXTRA, summary

    total, wrong, causes, extra = summary(by_cause)
    listed = ", ".join(f"{k} {v}" for k, v in (causes | ({EXTRA: extra} if extra else {})).items())
    return f"study code: {wrong} of {total} station-days differ from the reference ({listed})"


def run_experiment(
    engine: Engine,
    experiment: str,
    configs: list[RunConfig],
    faults: Faults,
    manifest: Manifest,
    references: References,
    out_dir: Path,
    env_extra: dict[str, Any],
    probe_store: Any = None,
) -> list[RunResult]:
    """Every configuration in turn, each verified and bracketed by the machine's probe (when
    ``probe_store`` is given); aggregates, rows and provenance kept only if all completed."""
    out_dir.mkdir(parents=True, exist_ok=True)
    for leftover in out_dir.glob(f"{PARTIAL_PREFIX}*"):  # a killed run's, never renamed into place
        shutil.rmtree(leftover, ignore_errors=True)
    shutil.rmtree(out_dir / "aggregates", ignore_errors=True)  # an earlier run's: not this one's
    # the runs' aggregates go to a folder of their own, renamed into place only if all completed
    partial = Path(tempfile.mkdtemp(prefix=PARTIAL_PREFIX, dir=out_dir))
    try:
        keys_all = [o.key for o in manifest.objects]
        results: list[RunResult] = []
        probe = _probe(manifest, probe_store)
        for index, cfg in enumerate(tqdm(configs, desc=f"{engine.name} {experiment}", unit="run")):
            keys = cfg.select(keys_all)
            before = probe.mb_s() if probe else None
            result, merged = run_one(engine, cfg, keys, faults.for_run(index))
            result.probe_before_mb_s, result.probe_after_mb_s = before, (probe.mb_s() if probe else None)
            if merged is not None:
                table, counts = get_kernel(cfg.partial_kernel).finalize(merged)
                staged = references.counts(keys)
                result.records_read, result.counts, result.records_staged = (
                    counts.records_read,
                    counts,
                    staged.records_read,
                )
                if not result.exact:  # an idiomatic query: its differences counted, its aggregates not kept
                    from aqbench.aggregates import answer_differences, describe_differences

                    result.answer_differences = answer_differences(references.table(keys), table)
                    result.note = "; ".join(
                        n for n in (result.note, describe_differences(result.answer_differences)) if n
                    )
                else:
                    if cfg.partial_kernel in VERIFIED:
                        check(engine.name, result.run_id, references.table(keys), staged, table, counts)
                    else:  # the study's own code: its differences from the reference, counted by cause
                        from aqbench.kernels.study import differences

                        result.mismatch_by_cause = differences(references.table(keys), table)
                        result.note = _mismatch_note(result.mismatch_by_cause)
                    pq.write_table(table, partial / f"{result.run_id}.parquet", compression="zstd")
            log.info("%s %s: %s in %.2f s (%s)", engine.name, result.run_id, result.status, result.wall_s, result.note)
            results.append(result)
        failed = [r for r in results if r.status == "failed"]
        if failed:  # a timeout is a data point; a failed call is not, and no partial result is kept
            raise RunFailed(
                f"{engine.name} {experiment}: {len(failed)} of {len(results)} runs failed: "
                + " | ".join(f"{r.run_id}: {r.note}" for r in failed)
            )
        partial.chmod(0o755)  # mkdtemp's folder is private; the results are not
        partial.rename(out_dir / "aggregates")
        write_results(out_dir, results, environment({"engine": engine.name, **engine.provenance(), **env_extra}))
        return results
    finally:
        shutil.rmtree(partial, ignore_errors=True)  # gone already on success
        engine.close()
