"""A Dask cluster of separate hosts on this machine, built from docs/dask-cluster.md's own steps.

Four network namespaces (:mod:`aqbench.emulated.hosts`): the scheduler, two workers and the
store (the project's SeaweedFS server, bound to its host's address); the driver (the tests'
process) stays in this machine's namespace. Each process is started in its host with
``ip netns exec`` from the commands of the page's blocks, so the page's steps are what the
tests run: a step the page changes or drops changes or breaks the cluster.

The scheduler's and workers' hosts do not see the driver's files either: an empty tmpfs is
mounted over the folder holding the cluster's and the tests' files (the store's state, its
credentials file, the data) in their mount namespace (``ip netns exec`` gives each command its
own), so a worker that tried to open the store as the driver does would fail, as on a real cluster.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from string import Template
from typing import Any

from aqbench.emulated.hosts import HostNetwork

REPO = Path(__file__).resolve().parents[1]
PAGE = REPO / "docs" / "dask-cluster.md"
STEPS = {
    "store": "# on the store's host",
    "scheduler": "# on the scheduler's host",
    "worker": "# on each worker's host",
}
"""Each host's block on the page, by the comment it starts with."""
WORKERS = ("worker1", "worker2")
WORKER_MBIT = 625.0
"""The workers' and scheduler's links: Lambda's per-environment rate (the emulation's figure)."""
STORE_MBIT = 2500.0
"""The store's link: a server's, shared by the workers' reads."""


@dataclass
class Step:
    """One host's commands from the page: environment and argv of each, in order."""

    commands: list[tuple[dict[str, str], list[str]]] = field(default_factory=list)


def steps(values: dict[str, str], page: Path = PAGE) -> dict[str, Step]:
    """The page's ``sh`` blocks that start with a host's comment, with ``values`` substituted (a
    ``$NAME`` the page uses and ``values`` lacks raises: page and tests disagree)."""
    found: dict[str, Step] = {}
    for block in re.findall(r"```sh\n(.*?)```", page.read_text(), re.S):
        lines = block.splitlines()
        role = next((r for r, comment in STEPS.items() if lines[0].startswith(comment)), None)
        if role is None:
            continue
        step, env = Step(), {}
        for text in lines[1:]:
            words = shlex.split(Template(text).substitute(values))
            assigned = {}
            while words and re.match(r"^[A-Z_][A-Z0-9_]*=", words[0]):
                name, _, value = words.pop(0).partition("=")
                assigned[name] = value
            if words[:1] == ["export"]:
                env |= dict(w.partition("=")[::2] for w in words[1:])
            elif words:
                step.commands.append((env | assigned, words))
        found[role] = step
    missing = set(STEPS) - set(found)
    if missing:
        raise AssertionError(f"{page.name} has no block for {sorted(missing)}")
    return found


def _beside_python(argv: list[str]) -> list[str]:
    """The page's ``aqbench`` and ``dask`` are this environment's (a host runs what the driver runs)."""
    tool = Path(sys.executable).parent / argv[0]
    return [str(tool) if tool.exists() else argv[0], *argv[1:]]


class Cluster:
    """The hosts, their processes and what the driver needs to use them; :meth:`close` removes all."""

    def __init__(self, root: Path, shape: bool = True):
        self.root = root
        self.state = root / "s3"
        self.hidden = root.parent
        """What the scheduler's and workers' hosts do not see (an empty folder there)."""
        self.logs = root / "logs"
        self.logs.mkdir(parents=True, exist_ok=True)
        rates = {"scheduler": WORKER_MBIT, "store": STORE_MBIT, **dict.fromkeys(WORKERS, WORKER_MBIT)}
        self.network = HostNetwork(["scheduler", *WORKERS, "store"], rates if shape else {})
        self.processes: dict[str, list[subprocess.Popen]] = {}
        try:
            self._start()
        except BaseException:
            self.close()
            raise

    # -- what the driver uses -----------------------------------------------------------------
    @property
    def scheduler_address(self) -> str:
        return f"tcp://{self.network['scheduler'].address}:8786"

    @property
    def store_endpoint(self) -> str:
        from aqbench.storage.server import LocalS3Server

        return LocalS3Server(self.state).endpoint()

    def credentials(self) -> tuple[str, str]:
        from aqbench.storage.server import LocalS3Server

        return LocalS3Server(self.state).credentials()

    def worker_addresses(self) -> dict[str, str]:
        """Host name of each worker, by the address prefix the scheduler knows it at."""
        return {f"tcp://{self.network[name].address}:": name for name in WORKERS}

    # -- processes ------------------------------------------------------------------------------
    def _values(self, host: str) -> dict[str, str]:
        access, secret = self.credentials()
        return {
            "STATE": str(self.state),
            "STORE_HOST": self.network["store"].address,
            "SCHEDULER_HOST": self.network["scheduler"].address,
            "WORKER_HOST": self.network[host].address if host in WORKERS else "",
            "ACCESS_KEY": access,
            "SECRET_KEY": secret,
        }

    def _run(self, host: str, role: str, wait: bool) -> None:
        for i, (env, argv) in enumerate(steps(self._values(host))[role].commands):
            # the hosts' own environment: no AWS_* of the driver's, PYTHONPATH kept (this checkout's code)
            base = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "DASK_"))}
            log = open(self.logs / f"{host}-{i}.log", "ab")  # noqa: SIM115 - the process's own, closed with it
            argv = _beside_python(argv)
            if host != "store":  # the store's host is the driver's machine (docs: s3-local)
                argv = ["sh", "-c", 'mount -t tmpfs tmpfs "$0" && exec "$@"', str(self.hidden), *argv]
            proc = subprocess.Popen(
                self.network[host].command(*argv),
                env=base | env,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
            log.close()
            if wait:
                if proc.wait(timeout=120):
                    raise RuntimeError(f"{argv[:3]} in host {host} exited {proc.returncode}: see {self.logs}")
            else:
                self.processes.setdefault(host, []).append(proc)

    def start_worker(self, name: str) -> None:
        self._run(name, "worker", wait=False)

    def _start(self) -> None:
        self.credentials()  # generated once, before the store starts: the workers' environment needs them
        self._run("store", "store", wait=True)  # returns once the server accepts writes
        self._run("scheduler", "scheduler", wait=False)
        for name in WORKERS:
            self.start_worker(name)
        self.wait_for_workers(len(WORKERS))

    def client(self) -> Any:
        from distributed import Client

        return Client(self.scheduler_address, timeout="30s")

    def wait_for_workers(self, n: int, timeout_s: float = 60.0) -> None:
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                with self.client() as client:
                    client.wait_for_workers(n, timeout=max(1.0, deadline - time.monotonic()))
                    return
            except OSError:  # the scheduler is not listening yet
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)

    def lose(self, name: str) -> None:
        """Host ``name`` lost: its cable cut, then all its processes killed (nothing reaches the scheduler)."""
        self.network.cut(name)
        self.network.kill(name)
        for proc in self.processes.pop(name, []):
            proc.wait(timeout=10)

    def revive(self, name: str) -> None:
        """Host ``name`` back: its cable in again and its worker restarted from the page."""
        self.network.restore(name)
        self.start_worker(name)

    def close(self) -> None:
        """The store stopped, every process of every host killed, the namespaces and links removed."""
        from aqbench.storage.server import LocalS3Server

        try:
            LocalS3Server(self.state).down(timeout=2.0)
        finally:
            self.network.close()
            for procs in self.processes.values():
                for proc in procs:
                    proc.wait(timeout=10)
