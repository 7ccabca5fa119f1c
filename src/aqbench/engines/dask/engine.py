"""The Dask baseline: the same aggregations on a real Dask cluster, two ways.

- ``arrow`` (or ``seed``): the shared kernel's map and merge functions as Dask tasks
  (futures), with a hash-partitioned reduce: the same code Lithops runs, so the
  comparison isolates the engines.
- ``idiomatic``: what a Dask user writes — ``dask.bag.read_text`` over the bucket through
  s3fs, ``json.loads`` per line (a line it cannot read dropped: pandas' and Dask's JSON readers
  stop at the first malformed line), the nested fields extracted, ``to_dataframe`` and
  ``groupby(...).agg(count, sum, max, split_out=R)``. It is not the specification: its answer
  is counted against the reference (the run is not exact), never failed.

The cluster comes from the profile (:mod:`aqbench.engines.dask.cluster`): a ``LocalCluster`` of
worker processes (count and memory per worker from the run's configuration) or any cluster by
scheduler address, whose workers open the store at ``store_endpoint`` (their view of it) with
their own credentials. Per-task rows come from the scheduler's task stream; a row's ``worker``
is the worker's address, so it says which host ran the task.

Under Lambda's terms (``emulate``, a LocalCluster only), each worker process is held to what an
emulated Lambda of the run's memory size gets: its own cgroups (CPU quota of memory/``mb_per_vcpu`` of a
core, memory limit; :mod:`aqbench.emulated.cgroups`) and its own shaped link to the store at Lambda's
per-environment rate (:mod:`aqbench.emulated.network`), and a run with ``workers`` 0 gets as many
workers as emulated Lambdas of that size fit this host's cores at once — the Lithops engine's
concurrency. Shuffles between workers go over the cluster's own connections, not the store's:
they are not shaped (Lithops' partials go through the store, on the shaped links).
"""

from __future__ import annotations

import logging
import os
import time
import uuid
from dataclasses import replace
from typing import Any

import pyarrow as pa

from aqbench.emulated.cgroups import max_concurrency
from aqbench.emulated.network import Network
from aqbench.engines.dask.cluster import ClusterLost, check_workers, connect, gather, wait_for_workers
from aqbench.engines.faults import Faults
from aqbench.engines.runs import RunConfig, RunResult
from aqbench.errors import ConfigError
from aqbench.kernels import warm_up
from aqbench.kernels.partial import PARTIAL_SCHEMA, Partial
from aqbench.lambda_facts import facts
from aqbench.openaq import KEY_COLUMNS, RecordCounts
from aqbench.storage import Expected, StoreSpec

log = logging.getLogger(__name__)


def _enter_lambda(memory_mb: int, group: str, name: str, address: str | None) -> dict[str, Any]:
    """In a worker: hold this process to a Lambda of ``memory_mb`` and, with ``address``, send
    its store connections over that address's shaped link."""
    from aqbench.emulated import cgroups
    from aqbench.emulated import network as lambda_network

    emulation = cgroups.enter(memory_mb, group, name)
    if address:
        lambda_network.bind_connections(address)
    return {"emulated": emulation.emulated, "reason": emulation.reason}


class LambdaTerms:
    """A LocalCluster's workers under emulated Lambda quotas, for one run; undone by :meth:`close`."""

    def __init__(self, client: Any, memory_mb: int, network: Network, run_id: str):
        from aqbench.emulated import network as lambda_network

        self.group = f"dask-{run_id}"
        self.shaper = None
        outcomes = []
        try:
            if network.shape and lambda_network.available()[0]:
                self.shaper = lambda_network.Shaper(os.getpid() + 57)
            for i, worker in enumerate(sorted(client.scheduler_info()["workers"])):
                link = self.shaper.add(i + 1, network.local_mbit) if self.shaper else None
                outcome = client.run(
                    _enter_lambda, memory_mb, self.group, f"w{i}", link.address if link else None, workers=[worker]
                )
                outcomes.append(outcome[worker])
        except BaseException:  # no link class or group is left behind by a half-made setup
            self.close()
            raise
        self.cpu_memory = bool(outcomes) and all(o["emulated"] for o in outcomes)
        self.reason = "; ".join(sorted({o["reason"] for o in outcomes if o["reason"]}))

    @property
    def emulated(self) -> bool:
        return self.cpu_memory and self.shaper is not None

    def close(self) -> None:
        from aqbench.emulated import cgroups

        try:
            if self.shaper is not None:
                self.shaper.close()
                self.shaper = None
        finally:
            cgroups.cleanup(self.group)


def _stream_rows(records: list[dict[str, Any]], run: RunResult, infos: dict[str, dict]) -> list[dict]:
    rows = []
    for i, rec in enumerate(records):
        compute = [s for s in rec.get("startstops", []) if s.get("action") == "compute"]
        transfer = [s for s in rec.get("startstops", []) if s.get("action") == "transfer"]
        if not compute:
            continue
        start, stop = compute[0]["start"], compute[-1]["stop"]
        key = str(rec.get("key"))
        name = key.strip("('").split("-")[0].split("'")[0]
        info = infos.get(key, {})
        rows.append(
            run.call_row(
                "reduce" if "reduce" in name else ("map" if ("map" in name or "read" in name) else name),
                i,
                status="success" if rec.get("status", "OK") == "OK" else "error",
                worker=rec.get("worker"),
                t_submit=start,
                t_start=start,
                t_end=stop,
                duration_s=stop - start,
                cold_start=False,
                peak_rss_mb=info.get("peak_rss_mb"),  # the task's own high-water mark (procstat)
                objects=info.get("objects"),
                bytes_read=info.get("bytes_read"),
                bytes_written=info.get("bytes_written") or rec.get("nbytes"),
                net_recv_bytes=sum(s.get("nbytes", 0) or 0 for s in transfer) or None,
                dask_task=name,
                **{k: v for k, v in info.items() if k.startswith("time_")},
            )
        )
    return rows


def _kernel_run(
    client: Any,
    cfg: RunConfig,
    chunks: list[list[str]],
    spec: str,
    expected: dict[str, Expected],
    retries: int,
    kill_marker: str | None,
) -> tuple[list[bytes], dict[str, dict], int]:
    from aqbench.engines.dask import tasks as t

    maps = [
        client.submit(
            t.map_task,
            spec,
            chunk,
            {k: expected[k] for k in chunk},
            cfg.kernel,
            cfg.reducers,
            kill_marker if i == 0 else None,
            key=f"map-{uuid.uuid4().hex[:8]}-{i}",
            pure=False,
            retries=retries,
        )
        for i, chunk in enumerate(chunks)
    ]
    reduces = []
    for r in range(cfg.reducers):
        parts = [client.submit(t.partition, m, r, key=f"part-{m.key}-{r}", retries=retries) for m in maps]
        reduces.append(
            client.submit(t.reduce_task, cfg.kernel, *parts, key=f"reduce-{uuid.uuid4().hex[:8]}-{r}", retries=retries)
        )
    results = gather(client, reduces)
    infos = {m.key: info for m, (_, info) in zip(maps, gather(client, maps), strict=True)}
    return results, infos, sum(i["bytes_read"] for i in infos.values())


def _idiomatic_run(client: Any, cfg: RunConfig, keys: list[str], store: Any, readers_view: Any) -> tuple[bytes, int]:
    """What a Dask user writes: the objects' lines as a bag, ``json.loads`` (a line it cannot read
    dropped), the nested fields extracted, a dataframe, negative sentinels out, and a group-by
    with ``split_out``. Not the specification (a malformed line vanishes unaccounted, a string
    value is not rejected): its answer is counted against the reference, not failed.

    ``store`` as this machine reads it (object sizes); ``readers_view`` as the workers do (s3fs's
    URLs and options: no credentials in them, where the workers have their own)."""
    import dask
    import dask.bag as db
    import pandas as pd

    from aqbench.engines.dask.tasks import flatten, loads_or_none

    scheme, options = readers_view.fsspec()
    urls = [str(store.root / k) for k in keys] if scheme == "file" else [f"s3://{store.bucket}/{k}" for k in keys]
    meta = pd.DataFrame({"country": pd.Series(dtype=object), "city": pd.Series(dtype=object),
                         "latitude": pd.Series(dtype="float64"), "longitude": pd.Series(dtype="float64"),
                         "day": pd.Series(dtype=object), "parameter": pd.Series(dtype=object),
                         "unit": pd.Series(dtype=object), "value": pd.Series(dtype="float64")})  # fmt: skip
    with dask.config.set({"dataframe.convert-string": False}):
        records = db.read_text(urls, storage_options=options or None).map(loads_or_none).remove(lambda r: r is None)
        frame = records.map(flatten).to_dataframe(meta=meta)
        frame = frame.assign(value=dd_numeric(frame["value"]))
        kept = frame[frame["value"] >= 0]
        grouped = kept.groupby(list(KEY_COLUMNS), dropna=False)["value"].agg(
            ["count", "sum", "max"], split_out=cfg.reducers
        )
        # as futures gathered like the shared kernel's: a cluster that loses every worker ends the run in
        # one line (cluster.gather) instead of a compute that waits forever for workers that never return
        (result,) = gather(client, client.compute([grouped]))
    counts = RecordCounts(records_valid=int(result["count"].sum()))
    table = pa.Table.from_pandas(result.reset_index(), preserve_index=False)
    table = table.set_column(
        table.schema.get_field_index("city"), "city", pa.compute.fill_null(table.column("city").cast(pa.string()), "")
    )
    partial = Partial(table.select(PARTIAL_SCHEMA.names).cast(PARTIAL_SCHEMA), counts)
    size = sum(o.size for k in keys if (o := store.head(k)) is not None)
    return partial.to_ipc(), size


def dd_numeric(values: Any) -> Any:
    """A column's numbers as floats, anything else missing: ``pd.to_numeric(errors="coerce")``
    per partition, as a Dask user writes it."""
    import pandas as pd

    return values.map_partitions(pd.to_numeric, errors="coerce", meta=("value", "float64"))


class DaskEngine:
    """The shared kernel as Dask tasks (or idiomatic Dask) on a LocalCluster or the profile's cluster."""

    name = "dask"

    def __init__(
        self,
        spec: StoreSpec,
        expected: dict[str, Expected],
        scheduler_address: str | None = None,
        retries: int = 0,
        emulate: bool = False,
        network: Network | None = None,
        store_endpoint: str | None = None,
    ):
        """``store_endpoint``: the store as the workers of the cluster at ``scheduler_address`` reach it
        (they open it there with their own credentials); None: they open ``spec`` as this machine does."""
        self.spec, self.expected = spec, expected
        self.scheduler_address, self.retries = scheduler_address or None, retries
        if emulate and self.scheduler_address:
            raise ConfigError(
                "emulate_lambda (Lambda's terms) holds LocalCluster workers only: disable that experiment "
                "(lambda_terms: {enabled: false}) or leave dask.scheduler_address empty"
            )
        if store_endpoint and not self.scheduler_address:
            raise ConfigError(
                "dask.store_endpoint is the store as a cluster's workers reach it: set dask.scheduler_address "
                "too, or leave it empty (a LocalCluster's workers open the store as this machine does)"
            )
        self.emulate, self.network = emulate, network or Network()
        self.store = spec.open()
        self.task_spec = spec.for_workers(store_endpoint) if store_endpoint else spec
        self.readers_view = self.task_spec.open() if store_endpoint else self.store

    def emulates(self, cfg: RunConfig) -> bool:
        return self.emulate

    def provenance(self) -> dict[str, Any]:
        terms = (
            {"lambda_terms": {"cpu_per_mb": 1 / facts().mb_per_vcpu, "network_mbit": self.network.local_mbit}}
            if self.emulate
            else {}
        )
        cluster = {"scheduler_address": "set" if self.scheduler_address else "LocalCluster"}
        if self.task_spec is not self.spec:
            cluster["store_endpoint"] = "set"
        return {**cluster, **terms}

    def close(self) -> None:
        """Nothing kept between runs: each run starts and closes its own cluster client."""

    def execute(self, run: RunResult, chunks: list[list[str]], faults: Faults) -> list[bytes] | None:
        """A task that fails or loses its worker is retried by Dask up to ``retries`` times (a lost
        worker's tasks are recomputed elsewhere); past that, the run fails naming it."""
        from distributed import get_task_stream

        if self.emulate and run.config.kernel == "idiomatic":
            raise ValueError(
                "Lambda's terms hold the shared kernel's reads to a link; idiomatic Dask reads through "
                "s3fs, which the link does not shape: use kernel arrow or seed with emulate_lambda"
            )
        if self.emulate and not run.config.workers:  # as many workers as emulated Lambdas fit the cores
            run.config = replace(run.config, workers=max_concurrency(run.config.memory_mb))
        cfg = run.config
        client, cluster = connect(cfg, self.scheduler_address)
        terms = None
        try:
            if self.scheduler_address:  # the run's workers, if the grid names them (the rows say so)
                wait_for_workers(client, self.scheduler_address, cfg.workers or 1)
                check_workers(client)
            else:
                client.wait_for_workers(cfg.workers or 2, timeout=60)
            if self.emulate:
                terms = LambdaTerms(client, cfg.memory_mb, self.network, run.run_id)
                run.emulated = terms.emulated
                if not terms.emulated:
                    run.note = f"Lambda's terms not fully emulated: {terms.reason or 'no network shaping'}"
            client.run(warm_up)  # a running cluster has its libraries loaded: start the clock after that
            run.started = time.perf_counter()
            with get_task_stream(client) as stream:
                if cfg.kernel == "idiomatic":
                    run.exact = False  # a user's guarded json.loads: its answer is counted, not verified
                    keys = [k for chunk in chunks for k in chunk]
                    merged, run.bytes = _idiomatic_run(client, cfg, keys, self.store, self.readers_view)
                    parts, infos = [merged], {}
                else:
                    marker = faults.dask_kill_marker(run.run_id)
                    try:
                        parts, infos, run.bytes = _kernel_run(
                            client, cfg, chunks, self.task_spec.to_json(), self.expected, self.retries, marker
                        )
                    except ClusterLost as exc:
                        run.status, run.wall_s, run.note = "failed", time.perf_counter() - run.started, str(exc)
                        return None
                    except Exception as exc:  # past Dask's retries: the error names the task (KilledWorker too)
                        run.status, run.wall_s = "failed", time.perf_counter() - run.started
                        run.note = f"a task failed after {self.retries} retries: {type(exc).__name__}: {exc}"[:500]
                        return None
            run.calls = _stream_rows(stream.data, run, infos)
            return parts
        finally:
            try:
                client.close()
                if cluster is not None:
                    cluster.close()
            finally:
                if terms is not None:  # the groups empty once the workers are gone
                    terms.close()
