"""The Dask cluster a run uses: a LocalCluster this process starts, or the profile's own cluster.

On a cluster of other hosts (``dask.scheduler_address``) the workers share nothing with this
machine but the network: not its files, not its loopback, not its environment. What they need
(docs/dask-cluster.md): the package at this machine's version (checked here, before a run, so a
mismatch is one line naming the worker instead of a pickling error mid-run), the store at an
address they reach (``dask.store_endpoint``) and credentials from their own standard AWS chain.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from aqbench.engines.runs import RunConfig
from aqbench.errors import ConfigError

log = logging.getLogger(__name__)

CONNECT_TIMEOUT = "30s"

LOST_CLUSTER_GRACE_S = 30.0
"""How long a run waits, once its cluster has no worker left, for one to join before it fails."""

CHECKED_PACKAGES = ("aqbench", "dask", "distributed", "pyarrow")
"""What must be the same version on the workers as here: the tasks' code (aqbench), the cluster's
protocol (dask, distributed) and the partials' format (pyarrow)."""


def connect(cfg: RunConfig, scheduler_address: str | None) -> tuple[Any, Any]:
    """A client on the profile's cluster; (client, cluster-to-close-or-None).

    An unreachable scheduler is a :class:`ConfigError` naming the setting (``aqbench preflight``
    says so before the workflow starts; this is for a scheduler lost since)."""
    from distributed import Client, LocalCluster

    if scheduler_address:
        try:
            return Client(scheduler_address, timeout=CONNECT_TIMEOUT), None
        except OSError as exc:
            raise ConfigError(
                f"dask.scheduler_address {scheduler_address}: cannot connect ({str(exc).splitlines()[0]})"
            ) from None
    workers = cfg.workers or 2
    cluster = LocalCluster(
        n_workers=workers,
        threads_per_worker=1,
        processes=True,
        memory_limit=f"{cfg.memory_mb}MiB",
        dashboard_address=None,
        host="127.0.0.1",
    )
    return Client(cluster), cluster


def wait_for_workers(client: Any, scheduler_address: str, n: int, timeout_s: float = 60.0) -> None:
    """Wait until ``n`` workers have joined the cluster, or a :class:`ConfigError` says how many did."""
    try:
        client.wait_for_workers(n, timeout=timeout_s)
    except TimeoutError:
        joined = len(client.scheduler_info()["workers"])
        raise ConfigError(
            f"dask.scheduler_address {scheduler_address}: {joined} of the run's {n} workers joined in "
            f"{timeout_s:.0f} s: start them, or ask for fewer (the grid's workers)"
        ) from None


def package_versions() -> dict[str, str]:
    """The versions of :data:`CHECKED_PACKAGES` in this process (run on every worker too)."""
    from importlib.metadata import version

    import aqbench

    return {name: (aqbench.__version__ if name == "aqbench" else version(name)) for name in CHECKED_PACKAGES}


def check_workers(client: Any) -> None:
    """Every worker runs the same versions of the checked packages as this machine, or a
    :class:`ConfigError` names the first worker that does not (and what to install)."""
    here = package_versions()
    try:
        theirs = client.run(package_versions)
    except Exception as exc:  # a worker without aqbench cannot even unpickle the function
        raise ConfigError(
            f"dask.scheduler_address: a worker cannot run aqbench ({type(exc).__name__}: {exc}); "
            f"install aqbench {here['aqbench']} on every worker (docs/dask-cluster.md)"
        ) from None
    for worker, versions in sorted(theirs.items()):
        differ = {k: v for k, v in versions.items() if v != here[k]}
        if differ:
            what = ", ".join(f"{k} {v} (here {here[k]})" for k, v in sorted(differ.items()))
            raise ConfigError(
                f"dask worker {worker} runs {what}: install the same versions on every worker (docs/dask-cluster.md)"
            )


class ClusterLost(RuntimeError):
    """Every worker of the cluster was lost mid-run and none joined in time."""


def gather(client: Any, futures: list[Any], grace_s: float | None = None) -> list[Any]:
    """The futures' results, as ``client.gather``; but where the cluster loses every worker (hosts
    lost, nothing left to recompute on), :class:`ClusterLost` after ``grace_s`` without one, naming
    the workers the run had, instead of waiting forever for tasks no worker will run."""
    from distributed import wait

    grace_s = LOST_CLUSTER_GRACE_S if grace_s is None else grace_s
    had = set(client.nthreads())
    empty_since = None
    while True:
        try:
            wait(futures, timeout=1.0)
            return client.gather(futures)
        except TimeoutError:
            pass
        workers = set(client.nthreads())
        had |= workers
        if workers:
            empty_since = None
            continue
        empty_since = empty_since or time.monotonic()
        if time.monotonic() - empty_since > grace_s:
            raise ClusterLost(
                f"every worker of the cluster was lost ({', '.join(sorted(had))}) and none joined in {grace_s:.0f} s"
            )
