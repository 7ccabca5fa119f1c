"""The emulated Lambda as a platform any Lithops program can use, not only this study's engine.

Lithops' own localhost backend runs calls with no memory, CPU or network limit and keeps
nothing warm between jobs. :func:`emulated_lambda` (and the verb ``aqbench emulated-lambda``,
which keeps it up until interrupted) starts what the study's Lithops engine runs on: the local
S3 server (SeaweedFS on loopback) with a bucket for Lithops' storage, and the emulated Lambda
service (:mod:`aqbench.emulated.service`) for functions of one memory size: each execution
environment held to M/``mb_per_vcpu`` of a core and M MB (killed above it, as Lambda kills a
function over its memory), its own shaped link where the host allows, kept warm for
``keep_alive_s`` after a call and found warm by the next job. It writes the Lithops
configuration that uses them (``lithops.yaml``), so any program runs unchanged with
``LITHOPS_CONFIG_FILE`` pointing at it: ``FunctionExecutor().map``, ``map_reduce``,
``call_async`` and Lithops' storage API. Lithops' futures say which calls were cold
(``stats["worker_cold_start"]``); a call over its memory size is killed by the environment's memory
group, and Lithops reports it as it does on Lambda (the future's ``error``, a ``MemoryError``: "the
function most likely exceeded the memory available to it"); the service's records count the kills.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aqbench.emulated import cgroups
from aqbench.emulated.network import Network
from aqbench.emulated.service import LambdaService

LOOPBACK_MONITORING_INTERVAL_S = 0.2
"""How often Lithops polls storage for finished calls when the store is on this machine.

Its default (2 s, tuned for cloud object stores that bill requests) added up to two
seconds to each job phase, longer than a whole map phase of the embedded profile."""


@dataclass
class EmulatedLambda:
    """A running platform: the Lithops configuration that uses it, and its parts."""

    memory_mb: int
    workers: int
    config: dict[str, Any]
    config_file: Path
    service: LambdaService
    emulated: bool
    """Whether calls are held to the memory size (False where this host has no writable cgroups)."""

    def killed_by_memory(self) -> int:
        """How many calls so far the memory limit killed."""
        return sum(1 for record in self.service.records.values() if record.oom)


def lithops_config(storage: dict[str, Any], runtime: Path, workers: int, timeout_s: float | None) -> dict[str, Any]:
    """Lithops' configuration for the localhost backend served by the emulated service."""
    config: dict[str, Any] = {
        "lithops": {
            "backend": "localhost",
            "storage": storage["backend"],
            "monitoring_interval": LOOPBACK_MONITORING_INTERVAL_S,
        },
        "localhost": {"runtime": str(runtime), "worker_processes": workers},
        storage["backend"]: dict(storage[storage["backend"]]),
    }
    if timeout_s is not None:
        config["lithops"]["execution_timeout"] = int(timeout_s)
    return config


@contextmanager
def emulated_lambda(
    state_dir: Path,
    memory_mb: int = 1024,
    *,
    workers: int | None = None,
    keep_alive_s: float = 600.0,
    timeout_s: float | None = None,
    network: Network | None = None,
    bucket: str = "lithops",
) -> Iterator[EmulatedLambda]:
    """Start the platform in ``state_dir`` for functions of ``memory_mb``; stop it on exit.

    ``workers``: Lambdas at once (default: as many as fit this host's cores at their CPU share).
    ``timeout_s``: Lambda's timeout per invocation (default: none). ``network``: the links
    (default: unshaped; ``Network()`` gives each environment Lambda's published rate).
    """
    import yaml

    from aqbench.atomic import atomic_path
    from aqbench.storage.s3 import S3Store
    from aqbench.storage.server import LocalS3Server

    state_dir = Path(state_dir).resolve()
    state_dir.mkdir(parents=True, exist_ok=True)
    server = LocalS3Server(state_dir / "s3")
    server.up()
    service = None
    try:
        store = S3Store.for_local_server(server, bucket)
        store.ensure_bucket()
        emulated = cgroups.available()[0]
        workers = workers or (cgroups.max_concurrency(memory_mb) if emulated else (os.cpu_count() or 1))
        network = network or Network(shape=False)
        service = LambdaService(state_dir / "service", keep_alive_s, emulate=True, network=network)
        runtime = service.start()
        service.use_function(memory_mb, "local", places=workers, timeout_s=timeout_s)
        config = lithops_config(store.lithops_storage_config(), runtime, workers, timeout_s)
        config_file = state_dir / "lithops.yaml"
        with atomic_path(config_file) as tmp:
            tmp.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
        yield EmulatedLambda(memory_mb, workers, config, config_file, service, emulated)
    finally:
        (state_dir / "lithops.yaml").unlink(missing_ok=True)  # it names a server that is going away
        if service is not None:
            service.close()
        server.down()
